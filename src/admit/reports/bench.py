"""``admit bench reports``: every report, grouped every way it can be, over the last days of
data, timed; and the check of the aggregates against the raw rows, timed.

Run it on a database filled by ``admit gen-history`` (docs/benchmarks.md). The issue's aim is
every report under one second over a year of a 50,000 visitors/day site.
"""

from __future__ import annotations

import datetime as dt
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.db import connection
from django.db.models import Max
from django.test.utils import CaptureQueriesContext

from admit.catalog.models import Site

from .catalog import REPORTS, Filters
from .checks import report_problems
from .models import EntryHour, SalesDay

LIMIT_MS = 1000.0


@dataclass(frozen=True)
class Timing:
    report: str
    group: str
    rows: int
    best_ms: float
    median_ms: float
    queries: int

    @property
    def slow(self) -> bool:
        return self.best_ms > LIMIT_MS or self.median_ms > LIMIT_MS


def last_day(site: Site) -> dt.date:
    """The last business day the site's aggregates hold (today when they hold none)."""
    days = [
        model.objects.filter(site_id=site.pk).aggregate(d=Max("day"))["d"]
        for model in (SalesDay, EntryHour)
    ]
    found = [d for d in days if d is not None]
    return max(found) if found else dt.date.today()


def time_reports(*, site: Site, start: dt.date, end: dt.date, repeat: int) -> list[Timing]:
    out = []
    for code, report in REPORTS.items():
        for group in ["", *(g for g, _label in report.groups)]:
            filters = Filters(site=site, start=start, end=end, group=group)
            seconds = []
            queries = rows = 0
            for i in range(max(repeat, 1)):
                with CaptureQueriesContext(connection) as captured:
                    t0 = time.perf_counter()
                    result = report.run(filters)
                    seconds.append(time.perf_counter() - t0)
                if i == 0:
                    queries, rows = len(captured.captured_queries), len(result.rows)
            out.append(
                Timing(
                    code,
                    group,
                    rows,
                    min(seconds) * 1000,
                    statistics.median(seconds) * 1000,
                    queries,
                )
            )
    return out


def time_check(start: dt.date | None, end: dt.date | None) -> tuple[float, int]:
    t0 = time.perf_counter()
    problems = report_problems(start, end)
    return time.perf_counter() - t0, len(problems)


def run(
    *,
    site: Site,
    days: int,
    repeat: int,
    say: Callable[[str], None] = print,
    check: bool = True,
    end: dt.date | None = None,
) -> list[Timing]:
    end = end or last_day(site)
    start = end - dt.timedelta(days=days - 1)
    say(
        f"Reports of {site.code} over {start} … {end} ({days} days), "
        f"{connection.vendor}, best and median of {repeat}:"
    )
    timings = time_reports(site=site, start=start, end=end, repeat=repeat)
    head = ("report", "group", "rows", "best ms", "median ms", "queries")
    say("  {:<12} {:<10} {:>7} {:>9} {:>10} {:>8}".format(*head))
    for t in timings:
        flag = "  << over 1 s" if t.slow else ""
        say(
            f"  {t.report:<12} {t.group or '-':<10} {t.rows:>7,} {t.best_ms:>9.1f} "
            f"{t.median_ms:>10.1f} {t.queries:>8}{flag}"
        )
    slowest = max(timings, key=lambda t: t.median_ms)
    slow = [t for t in timings if t.slow]
    say(
        f"  {len(timings)} report runs; slowest {slowest.report}/{slowest.group or '-'} "
        f"{slowest.median_ms:.0f} ms (median); "
        + (f"{len(slow)} over 1 s." if slow else "all under 1 s.")
    )
    if check:
        seconds, problems = time_check(end, end)
        say(
            f"  admit check-reports --from {end} --to {end}: {seconds:.1f} s, {problems} problem(s)"
        )
        seconds, problems = time_check(None, None)
        say(f"  admit check-reports (all days): {seconds:.1f} s, {problems} problem(s)")
    return timings
