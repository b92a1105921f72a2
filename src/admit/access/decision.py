"""The access decision (放行判断): may these persons pass this lane now? No Django.

``decide`` takes what a gate knows — the lane's rules, the ticket's right to one zone and what
has been used of it, the scan — and returns allow or deny with a reason code, a display text and
a voice prompt in Chinese and English, what remains, and the new usage to store. The same
function runs on the server (online scans) and inside gate software (offline scans).

Counting is in person-entries: a ticket for ``persons`` people with ``entries`` entries has
``persons × entries`` to give in each zone it covers; a scan for k persons uses k of them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from enum import StrEnum

ALLOW, DENY = "allow", "deny"
IN, OUT = "in", "out"
MAX_PERSONS_PER_SCAN = 999
# Scans stamped further ahead than this (a device clock running fast) or older than the
# offline window are refused.
FUTURE_TOLERANCE = dt.timedelta(minutes=5)
OFFLINE_WINDOW = dt.timedelta(days=7)


class Reason(StrEnum):
    OK = "ok"
    EXIT = "exit"
    REENTRY = "reentry"
    EMERGENCY = "emergency_open"
    LANE_CLOSED = "lane_closed"
    WRONG_DIRECTION = "wrong_direction"
    BAD_PERSONS = "bad_persons"
    SCAN_TIME = "scan_time_invalid"
    MALFORMED = "malformed"
    FORGED = "forged"
    UNKNOWN_KEY = "unknown_key"
    UNKNOWN_VERSION = "unknown_version"
    UNKNOWN_TICKET = "unknown_ticket"
    UNKNOWN_MEDIUM = "unknown_medium"
    MEDIUM_NOT_ALLOWED = "medium_not_allowed"
    REVOKED = "revoked"
    FROZEN = "pass_frozen"
    WRONG_SITE = "wrong_site"
    ZONE_NOT_COVERED = "zone_not_covered"
    PRODUCT_NOT_ADMITTED = "product_not_admitted"
    CATEGORY_NOT_ADMITTED = "category_not_admitted"
    NOT_YET_VALID = "not_yet_valid"
    EXPIRED = "expired"
    SITE_CLOSED = "site_closed"
    OUTSIDE_HOURS = "outside_hours"
    TOO_EARLY = "too_early"
    TOO_LATE = "too_late"
    PASSBACK = "passback"
    DAY_LIMIT = "day_limit"
    USED_UP = "used_up"
    TOO_MANY_PERSONS = "too_many_persons"


# reason: (zh display, en display); the voice prompt is the display without the counts.
TEXTS: dict[Reason, tuple[str, str]] = {
    Reason.OK: ("请通行", "Welcome, please pass"),
    Reason.EXIT: ("再见，欢迎再来", "Goodbye, please pass"),
    Reason.REENTRY: ("欢迎回来，请通行", "Welcome back, please pass"),
    Reason.EMERGENCY: ("紧急通行", "Emergency open, please pass"),
    Reason.LANE_CLOSED: ("通道已关闭", "This lane is closed"),
    Reason.WRONG_DIRECTION: ("请走另一方向通道", "Wrong direction for this lane"),
    Reason.BAD_PERSONS: ("人数无效", "Invalid number of persons"),
    Reason.SCAN_TIME: ("设备时间异常", "Scan time is not valid"),
    Reason.MALFORMED: ("无法识别的票码", "Code not recognised"),
    Reason.FORGED: ("无效票码", "Invalid ticket code"),
    Reason.UNKNOWN_KEY: ("无效票码", "Invalid ticket code"),
    Reason.UNKNOWN_VERSION: ("无法识别的票码", "Code not recognised"),
    Reason.UNKNOWN_TICKET: ("查无此票", "Ticket not found"),
    Reason.UNKNOWN_MEDIUM: ("未绑定门票", "No ticket on this card"),
    Reason.MEDIUM_NOT_ALLOWED: (
        "此票不能刷此介质入园",
        "This ticket cannot be used with this card",
    ),
    Reason.REVOKED: ("门票已退或已作废", "Ticket refunded or voided"),
    Reason.FROZEN: ("年卡已冻结，请到售票处", "Pass frozen, please see the ticket office"),
    Reason.WRONG_SITE: ("非本景区门票", "Ticket for another site"),
    Reason.ZONE_NOT_COVERED: ("门票不含此区域", "Ticket does not cover this area"),
    Reason.PRODUCT_NOT_ADMITTED: ("此通道不接受该票种", "Ticket type not admitted here"),
    Reason.CATEGORY_NOT_ADMITTED: ("此通道不接受该类游客", "Visitor category not admitted here"),
    Reason.NOT_YET_VALID: ("门票尚未生效", "Ticket not valid yet"),
    Reason.EXPIRED: ("门票已过期", "Ticket expired"),
    Reason.SITE_CLOSED: ("今日闭园", "Closed today"),
    Reason.OUTSIDE_HOURS: ("不在入园时间", "Outside entry hours"),
    Reason.TOO_EARLY: ("未到预约时段", "Too early for your time slot"),
    Reason.TOO_LATE: ("预约时段已过", "Your time slot has passed"),
    Reason.PASSBACK: ("已入园，请勿重复入园", "Already inside"),
    Reason.DAY_LIMIT: ("今日入园次数已满", "No entries left today"),
    Reason.USED_UP: ("门票已使用", "Ticket already used"),
    Reason.TOO_MANY_PERSONS: ("剩余人数不足", "Not enough persons left on this ticket"),
}


@dataclass(frozen=True)
class LaneRules:
    """What a lane admits (放行规则) and when (放行时间), on the day of the scan."""

    site_id: int
    direction: str = "in"  # the lane's: in, out or both
    mode: str = "normal"  # normal, emergency_open, closed
    products: frozenset[int] | None = None  # None: every product that covers the zone
    categories: frozenset[str] | None = None  # None: every visitor category
    enforce_hours: bool = True
    closed_today: bool = False
    opens: dt.time | None = None
    last_entry: dt.time | None = None
    early_minutes: int = 30  # may enter this long before the opening time or the slot
    late_minutes: int = 0  # may still enter this long after the end of the slot
    anti_passback: bool = False  # no second "in" without an "out"


@dataclass(frozen=True)
class Right:
    """A ticket's right to one zone: what the code (or the database) says of it."""

    ticket_id: int
    site_id: int
    product_id: int
    persons: int
    valid_from: dt.date
    valid_until: dt.date | None
    status: str = "valid"  # valid, used, refunded, exchanged, voided
    category: str | None = None
    slot_start: dt.time | None = None
    slot_end: dt.time | None = None
    covers_zone: bool = True
    entries: int | None = 1  # per person in this zone; None: unlimited
    entries_per_day: int | None = None  # per person
    reentry: bool = False

    @property
    def limit(self) -> int | None:
        return None if self.entries is None else self.entries * self.persons


