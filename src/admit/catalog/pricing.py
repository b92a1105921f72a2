"""Which price applies to a product on a channel on a date (pure: no Django).

A price rule may name a channel or leave it open (any channel), name a day type or leave it open
(any day), and is effective from a date until an optional date (inclusive). The rule that
applies is the most specific effective one: a channel's own price beats the any-channel price;
within that, the exact day type beats its fallbacks (see ``calendar.FALLBACK``), which beat the
any-day price. Rules of the same product, channel and day type never overlap in time (the
catalog refuses such a pair), so the choice is unique; a tie is still broken deterministically.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from .calendar import FALLBACK, DayType


@dataclass(frozen=True)
class PriceRule:
    amount: Decimal
    valid_from: dt.date
    valid_until: dt.date | None = None
    channel: str | None = None
    day_type: str | None = None
    id: int = 0

    def effective_on(self, day: dt.date) -> bool:
        return self.valid_from <= day and (self.valid_until is None or day <= self.valid_until)


def periods_overlap(
    a_from: dt.date, a_until: dt.date | None, b_from: dt.date, b_until: dt.date | None
) -> bool:
    """Whether two inclusive date ranges (None = open end) share at least one day."""
    return (a_until is None or b_from <= a_until) and (b_until is None or a_from <= b_until)


def _rank(rule: PriceRule, channel: str, chain: tuple[DayType, ...]) -> tuple[int, int] | None:
    if rule.channel is not None and rule.channel != channel:
        return None
    channel_rank = 0 if rule.channel is not None else 1
    if rule.day_type is None:
        day_rank = len(chain)
    elif rule.day_type in chain:
        day_rank = chain.index(DayType(rule.day_type))
    else:
        return None
    return channel_rank, day_rank


def resolve_price(
    rules: Iterable[PriceRule], *, channel: str, day: dt.date, day_type: DayType | str
) -> PriceRule | None:
    """The rule that prices a product on ``channel`` on ``day`` (of ``day_type``), or None."""
    chain = FALLBACK[DayType(day_type)]
    best: tuple[tuple[int, int, int, int], PriceRule] | None = None
    for rule in rules:
        if not rule.effective_on(day):
            continue
        rank = _rank(rule, channel, chain)
        if rank is None:
            continue
        # Later-starting rules win ties; then the lowest id, so the result is order-independent.
        key = (rank[0], rank[1], -rule.valid_from.toordinal(), rule.id)
        if best is None or key < best[0]:
            best = (key, rule)
    return best[1] if best else None
