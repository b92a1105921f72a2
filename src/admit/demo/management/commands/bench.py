from __future__ import annotations

import datetime as dt
import os
import platform
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from admit.demo.bench import Result, run_codes, run_sales
from admit.demo.bench_gates import GateResult, run_gates, run_offline


class Command(BaseCommand):
    help = (
        "Measure Admit: `admit bench sales` drives concurrent buyers through HTTP; "
        "`admit bench codes` verifies ticket codes offline on one core; "
        "`admit bench gates` scans tickets online through HTTP and offline on one core; "
        "`admit bench reports` times every report over the data in the database (made by "
        "`admit gen-history`)."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("what", choices=["sales", "codes", "gates", "reports"])
        parser.add_argument("--scanners", type=int, default=16, help="gate clients (gates)")
        parser.add_argument("--tickets", type=int, default=5000, help="tickets to scan (gates)")
        parser.add_argument("--codes", type=int, default=20000, help="codes to verify (codes)")
        parser.add_argument(
            "--database",
            action="append",
            help="sqlite, or a PostgreSQL URL (repeatable). Default: sqlite and "
            "postgres://postgres@127.0.0.1:5432/admit_bench when reachable",
        )
        parser.add_argument("--buyers", type=int, default=16)
        parser.add_argument("--places", type=int, default=2000)
        parser.add_argument("--workers", type=int, default=None)
        parser.add_argument("--threads", type=int, default=None)
        parser.add_argument("--site", help="site code (reports; default: the first site)")
        parser.add_argument("--days", type=int, default=365, help="days of data (reports)")
        parser.add_argument("--repeat", type=int, default=3, help="runs of each report (reports)")
        parser.add_argument(
            "--end",
            type=dt.date.fromisoformat,
            help="last day (reports; default: the last day of data)",
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        if opts["what"] == "reports":
            self._reports(opts)
            return
        if opts["what"] == "codes":
            self.stdout.write(
                f"machine: {platform.platform()}, one core of {os.cpu_count()}, "
                f"Python {platform.python_version()}"
            )
            for line in run_codes(n=opts["codes"], say=self.stdout.write):
                self.stdout.write("  " + line)
            return
        databases = opts["database"] or ["sqlite", _default_postgres()]
        cores = os.cpu_count() or 1
        self.stdout.write(
            f"machine: {platform.platform()}, {cores} cores, Python {platform.python_version()}"
        )
        # One gthread worker per core, two threads each: keep-alive connections (sync workers
        # close every connection), the database wait overlaps, and few enough threads that they
        # do not fight over the interpreter lock (docs/benchmarks.md).
        workers = opts["workers"] or cores
        threads = opts["threads"] or 2
        kept = None
        for database in [d for d in databases if d]:
            result: GateResult | Result
            try:
                if opts["what"] == "gates":
                    result, kept = run_gates(
                        database=database,
                        scanners=opts["scanners"],
                        tickets=opts["tickets"],
                        workers=workers,
                        threads=threads,
                        say=self.stdout.write,
                    )
                else:
                    result = run_sales(
                        database=database,
                        buyers=opts["buyers"],
                        places=opts["places"],
                        workers=workers,
                        threads=threads,
                        say=self.stdout.write,
                    )
            except Exception as exc:
                raise CommandError(f"{database}: {exc}") from exc
            self.stdout.write("")
            for line in result.lines():
                self.stdout.write("  " + line)
            self.stdout.write("")
        if kept is not None:
            for line in run_offline(kept):
                self.stdout.write("  " + line)

    def _reports(self, opts: dict[str, Any]) -> None:
        from admit.catalog.models import Site
        from admit.reports.bench import run

        sites = Site.objects.order_by("pk")
        site = sites.filter(code=opts["site"]).first() if opts["site"] else sites.first()
        if site is None:
            raise CommandError("No such site." if opts["site"] else "No site: run admit demo.")
        if opts["days"] < 1 or opts["repeat"] < 1:
            raise CommandError("--days and --repeat must be at least 1.")
        self.stdout.write(
            f"machine: {platform.platform()}, {os.cpu_count()} cores, "
            f"Python {platform.python_version()}"
        )
        run(
            site=site,
            days=opts["days"],
            repeat=opts["repeat"],
            end=opts["end"],
            say=self.stdout.write,
        )


def _default_postgres() -> str:
    try:
        import psycopg

        with psycopg.connect("postgres://postgres@127.0.0.1:5432/postgres", connect_timeout=2):
            return "postgres://postgres@127.0.0.1:5432/admit_bench"
    except Exception:
        return ""
