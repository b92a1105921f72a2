from __future__ import annotations

import datetime as dt
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from admit.reports.checks import report_problems


class Command(BaseCommand):
    help = (
        "Check that every report aggregate equals the sales, payments, ledgers and scans behind it."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--from", dest="start", type=dt.date.fromisoformat)
        parser.add_argument("--to", dest="end", type=dt.date.fromisoformat)

    def handle(self, *args: Any, **opts: Any) -> None:
        self.stdout.write("Checking report aggregates against the rows behind them …")
        problems = report_problems(opts["start"], opts["end"])
        for p in problems[:200]:
            self.stdout.write(self.style.ERROR(p))
        if problems:
            self.stdout.write(self.style.ERROR(f"{len(problems)} problem(s)."))
            sys.exit(1)
        self.stdout.write(self.style.SUCCESS("OK: every report figure equals its rows."))
