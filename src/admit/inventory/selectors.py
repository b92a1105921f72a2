"""Reads of capacity: what is left for whom."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from django.utils import timezone

from admit.catalog.models import Channel, Product

from .models import Allocation, Pool
from .services import line_pools, remaining_for, slot_ended, slot_zone_pools


@dataclass(frozen=True)
class SlotAvailability:
    pool: Pool | None
    start: dt.time | None
    end: dt.time | None
    remaining: int | None  # None: not capped
    capacity: int | None


def availability(
    *, product: Product, day: dt.date, channel: Channel, now: dt.datetime | None = None
) -> list[SlotAvailability]:
    """Each time slot a buyer can choose for ``product`` on ``day`` (or one entry for the whole
    day), with the places left for ``channel``: the least over the pools a ticket takes.
    The caller makes sure the day's pools exist (``pools_ensure``)."""
    return availability_days(product=product, days=[day], channel=channel, now=now)[day]


def open_slots(
    slots: Sequence[SlotAvailability], *, day: dt.date, now: dt.datetime, time_zone: str
) -> list[SlotAvailability]:
    """``slots`` of ``day`` without those that have ended at ``now`` (see ``slot_ended``):
    what a seller may still offer."""
    return [
        s
        for s in slots
        if not slot_ended(day=day, start=s.start, end=s.end, now=now, time_zone=time_zone)
    ]


def availability_days(
    *,
    product: Product,
    days: Sequence[dt.date],
    channel: Channel,
    now: dt.datetime | None = None,
) -> dict[dt.date, list[SlotAvailability]]:
    """``availability`` for several days, read in two queries whatever the number of days
    (the pools of the product's zones on those days, and their allocations)."""
    now = now or timezone.now()
    if not product.takes_capacity:
        return {day: [SlotAvailability(None, None, None, None, None)] for day in days}
    zones = product.capacity_zones
    by_day: dict[dt.date, list[Pool]] = {day: [] for day in days}
    for pool in Pool.objects.filter(zone__in=zones, date__in=list(by_day)):
        by_day[pool.date].append(pool)
    allocations: dict[int, list[Allocation]] = defaultdict(list)
    if any(by_day.values()):
        for a in Allocation.objects.filter(pool__zone__in=zones, pool__date__in=list(by_day)):
            allocations[a.pool_id].append(a)

    def left(chosen: list[Pool]) -> int | None:
        if not chosen:
            return None
        return min(
            remaining_for(pool=p, channel=channel, allocations=allocations[p.pk], now=now)
            for p in chosen
        )

    out = {}
    for day, pools in by_day.items():
        slots = slot_zone_pools(product=product, pools=pools)
        if not slots:
            chosen = line_pools(product=product, day=day, slot=None, pools=pools)
            day_pool = chosen[0] if chosen else None
            out[day] = [
                SlotAvailability(
                    day_pool, None, None, left(chosen), day_pool.capacity if day_pool else None
                )
            ]
            continue
        out[day] = [
            SlotAvailability(
                slot,
                slot.start,
                slot.end,
                left(line_pools(product=product, day=day, slot=slot, pools=pools)),
                slot.capacity,
            )
            for slot in slots
        ]
    return out
