from __future__ import annotations

import os
import sys
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from admit.core.management.commands.serve import gunicorn_argv
from admit.demo.data import (
    DEMO_MEMBER_PHONE,
    DEMO_PARTNERS,
    DEMO_PASSWORD,
    STAFF,
    demo_load,
    demo_sample_pass,
)


class Command(BaseCommand):
    help = "Set up the demo venue (once) and serve Admit on http://127.0.0.1:PORT."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument(
            "--data-dir",
            default="var",
            help="Where the SQLite database, secret key and static files live.",
        )
        parser.add_argument("--no-serve", action="store_true", help="Set up, then exit.")

    def handle(self, *args: Any, **opts: Any) -> None:
        say = self.stdout.write
        say(f"Data directory: {settings.DATA_DIR}")
        say("Migrating the database …")
        call_command("migrate", interactive=False, verbosity=0)
        say("Loading demo data …")
        created = demo_load(log=lambda m: say(f"  · {m}"))
        if created:
            say("  · a member's annual pass with card A1B2C3D4")
            demo_sample_pass()
        say("  demo data created." if created else "  demo data already present: nothing changed.")
        call_command("collectstatic", interactive=False, verbosity=0)
        base = f"http://{opts['host']}:{opts['port']}"
        say("")
        say(self.style.SUCCESS("Admit demo is ready."))
        say(f"  Home            {base}/")
        say(f"  Back office     {base}/admin/")
        say(f"  API docs        {base}/api/v1/docs")
        say(f"  Agency portal   {base}/agency/   (agent / demo1234)")
        say(f"  Online shop     {base}/shop/   (我的: 张云 signs in with {DEMO_MEMBER_PHONE};")
        say(f"                  the code is not texted but kept in {base}/admin/core/sandboxsms/)")
        say(f"  OpenAPI         {base}/api/v1/openapi.json")
        say("")
        say("  Demo logins (demo only!):")
        say("    admin / admin                (superuser)")
        for username, display, roles in STAFF:
            say(f"    {username} / {DEMO_PASSWORD:<14} ({', '.join(roles)}, {display})")
        say("")
        say("  Partners (demo keys; see docs/partners.md):")
        for code, name, kind, _connector, key, secret in DEMO_PARTNERS:
            credential = f"Bearer {key}" if key else f"account {code}, secret {secret}"
            where = f"{base}/octo/" if kind == "octo" else f"{base}/ota/sandbox/"
            say(f"    {name:<24} {where}  {credential}")
        say("")
        if opts["no_serve"]:
            return
        sys.stdout.flush()
        argv = gunicorn_argv(host=opts["host"], port=opts["port"], workers=2, threads=4)
        os.execv(sys.executable, argv)
