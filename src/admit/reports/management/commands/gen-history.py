"""``admit gen-history``: made-up raw history for a site, with its report aggregates."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from admit.catalog.models import Site
from admit.reports.facts import site_zone
from admit.reports.history import generate

NAMES = {
    "order": "orders",
    "line": "order lines",
    "take": "places taken (takes)",
    "payment": "payments",
    "ticket": "tickets",
    "refund": "refunds and voids",
    "revocation": "revocations",
    "ledger": "account ledger entries",
    "scan": "scans",
    "shift": "cashier shifts",
}


class Command(BaseCommand):
    help = (
        "Create DAYS days of realistic history (orders, tickets, payments, refunds, scans, …) "
        "for a site, PER-DAY visitors a day on average, ending on --end (default: yesterday), "
        "and rebuild the report aggregates of those days."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--days", type=int, default=365)
        parser.add_argument("--per-day", type=int, default=50_000, help="visitors a day on average")
        parser.add_argument("--site", help="site code (default: the only or first site)")
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--end", type=dt.date.fromisoformat, help="last day (YYYY-MM-DD)")

    def handle(self, *args: Any, **opts: Any) -> None:
        if opts["days"] < 1 or opts["per_day"] < 1:
            raise CommandError("--days and --per-day must be at least 1.")
        sites = Site.objects.order_by("pk")
        site = sites.filter(code=opts["site"]).first() if opts["site"] else sites.first()
        if site is None:
            raise CommandError(
                "No such site." if opts["site"] else "No site yet: load one first (admit demo)."
            )
        end = opts["end"] or timezone.localtime(timezone.now(), site_zone(site.pk)).date() - (
            dt.timedelta(days=1)
        )
        say = self.stdout.write
        say(
            f"History for {site.code}: {opts['days']} days up to {end}, "
            f"{opts['per_day']:,} visitors a day on average, seed {opts['seed']}."
        )
        try:
            totals = generate(
                site=site,
                days=opts["days"],
                per_day=opts["per_day"],
                end=end,
                seed=opts["seed"],
                say=say,
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        say("")
        say(self.style.SUCCESS(f"Done in {totals.seconds + totals.rebuild_seconds:,.0f} s:"))
        say(f"  {totals.visitors:>14,}  visitors")
        for table, name in NAMES.items():
            say(f"  {totals.rows.get(table, 0):>14,}  {name}")
        say(
            f"  {totals.aggregates:>14,}  report aggregate rows "
            f"(rebuilt in {totals.rebuild_seconds:,.0f} s)"
        )
        say("")
        say("Next: `admit check-reports` (aggregates against the rows) and `admit bench reports`.")
