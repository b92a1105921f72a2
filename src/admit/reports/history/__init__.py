"""``admit gen-history``: a year (or any span) of made-up raw history for a site, to measure
the reports against (issue 8: a 50,000 visitors/day site, ≈ 18 million tickets).

One visit day is one batch in one transaction: its pools (from the capacity templates, scaled
to the size asked for), the windows' shifts, orders placed up to two weeks before, their lines,
places (takes), payments, tickets, refunds and voids with their revocations, the B2B accounts'
ledger entries, and the gates' scans. ``plan`` makes the rows, ``write`` stores them (``COPY`` on
PostgreSQL). Every ``REBUILD_EVERY`` days the report aggregates of the business days that are
complete are rebuilt from those rows (``rebuild.rebuild``), the rest at the end.
"""

from __future__ import annotations

import datetime as dt
import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import F
from django.db.models.functions import Greatest

from admit.catalog.models import Site
from admit.inventory.models import Pool
from admit.sales.models import Order
from admit.tickets.models import Ticket

from .. import rebuild
from .plan import COLUMNS, LEAD_DAYS, TABLES, Ids, Planner, PoolInfo, day_weights
from .venue import Venue, ensure_agencies, load_venue
from .write import Writer, writer_for_connection

REBUILD_EVERY = 30  # visit days between two rebuilds of the aggregates
TEMPLATE_VISITORS = 10_000  # the demo's capacity templates suit about this many a day


@dataclass
class Totals:
    rows: dict[str, int] = field(default_factory=dict)
    visitors: int = 0
    aggregates: int = 0
    seconds: float = 0.0
    rebuild_seconds: float = 0.0

    def add(self, table: str, n: int) -> None:
        self.rows[table] = self.rows.get(table, 0) + n


def _pools(venue: Venue, day: dt.date, scale: float) -> dict[int, list[PoolInfo]]:
    """The day's pools of every zone with a capacity template: those there, or new ones from
    the template's slots with their capacity scaled to the history's size."""
    out: dict[int, list[PoolInfo]] = {}
    have: dict[int, list[Pool]] = {}
    for pool in Pool.objects.filter(site=venue.site, date=day):
        have.setdefault(pool.zone_id, []).append(pool)
    for zone_id in venue.templates:
        pools = have.get(zone_id)
        if not pools:
            try:
                template, slots = venue.template_slots(zone_id, day)
            except LookupError:
                continue
            pools = []
            for slot in slots:
                pool = Pool(
                    site=venue.site,
                    zone_id=zone_id,
                    date=day,
                    start=slot.start,
                    end=slot.end,
                    capacity=math.ceil(slot.capacity * scale),
                    returns_on_refund=template.returns_on_refund,
                    template=template,
                )
                pool.save()
                pools.append(pool)
        out[zone_id] = [
            PoolInfo(
                p.pk,
                p.start.hour * 3600 + p.start.minute * 60 if p.start else None,
                p.end.hour * 3600 + p.end.minute * 60 if p.end else None,
                p.returns_on_refund,
            )
            for p in sorted(pools, key=lambda p: (p.start is not None, p.start or dt.time()))
            if not p.closed
        ]
    return out


def generate(
    *,
    site: Site,
    days: int,
    per_day: int,
    end: dt.date,
    seed: int = 1,
    say: Callable[[str], None] = print,
    writer: Writer | None = None,
) -> Totals:
    """Make ``days`` visit days of history ending on ``end`` with ``per_day`` visitors a day on
    average, then bring the report aggregates of those days up to date."""
    start = end - dt.timedelta(days=days - 1)
    agencies = max(2, min(40, per_day // 1250))
    with transaction.atomic():
        added = ensure_agencies(site, agencies)
    if added:
        say(
            f"Added {added} travel agencies with 3 guides each "
            f"(the site had fewer than {agencies})."
        )
    venue = load_venue(site, start - dt.timedelta(days=LEAD_DAYS + 1), end)
    planner = Planner(venue)
    writer = writer or writer_for_connection()
    dates = [start + dt.timedelta(days=i) for i in range(days)]
    weights = day_weights(venue, dates, random.Random(f"{seed}-{site.code}-weights"))
    scale = max(1.0, per_day / TEMPLATE_VISITORS)
    totals = Totals()
    began = time.monotonic()
    planned_visitors = sum(round(per_day * w) for w in weights)
    visitors_done = 0
    built_to = start - dt.timedelta(days=LEAD_DAYS + 2)  # aggregates rebuilt up to this day

    def rebuild_until(last: dt.date) -> None:
        nonlocal built_to
        if last <= built_to:
            return
        t0 = time.monotonic()
        writer.analyze()
        with transaction.atomic():
            n = rebuild.rebuild(built_to + dt.timedelta(days=1), last, sites=[site])
        took = time.monotonic() - t0
        totals.aggregates += n
        totals.rebuild_seconds += took
        say(
            f"  aggregates of {built_to + dt.timedelta(days=1)} … {last} rebuilt from the rows: "
            f"{n:,} rows in {took:.1f} s"
        )
        built_to = last

    for i, (day, weight) in enumerate(zip(dates, weights, strict=True), start=1):
        t0 = time.monotonic()
        target = round(per_day * weight)
        prefix = f"H{day:%y%m%d}-"
        with transaction.atomic():
            writer.start_batch()
            pools = _pools(venue, day, scale) if target else {}
            ids = Ids(writer.take_ids)
            rows = (
                planner.day(
                    day=day,
                    visitors=target,
                    rng=random.Random(f"{seed}-{site.code}-{day.isoformat()}"),
                    ids=ids,
                    pools=pools,
                    order_seq=Order.objects.filter(code__startswith=prefix).count(),
                    ticket_seq=Ticket.objects.filter(serial__startswith=prefix).count(),
                )
                if target
                else None
            )
            if rows is not None:
                for table in TABLES:
                    writer.write(table, COLUMNS[table], rows.rows[table])
                    totals.add(table, len(rows.rows[table]))
                writer.finish_batch()
                for pool_id, sold in rows.pools.items():
                    if sold:
                        Pool.objects.filter(pk=pool_id).update(
                            sold=F("sold") + sold,
                            capacity=Greatest(
                                F("capacity"), F("held") + F("sold") + F("reserved") + sold
                            ),
                        )
        took = time.monotonic() - t0
        totals.seconds += took
        visitors_done += target
        if rows is not None:
            totals.visitors += rows.visitors
        elapsed = time.monotonic() - began
        left = planned_visitors - visitors_done
        eta = elapsed / visitors_done * left if visitors_done else 0.0
        n = rows.count() if rows is not None else 0
        say(
            f"day {i}/{days} {day}: "
            + (
                f"{rows.visitors:,} visitors, {len(rows.rows['order']):,} orders, "
                f"{len(rows.rows['ticket']):,} tickets, {len(rows.rows['scan']):,} scans; "
                f"{n:,} rows in {took:.1f} s ({n / took if took else 0:,.0f} rows/s)"
                if rows is not None
                else "closed"
            )
            + f"; elapsed {_clock(elapsed)}, ETA {_clock(eta)}"
        )
        if i == 1:
            writer.analyze()
        if i % REBUILD_EVERY == 0:
            rebuild_until(day - dt.timedelta(days=LEAD_DAYS + 1))
    rebuild_until(end)
    return totals


def _clock(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"
