from __future__ import annotations

import os
import sys
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand


def gunicorn_argv(*, host: str, port: int, workers: int, threads: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "gunicorn",
        "admit.wsgi:application",
        "--bind",
        f"{host}:{port}",
        "--workers",
        str(workers),
        "--threads",
        str(threads),
        "--worker-class",
        "gthread",
        "--access-logfile",
        "-",
        "--graceful-timeout",
        "10",
        "--timeout",
        "60",
    ]


class Command(BaseCommand):
    help = "Serve Admit with gunicorn (a production-grade server)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--host", default=os.environ.get("ADMIT_HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("ADMIT_PORT", "8000")))
        parser.add_argument(
            "--workers",
            type=int,
            default=int(os.environ.get("ADMIT_WORKERS", str((os.cpu_count() or 1) + 1))),
        )
        parser.add_argument(
            "--threads", type=int, default=int(os.environ.get("ADMIT_THREADS", "4"))
        )
        parser.add_argument("--no-collectstatic", action="store_true")

    def handle(self, *args: Any, **opts: Any) -> None:
        if not opts["no_collectstatic"]:
            call_command("collectstatic", interactive=False, verbosity=0)
        argv = gunicorn_argv(
            host=opts["host"], port=opts["port"], workers=opts["workers"], threads=opts["threads"]
        )
        self.stdout.write(
            f"Serving on http://{opts['host']}:{opts['port']}/ "
            f"({opts['workers']} workers × {opts['threads']} threads, "
            f"database: {settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]})"
        )
        sys.stdout.flush()
        os.execv(sys.executable, argv)
