"""The pure price resolver, property-tested."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from admit.catalog.calendar import FALLBACK, DayType, day_type_for
from admit.catalog.pricing import PriceRule, periods_overlap, resolve_price

CHANNELS = ["window", "online", "ota"]
BASE = dt.date(2027, 1, 1)

days = st.integers(min_value=0, max_value=60).map(lambda n: BASE + dt.timedelta(days=n))


@st.composite
def rules(draw: st.DrawFn) -> PriceRule:
    start = draw(days)
    length = draw(st.none() | st.integers(min_value=0, max_value=30))
    return PriceRule(
        amount=Decimal(draw(st.integers(min_value=0, max_value=100000))) / 100,
        valid_from=start,
        valid_until=None if length is None else start + dt.timedelta(days=length),
        channel=draw(st.none() | st.sampled_from(CHANNELS)),
        day_type=draw(st.none() | st.sampled_from([d.value for d in DayType])),
        id=draw(st.integers(min_value=1, max_value=10**6)),
    )


def applicable(rule: PriceRule, channel: str, day: dt.date, day_type: DayType) -> bool:
    return (
        rule.effective_on(day)
        and rule.channel in (None, channel)
        and (rule.day_type is None or rule.day_type in FALLBACK[day_type])
    )


@given(
    st.lists(rules(), max_size=12, unique_by=lambda r: r.id),
    st.sampled_from(CHANNELS),
    days,
    st.sampled_from(list(DayType)),
)
def test_result_is_an_applicable_rule_or_none_when_none_applies(rs, channel, day, day_type):
    chosen = resolve_price(rs, channel=channel, day=day, day_type=day_type)
    candidates = [r for r in rs if applicable(r, channel, day, day_type)]
    if not candidates:
        assert chosen is None
    else:
        assert chosen in candidates


@given(
    st.lists(rules(), max_size=12, unique_by=lambda r: r.id),
    st.sampled_from(CHANNELS),
    days,
    st.sampled_from(list(DayType)),
    st.randoms(),
)
def test_order_of_rules_does_not_matter(rs, channel, day, day_type, rnd):
    shuffled = list(rs)
    rnd.shuffle(shuffled)
    assert resolve_price(rs, channel=channel, day=day, day_type=day_type) == resolve_price(
        shuffled, channel=channel, day=day, day_type=day_type
    )


@given(
    st.lists(rules(), max_size=12, unique_by=lambda r: r.id),
    st.sampled_from(CHANNELS),
    days,
    st.sampled_from(list(DayType)),
)
def test_channel_specific_price_beats_any_channel_price(rs, channel, day, day_type):
    chosen = resolve_price(rs, channel=channel, day=day, day_type=day_type)
    if any(applicable(r, channel, day, day_type) and r.channel == channel for r in rs):
        assert chosen is not None and chosen.channel == channel


@given(
    st.lists(rules(), max_size=12, unique_by=lambda r: r.id),
    st.sampled_from(CHANNELS),
    days,
    st.sampled_from(list(DayType)),
)
def test_exact_day_type_beats_fallbacks_within_the_same_channel_rank(rs, channel, day, day_type):
    chosen = resolve_price(rs, channel=channel, day=day, day_type=day_type)
    if chosen is None:
        return
    same_channel = [
        r for r in rs if applicable(r, channel, day, day_type) and r.channel == chosen.channel
    ]
    if any(r.day_type == day_type.value for r in same_channel):
        assert chosen.day_type == day_type.value


def test_the_worked_example():
    rs = [
        PriceRule(Decimal("120"), BASE, channel=None, day_type=None, id=1),
        PriceRule(Decimal("150"), BASE, channel=None, day_type="weekend", id=2),
        PriceRule(Decimal("110"), BASE, channel="online", day_type=None, id=3),
        PriceRule(Decimal("99"), BASE, BASE + dt.timedelta(days=2), channel="ota", id=4),
    ]
    assert resolve_price(rs, channel="window", day=BASE, day_type="weekday").amount == 120
    assert resolve_price(rs, channel="window", day=BASE, day_type="weekend").amount == 150
    # A holiday without a holiday price costs the weekend price.
    assert resolve_price(rs, channel="window", day=BASE, day_type="holiday").amount == 150
    assert resolve_price(rs, channel="online", day=BASE, day_type="weekend").amount == 110
    assert resolve_price(rs, channel="ota", day=BASE, day_type="weekday").amount == 99
    later = BASE + dt.timedelta(days=3)
    assert resolve_price(rs, channel="ota", day=later, day_type="weekday").amount == 120
    assert resolve_price([], channel="ota", day=later, day_type="weekday") is None
    before = BASE - dt.timedelta(days=1)
    assert resolve_price(rs, channel="window", day=before, day_type="weekday") is None


@given(days, st.none() | days, days, st.none() | days)
def test_periods_overlap_matches_day_by_day(a0, a1, b0, b1):
    horizon = [BASE + dt.timedelta(days=n) for n in range(-1, 62)]

    def covers(start, end, d):
        return start <= d and (end is None or d <= end)

    shared = any(covers(a0, a1, d) and covers(b0, b1, d) for d in horizon)
    if (a1 is None or a1 >= a0) and (b1 is None or b1 >= b0):
        assert periods_overlap(a0, a1, b0, b1) == shared
    assert periods_overlap(a0, a1, b0, b1) == periods_overlap(b0, b1, a0, a1)


def test_day_types():
    sat = dt.date(2027, 1, 9)
    assert day_type_for(sat) is DayType.WEEKEND
    assert day_type_for(sat + dt.timedelta(days=2)) is DayType.WEEKDAY
    assert day_type_for(sat, override="holiday") is DayType.HOLIDAY
    # A venue whose quiet day is Monday can count Sunday and Monday as its weekend.
    assert day_type_for(sat, weekend_days=(6, 0)) is DayType.WEEKDAY
