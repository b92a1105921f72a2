"""Reads of capacity: what is left for whom."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from django.utils import timezone

from admit.catalog.models import Channel, Product

from .models import Allocation, Pool
from .services import line_pools, remaining_for, slot_zone_pools


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
    now = now or timezone.now()
    if not product.takes_capacity:
        return [SlotAvailability(None, None, None, None, None)]
    pools = list(Pool.objects.filter(zone__in=product.capacity_zones, date=day))
    allocations: dict[int, list[Allocation]] = defaultdict(list)
    for a in Allocation.objects.filter(pool__in=pools):
        allocations[a.pool_id].append(a)

    def left(chosen: list[Pool]) -> int | None:
        if not chosen:
            return None
        return min(
            remaining_for(pool=p, channel=channel, allocations=allocations[p.pk], now=now)
            for p in chosen
        )

    slots = slot_zone_pools(product=product, pools=pools)
    if not slots:
        chosen = line_pools(product=product, day=day, slot=None, pools=pools)
        day_pool = chosen[0] if chosen else None
        return [
            SlotAvailability(
                day_pool, None, None, left(chosen), day_pool.capacity if day_pool else None
            )
        ]
    out = []
    for slot in slots:
        chosen = line_pools(product=product, day=day, slot=slot, pools=pools)
        out.append(SlotAvailability(slot, slot.start, slot.end, left(chosen), slot.capacity))
    return out