@dataclass(frozen=True)
class Usage:
    """What has been used of a right. ``day`` is the local date the day counters are for."""

    used: int = 0  # person-entries
    inside: int = 0
    day: dt.date | None = None
    day_entries: int = 0
    out_today: int = 0  # persons who left today and may come back without a new entry

    def on(self, day: dt.date) -> Usage:
        """The usage as seen on ``day``: on a later day the day counters (and who is inside)
        start afresh. (``decide`` refuses entries dated before the last day used.)"""
        if self.day is not None and day <= self.day:
            return self
        return Usage(used=self.used, day=day)


@dataclass(frozen=True)
class Scan:
    direction: str
    persons: int
    at: dt.datetime  # in the site's time zone
    now: dt.datetime | None = None  # when the server (or gate) judges it; default ``at``


@dataclass(frozen=True)
class Decision:
    result: str
    reason: Reason
    persons: int = 0  # persons let through
    usage: Usage | None = None  # the new usage to store; None: nothing changes
    remaining: int | None = None  # person-entries left in this zone; None: unlimited/unknown
    remaining_today: int | None = None
    consumed: int = 0  # person-entries this scan used up

    @property
    def allowed(self) -> bool:
        return self.result == ALLOW

    def message(self, language: str = "zh") -> str:
        text = reason_text(self.reason, language)
        if self.allowed and self.persons > 1:
            text += f" · {self.persons}人" if language.startswith("zh") else f" · {self.persons}"
        if self.remaining is not None and self.reason in (
            Reason.OK,
            Reason.REENTRY,
            Reason.TOO_MANY_PERSONS,
        ):
            text += (
                f" · 剩余{self.remaining}人次"
                if language.startswith("zh")
                else f" · {self.remaining} left"
            )
        return text

    def voice(self, language: str = "zh") -> str:
        return reason_text(self.reason, language)


def reason_text(reason: Reason, language: str = "zh") -> str:
    """What a lane shows and says for ``reason``, in Chinese or English."""
    zh, en = TEXTS[reason]
    return zh if language.startswith("zh") else en


def deny(reason: Reason, **kw: int | None) -> Decision:
    return Decision(DENY, reason, **kw)  # type: ignore[arg-type]


def check_scan(lane: LaneRules, scan: Scan) -> Decision | None:
    """Checks that need no ticket: lane mode, direction, persons, the scan's time."""
    if lane.mode == "closed":
        return deny(Reason.LANE_CLOSED)
    if scan.direction not in (IN, OUT) or lane.direction not in (scan.direction, "both"):
        return deny(Reason.WRONG_DIRECTION)
    if not 1 <= scan.persons <= MAX_PERSONS_PER_SCAN:
        return deny(Reason.BAD_PERSONS)
    now = scan.now or scan.at
    if scan.at > now + FUTURE_TOLERANCE or scan.at < now - OFFLINE_WINDOW:
        return deny(Reason.SCAN_TIME)
    if lane.mode == "emergency_open":
        return Decision(ALLOW, Reason.EMERGENCY, persons=scan.persons)
    return None


