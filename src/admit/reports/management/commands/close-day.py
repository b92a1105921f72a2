from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from admit.catalog.models import Site
from admit.core.errors import DomainError
from admit.reports.services import day_close


class Command(BaseCommand):
    help = "Close a business day: its report figures no longer change."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("day", type=dt.date.fromisoformat)
        parser.add_argument("--site", help="site code (default: every site)")

    def handle(self, *args: Any, **opts: Any) -> None:
        sites = Site.objects.all()
        if opts["site"]:
            sites = sites.filter(code=opts["site"])
        for site in sites:
            try:
                day_close(site=site, day=opts["day"], actor=None)
            except DomainError as exc:
                raise CommandError(f"{site}: {exc.message}") from exc
            self.stdout.write(self.style.SUCCESS(f"{site}: {opts['day']} closed."))
