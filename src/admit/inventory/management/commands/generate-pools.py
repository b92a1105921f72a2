from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand

from admit.catalog.models import Site
from admit.inventory.services import pools_generate


class Command(BaseCommand):
    help = "Create capacity pools from the templates for the coming days (missing ones only)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--days", type=int, default=90)
        parser.add_argument("--site", help="site code (default: every active site)")

    def handle(self, *args: Any, **opts: Any) -> None:
        sites = Site.objects.filter(is_active=True)
        if opts["site"]:
            sites = sites.filter(code=opts["site"])
        for site in sites:
            made = pools_generate(site=site, start=dt.date.today(), days=opts["days"])
            self.stdout.write(
                f"{site.code}: {made} pool(s) created for the next {opts['days']} days."
            )