def decide(
    lane: LaneRules, right: Right | None, usage: Usage, scan: Scan, problem: Reason | None = None
) -> Decision:
    """Judge one scan. ``right`` is None when the code or medium did not lead to a ticket;
    ``problem`` then says why (malformed, forged, unknown ticket, …)."""
    first = check_scan(lane, scan)
    if first is not None:
        return first
    if right is None:
        return deny(problem or Reason.UNKNOWN_TICKET)
    if right.status in ("refunded", "exchanged", "voided"):
        return deny(Reason.REVOKED)
    if right.status == "frozen":
        return deny(Reason.FROZEN)
    if right.site_id != lane.site_id:
        return deny(Reason.WRONG_SITE)
    if not right.covers_zone:
        return deny(Reason.ZONE_NOT_COVERED)
    if lane.products is not None and right.product_id not in lane.products:
        return deny(Reason.PRODUCT_NOT_ADMITTED)
    if lane.categories is not None and right.category not in lane.categories:
        return deny(Reason.CATEGORY_NOT_ADMITTED)
    today = scan.at.date()
    if today < right.valid_from:
        return deny(Reason.NOT_YET_VALID)
    if right.valid_until is not None and today > right.valid_until:
        return deny(Reason.EXPIRED)
    current = usage.on(today)
    limit = right.limit
    remaining = None if limit is None else max(limit - current.used, 0)
    k = scan.persons
    if k > right.persons:
        return deny(Reason.TOO_MANY_PERSONS, remaining=remaining)

    if scan.direction == OUT:
        # Exits are never refused for a valid ticket: nobody is kept inside.
        left = min(k, current.inside)
        new = replace(
            current,
            inside=current.inside - left,
            out_today=current.out_today + (k if right.reentry else 0),
        )
        return Decision(ALLOW, Reason.EXIT, persons=k, usage=new, remaining=remaining)

    # In.
    if current.day is not None and today < current.day:
        # Dated before a day this ticket was already used on: its day counters are gone, so
        # it cannot be judged (a gate clock gone wrong). Offline uploads are counted apart.
        return deny(Reason.SCAN_TIME, remaining=remaining)
    clock = scan.at.time()
    if lane.enforce_hours:
        if lane.closed_today:
            return deny(Reason.SITE_CLOSED)
        if lane.opens is not None and clock < _minus(lane.opens, lane.early_minutes):
            return deny(Reason.OUTSIDE_HOURS)
        if lane.last_entry is not None and clock > lane.last_entry:
            return deny(Reason.OUTSIDE_HOURS)
    if lane.anti_passback and current.inside + k > right.persons:
        return deny(Reason.PASSBACK, remaining=remaining)
    # Re-entry the same day after an exit is free (where the product allows it).
    back = min(k, current.out_today) if right.reentry else 0
    fresh = k - back
    if fresh and right.slot_start is not None and today == right.valid_from:
        if clock < _minus(right.slot_start, lane.early_minutes):
            return deny(Reason.TOO_EARLY, remaining=remaining)
        if right.slot_end is not None and clock > _plus(right.slot_end, lane.late_minutes):
            return deny(Reason.TOO_LATE, remaining=remaining)
    per_day = None if right.entries_per_day is None else right.entries_per_day * right.persons
    if fresh and per_day is not None and current.day_entries + fresh > per_day:
        return deny(Reason.DAY_LIMIT, remaining=remaining)
    if fresh and remaining is not None and fresh > remaining:
        if remaining == 0:
            return deny(Reason.USED_UP, remaining=0)
        return deny(Reason.TOO_MANY_PERSONS, remaining=remaining)
    new = Usage(
        used=current.used + fresh,
        inside=current.inside + k,
        day=current.day,
        day_entries=current.day_entries + fresh,
        out_today=current.out_today - back,
    )
    left_today = (
        None
        if right.entries_per_day is None
        else right.entries_per_day * right.persons - new.day_entries
    )
    return Decision(
        ALLOW,
        Reason.REENTRY if back and not fresh else Reason.OK,
        persons=k,
        usage=new,
        remaining=None if limit is None else limit - new.used,
        remaining_today=left_today,
        consumed=fresh,
    )


def _minus(t: dt.time, minutes: int) -> dt.time:
    m = max(t.hour * 60 + t.minute - minutes, 0)
    return dt.time(m // 60, m % 60)


def _plus(t: dt.time, minutes: int) -> dt.time:
    m = min(t.hour * 60 + t.minute + minutes, 24 * 60 - 1)
    return dt.time(m // 60, m % 60, 59)
