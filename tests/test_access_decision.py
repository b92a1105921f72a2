"""The access decision, a pure function: every rule by example, and invariants by hypothesis."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from admit.access.decision import (
    ALLOW,
    DENY,
    LaneRules,
    Reason,
    Right,
    Scan,
    Usage,
    decide,
)

TZ = dt.timezone(dt.timedelta(hours=8))
DAY = dt.date(2026, 11, 23)
LANE = LaneRules(site_id=1, direction="both", opens=dt.time(8), last_entry=dt.time(16, 30))
TICKET = Right(ticket_id=7, site_id=1, product_id=3, persons=1, valid_from=DAY, valid_until=DAY)


def at(hhmm: str, day: dt.date = DAY) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.fromisoformat(hhmm), tzinfo=TZ)


def scan(hhmm: str = "10:00", direction: str = "in", persons: int = 1, day: dt.date = DAY) -> Scan:
    return Scan(direction=direction, persons=persons, at=at(hhmm, day))


def run(lane, right, scans, usage=None):
    """Apply scans in order, storing the usage each allowed scan returns."""
    out = []
    usage = usage or Usage()
    for s in scans:
        d = decide(lane, right, usage, s)
        if d.usage is not None:
            usage = d.usage
        out.append(d)
    return out, usage


def test_a_single_ticket_admits_once_then_says_used():
    (first, second), usage = run(LANE, TICKET, [scan(), scan("10:01")])
    assert (first.result, first.reason, first.remaining) == (ALLOW, Reason.OK, 0)
    assert (second.result, second.reason) == (DENY, Reason.USED_UP)
    assert second.usage is None and usage.used == 1
    assert first.message("zh") == "请通行 · 剩余0人次"
    assert second.message("en") == "Ticket already used" and second.voice("zh") == "门票已使用"


@pytest.mark.parametrize(
    ("lane", "right", "s", "reason"),
    [
        (replace(LANE, mode="closed"), TICKET, scan(), Reason.LANE_CLOSED),
        (replace(LANE, direction="out"), TICKET, scan(), Reason.WRONG_DIRECTION),
        (replace(LANE, direction="in"), TICKET, scan(direction="out"), Reason.WRONG_DIRECTION),
        (LANE, TICKET, scan(direction="sideways"), Reason.WRONG_DIRECTION),
        (LANE, TICKET, scan(persons=0), Reason.BAD_PERSONS),
        (LANE, TICKET, scan(persons=-3), Reason.BAD_PERSONS),
        (LANE, TICKET, scan(persons=10**9), Reason.BAD_PERSONS),
        (LANE, replace(TICKET, status="refunded"), scan(), Reason.REVOKED),
        (LANE, replace(TICKET, status="voided"), scan(), Reason.REVOKED),
        (LANE, replace(TICKET, status="exchanged"), scan(), Reason.REVOKED),
        (LANE, replace(TICKET, site_id=2), scan(), Reason.WRONG_SITE),
        (LANE, replace(TICKET, covers_zone=False), scan(), Reason.ZONE_NOT_COVERED),
        (replace(LANE, products=frozenset({9})), TICKET, scan(), Reason.PRODUCT_NOT_ADMITTED),
        (
            replace(LANE, categories=frozenset({"senior"})),
            replace(TICKET, category="adult"),
            scan(),
            Reason.CATEGORY_NOT_ADMITTED,
        ),
        (LANE, TICKET, scan(day=DAY - dt.timedelta(days=1)), Reason.NOT_YET_VALID),
        (LANE, TICKET, scan(day=DAY + dt.timedelta(days=1)), Reason.EXPIRED),
        (replace(LANE, closed_today=True), TICKET, scan(), Reason.SITE_CLOSED),
        (LANE, TICKET, scan("07:29"), Reason.OUTSIDE_HOURS),
        (LANE, TICKET, scan("16:31"), Reason.OUTSIDE_HOURS),
        (LANE, TICKET, scan(persons=2), Reason.TOO_MANY_PERSONS),
        (
            LANE,
            replace(TICKET, slot_start=dt.time(13, 30), slot_end=dt.time(15, 30)),
            scan("12:59"),
            Reason.TOO_EARLY,
        ),
        (
            LANE,
            replace(TICKET, slot_start=dt.time(9, 30), slot_end=dt.time(11, 30)),
            scan("11:31"),
            Reason.TOO_LATE,
        ),
    ],
)
def test_each_rule_denies_with_its_own_reason(lane, right, s, reason):
    d = decide(lane, right, Usage(), s)
    assert (d.result, d.reason) == (DENY, reason)
    assert d.usage is None and d.consumed == 0
    assert d.message("zh") and d.message("en") and d.voice("zh") and d.voice("en")


def test_without_a_ticket_the_problem_is_the_reason():
    assert decide(LANE, None, Usage(), scan(), Reason.FORGED).reason == Reason.FORGED
    assert decide(LANE, None, Usage(), scan()).reason == Reason.UNKNOWN_TICKET


def test_emergency_open_lets_everyone_through_and_closed_nobody():
    open_lane = replace(LANE, mode="emergency_open")
    assert decide(open_lane, None, Usage(), scan(), Reason.FORGED).result == ALLOW
    used = Usage(used=1, day=DAY, day_entries=1, inside=1)
    d = decide(open_lane, TICKET, used, scan())
    assert (d.result, d.reason, d.usage) == (ALLOW, Reason.EMERGENCY, None)
    assert decide(replace(LANE, mode="closed"), TICKET, Usage(), scan()).result == DENY


def test_hours_can_be_ignored_on_a_lane_and_exits_are_never_refused():
    d = decide(replace(LANE, enforce_hours=False), TICKET, Usage(), scan("06:00"))
    assert d.result == ALLOW
    d = decide(LANE, TICKET, Usage(used=1, inside=1, day=DAY), scan("23:00", "out"))
    assert (d.result, d.reason, d.usage.inside) == (ALLOW, Reason.EXIT, 0)


def test_slot_tickets_enter_from_half_an_hour_before_their_slot_until_it_ends():
    right = replace(TICKET, slot_start=dt.time(9, 30), slot_end=dt.time(11, 30))
    assert decide(LANE, right, Usage(), scan("09:00")).result == ALLOW
    assert decide(LANE, right, Usage(), scan("11:30")).result == ALLOW
    late = replace(LANE, late_minutes=30)
    assert decide(late, right, Usage(), scan("11:59")).result == ALLOW


def test_a_group_ticket_admits_in_parts_and_shows_what_remains():
    group = replace(TICKET, persons=30)
    (a, b, c, d), usage = run(
        LANE, group, [scan(persons=12), scan(persons=15), scan(persons=4), scan(persons=3)]
    )
    assert [x.result for x in (a, b, c, d)] == [ALLOW, ALLOW, DENY, ALLOW]
    assert (a.remaining, b.remaining) == (18, 3)
    assert c.reason == Reason.TOO_MANY_PERSONS and c.remaining == 3
    assert "剩余3人次" in c.message("zh")
    assert d.remaining == 0 and usage.used == 30 and usage.inside == 30
    assert a.message("zh") == "请通行 · 12人 · 剩余18人次"


def test_reentry_after_exit_the_same_day_is_free_and_not_the_next_day():
    right = replace(TICKET, reentry=True, valid_until=DAY + dt.timedelta(days=1))
    (a, b, c, d), usage = run(
        LANE, right, [scan("09:00"), scan("12:00", "out"), scan("13:00"), scan("14:00")]
    )
    assert [x.reason for x in (a, b, c, d)] == [
        Reason.OK,
        Reason.EXIT,
        Reason.REENTRY,
        Reason.USED_UP,
    ]
    assert c.consumed == 0 and usage.used == 1
    # Out today, back tomorrow: tomorrow is a new day, the exit does not carry over.
    (_a, _b, next_day), _u = run(
        LANE, right, [scan("09:00"), scan("16:00", "out"), scan("09:00", day=DAY + dt.timedelta(1))]
    )
    assert next_day.reason == Reason.USED_UP


def test_without_reentry_an_exit_does_not_give_the_entry_back():
    (_a, _b, c), _u = run(LANE, TICKET, [scan("09:00"), scan("12:00", "out"), scan("13:00")])
    assert c.reason == Reason.USED_UP


def test_a_pass_with_an_entries_per_day_limit():
    year = replace(
        TICKET, entries=None, entries_per_day=2, valid_until=DAY + dt.timedelta(days=364)
    )
    results, _ = run(
        LANE,
        year,
        [scan("09:00"), scan("10:00"), scan("11:00"), scan("09:00", day=DAY + dt.timedelta(1))],
    )
    assert [d.reason for d in results] == [Reason.OK, Reason.OK, Reason.DAY_LIMIT, Reason.OK]
    assert results[0].remaining is None and results[0].remaining_today == 1


def test_anti_passback_needs_an_out_before_the_next_in():
    lane = replace(LANE, anti_passback=True, direction="both")
    year = replace(TICKET, entries=None, valid_until=DAY + dt.timedelta(days=364))
    results, _ = run(
        lane, year, [scan("09:00"), scan("09:01"), scan("12:00", "out"), scan("13:00")]
    )
    assert [d.reason for d in results] == [Reason.OK, Reason.PASSBACK, Reason.EXIT, Reason.OK]
    # Without anti-passback, the same card could be handed back over the turnstile.
    results, _ = run(LANE, year, [scan("09:00"), scan("09:01")])
    assert [d.reason for d in results] == [Reason.OK, Reason.OK]


def test_far_future_or_stale_scan_times_are_refused():
    now = at("10:00")
    future = Scan(direction="in", persons=1, at=now + dt.timedelta(minutes=6), now=now)
    stale = Scan(direction="in", persons=1, at=now - dt.timedelta(days=8), now=now)
    offline = Scan(direction="in", persons=1, at=now - dt.timedelta(hours=2), now=now)
    assert decide(LANE, TICKET, Usage(), future).reason == Reason.SCAN_TIME
    assert decide(LANE, TICKET, Usage(), stale).reason == Reason.SCAN_TIME
    assert decide(LANE, TICKET, Usage(), offline).result == ALLOW


# --- Invariants over any sequence of scans ------------------------------------------------

scans = st.lists(
    st.tuples(
        st.sampled_from(["in", "out"]),
        st.integers(min_value=-1, max_value=12),
        st.integers(min_value=0, max_value=2),  # day offset
        st.integers(min_value=6 * 60, max_value=20 * 60),  # minute of the day
    ),
    max_size=40,
)
rights = st.builds(
    Right,
    ticket_id=st.just(1),
    site_id=st.just(1),
    product_id=st.just(3),
    persons=st.integers(min_value=1, max_value=10),
    valid_from=st.just(DAY),
    valid_until=st.sampled_from([DAY, DAY + dt.timedelta(days=1), None]),
    entries=st.one_of(st.none(), st.integers(min_value=1, max_value=3)),
    entries_per_day=st.one_of(st.none(), st.integers(min_value=1, max_value=2)),
    reentry=st.booleans(),
    slot_start=st.sampled_from([None, dt.time(9, 30)]),
    slot_end=st.just(dt.time(11, 30)),
)
lanes = st.builds(
    LaneRules,
    site_id=st.just(1),
    direction=st.just("both"),
    anti_passback=st.booleans(),
    enforce_hours=st.booleans(),
    opens=st.just(dt.time(8)),
    last_entry=st.just(dt.time(17)),
)


@settings(max_examples=300, deadline=None)
@given(lane=lanes, right=rights, seq=scans)
def test_never_admits_beyond_what_was_bought(lane, right, seq):
    usage = Usage()
    consumed = 0
    per_day: dict[dt.date, int] = {}
    for direction, persons, offset, minute in seq:
        when = dt.datetime.combine(
            DAY + dt.timedelta(days=offset), dt.time(minute // 60, minute % 60), tzinfo=TZ
        )
        d = decide(lane, right, usage, Scan(direction=direction, persons=persons, at=when))
        if d.result == DENY:
            assert d.usage is None and d.consumed == 0
            continue
        assert 1 <= d.persons <= right.persons
        new = d.usage
        assert new is not None and new.inside >= 0 and new.out_today >= 0
        assert new.used - usage.used == d.consumed >= 0
        consumed += d.consumed
        per_day[when.date()] = per_day.get(when.date(), 0) + d.consumed
        if right.limit is not None:
            assert consumed <= right.limit and d.remaining == right.limit - consumed
        if right.entries_per_day is not None:
            assert per_day[when.date()] <= right.entries_per_day * right.persons
        if lane.anti_passback:
            assert new.inside <= right.persons
        if right.valid_until is not None:
            assert when.date() <= right.valid_until
        usage = new
    assert usage.used == consumed
