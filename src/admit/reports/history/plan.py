"""One visit day of made-up history as raw rows: orders, lines, payments, tickets, refunds,
takes, ledger entries, shifts and scans.

Pure Python over the ``Venue`` (no queries): the ids come from an ``Ids`` the writer gives, the
rows are tuples in the column order of ``COLUMNS``, so that the same rows go to PostgreSQL by
``COPY`` and to SQLite or MariaDB by ``INSERT``. Every money figure comes from the sales
pricing (``sales.pricing.quote``), so the rows add up as ``admit check-money`` expects, and the
pools' sold counts equal the takes, as ``admit check-capacity`` expects.
"""

from __future__ import annotations

import bisect
import datetime as dt
import json
import math
import random
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal
from functools import lru_cache
from typing import Any

from django.conf import settings

from admit.customers.origin import MUNICIPALITIES, regions
from admit.sales.pricing import LineIn, ManualDiscount, quote

from .venue import LaneInfo, ProductInfo, Venue

FEN = Decimal("0.01")
ZERO = Decimal("0.00")
LEAD_DAYS = 14  # orders are placed at most this many days before the visit

COLUMNS: dict[str, tuple[str, ...]] = {
    "shift": (
        "id",
        "terminal_id",
        "cashier_id",
        "status",
        "open_terminal",
        "open_cashier",
        "opening_float",
        "opened_at",
        "closed_at",
        "expected_cash",
        "counted_cash",
        "difference",
        "close_note",
        "report",
        "confirmed_by_id",
        "confirmed_at",
        "confirm_note",
    ),
    "order": (
        "id",
        "code",
        "site_id",
        "channel_id",
        "status",
        "subtotal",
        "discount",
        "total",
        "currency",
        "coupon_id",
        "manual_discount_reason",
        "contact_name",
        "contact_phone",
        "created_by_id",
        "account_id",
        "shift_id",
        "member_id",
        "guide_id",
        "origin_province",
        "origin_city",
        "placed_at",
        "expires_at",
        "paid_at",
        "closed_at",
    ),
    "line": (
        "id",
        "order_id",
        "product_id",
        "date",
        "slot_id",
        "quantity",
        "persons",
        "unit_price",
        "base",
        "total",
        "adjustments",
        "ticket_prices",
        "replaces_id",
    ),
    "take": ("id", "line_id", "pool_id", "allocation_id", "held", "sold"),
    "payment": (
        "id",
        "order_id",
        "method",
        "provider",
        "provider_txn",
        "amount",
        "tendered",
        "change",
        "reference",
        "actor_label",
        "shift_id",
        "at",
    ),
    "ticket": (
        "id",
        "serial",
        "order_id",
        "line_id",
        "site_id",
        "product_id",
        "status",
        "persons",
        "price",
        "valid_from",
        "valid_until",
        "slot_start",
        "slot_end",
        "entries_allowed",
        "entries_used",
        "holder_name",
        "code",
        "holder_id_number",
        "holder_pass_id",
        "issued_at",
        "changed_at",
    ),
    "refund": (
        "id",
        "order_id",
        "payment_id",
        "method",
        "amount",
        "fee",
        "provider_ref",
        "reason",
        "tickets",
        "actor_label",
        "shift_id",
        "at",
    ),
    "revocation": ("id", "ticket_id", "site_id", "status", "valid_until", "at"),
    "ledger": (
        "id",
        "account_id",
        "book",
        "kind",
        "amount",
        "balance_after",
        "order_id",
        "statement_id",
        "reference",
        "actor_label",
        "at",
    ),
    "scan": (
        "id",
        "lane_id",
        "site_id",
        "zone_key",
        "device_id",
        "operator_id",
        "scan_id",
        "ticket_id",
        "medium",
        "presented",
        "direction",
        "persons",
        "admitted",
        "consumed",
        "result",
        "reason",
        "remaining",
        "remaining_today",
        "scanned_at",
        "received_at",
        "offline",
    ),
}

# Write order (parents first).
TABLES = tuple(COLUMNS)


class Ids:
    """Hands out primary keys; the writer fills it (PostgreSQL: from the tables' sequences)."""

    def __init__(self, take: Callable[[str, int], list[int]]) -> None:
        self._take = take
        self._free: dict[str, list[int]] = defaultdict(list)

    def next(self, table: str) -> int:
        free = self._free[table]
        if not free:
            free.extend(reversed(self._take(table, 2000)))
        return free.pop()


# --- what visitors do (shares and habits) ---------------------------------------------------


@dataclass(frozen=True)
class Segment:
    """A kind of order: a channel and how its buyers behave."""

    name: str
    channel: str
    share: float  # of visitors
    party: tuple[tuple[int, float], ...]  # (persons, weight)
    methods: tuple[tuple[str, float], ...]
    refund: float  # share of orders refunded before the visit
    lead: tuple[tuple[int, int, float], ...]  # (min days, max days, weight) before the visit
    expired: float = 0.0  # share of carts left unpaid
    members: float = 0.0
    manual: float = 0.0  # window discounts
    void: float = 0.0
    group: float = 0.0  # orders that are a group
    account: str = ""  # "agency", or "partner"


RETAIL_PARTY = ((1, 22), (2, 38), (3, 20), (4, 13), (5, 5), (6, 2))
SEGMENTS = (
    Segment(
        "window",
        "window",
        0.20,
        RETAIL_PARTY,
        (("cash", 30), ("card", 15), ("online", 55)),
        refund=0.0,
        lead=((0, 0, 1),),
        members=0.02,
        manual=0.03,
        void=0.006,
        group=0.02,
    ),
    Segment(
        "kiosk",
        "kiosk",
        0.06,
        RETAIL_PARTY[:4],
        (("online", 80), ("card", 20)),
        refund=0.01,
        lead=((0, 0, 1),),
        expired=0.03,
    ),
    Segment(
        "online",
        "online",
        0.24,
        RETAIL_PARTY,
        (("online", 1),),
        refund=0.025,
        lead=((0, 0, 40), (1, 1, 25), (2, 7, 25), (8, 14, 10)),
        expired=0.04,
        members=0.04,
    ),
    Segment(
        "ota",
        "ota",
        0.08,
        RETAIL_PARTY[:5],
        (("online", 1),),
        refund=0.03,
        lead=((0, 0, 30), (1, 1, 25), (2, 7, 30), (8, 14, 15)),
    ),
    Segment(
        "partner",
        "",
        0.17,
        RETAIL_PARTY[:5],
        (("account", 1),),
        refund=0.03,
        lead=((0, 0, 30), (1, 1, 25), (2, 7, 30), (8, 14, 15)),
        account="partner",
    ),
    Segment(
        "agency",
        "agency",
        0.25,
        tuple((n, 1.0) for n in range(12, 46)),
        (("account", 75), ("prepaid", 25)),
        refund=0.01,
        lead=((1, 3, 50), (4, 10, 50)),
        group=0.2,
        account="agency",
    ),
)

RETAIL_MIX = (
    ("adult", 58),
    ("child", 12),
    ("senior", 7),
    ("student", 8),
    ("combo-cable", 12),
)
GROUP_MIX = (("adult", 85), ("child", 8), ("senior", 7))
ADDONS = (("garden", 0.10), ("show", 0.05))
ARRIVAL_SLOT_WEIGHTS = (32, 38, 16, 14)  # by the order of the main zone's time slots
PROVINCE_WEIGHTS = {
    "53": 30,
    "51": 8,
    "44": 9,
    "52": 5,
    "50": 4,
    "31": 5,
    "11": 5,
    "32": 5,
    "33": 5,
    "42": 3,
    "43": 3,
    "45": 3,
    "37": 3,
    "41": 3,
    "35": 2,
    "61": 2,
    "13": 2,
}
NO_SHOW = 0.03
OUT_SCANS = 0.08  # tickets also scanned on the way out
SECOND_TRY = 0.02  # a used ticket shown again: refused
UNKNOWN = 0.004  # codes the gate does not know, per ticket let in


class Picker:
    """Weighted choice by one ``random()`` and a bisection."""

    def __init__(self, items: Sequence[tuple[Any, float]]) -> None:
        self.values = [v for v, _w in items]
        total = float(sum(w for _v, w in items))
        acc, self.cum = 0.0, []
        for _v, w in items:
            acc += w / total
            self.cum.append(acc)
        self.cum[-1] = 1.0

    def __call__(self, rng: random.Random) -> Any:
        return self.values[bisect.bisect_right(self.cum, rng.random())]


class Origins:
    def __init__(self) -> None:
        table = regions()
        provinces = sorted(c for c in table if c.endswith("0000"))
        self.province = Picker([(p, PROVINCE_WEIGHTS.get(p[:2], 0.6)) for p in provinces])
        self.cities: dict[str, Picker | None] = {}
        for p in provinces:
            if p[:2] in MUNICIPALITIES:
                self.cities[p] = None
                continue
            cities = sorted(c for c in table if c[:2] == p[:2] and c != p)
            self.cities[p] = (
                Picker([(c, 4.0 if i == 0 else 1.0 / i) for i, c in enumerate(cities)])
                if cities
                else None
            )

    def __call__(self, rng: random.Random) -> tuple[str, str]:
        province = self.province(rng)
        if province[:2] in MUNICIPALITIES:
            return province, province
        cities = self.cities[province]
        return province, cities(rng) if cities is not None else ""


@lru_cache(maxsize=200_000)
def priced(
    lines: tuple[tuple[int, Decimal, int, int, bool], ...],
    contract: tuple[tuple[int, Decimal], ...],
    member_percent: Decimal,
    manual_percent: Decimal,
    manual_reason: str,
    guide_line: int,
    guide_percent: Decimal,
) -> tuple[Decimal, Decimal, Decimal, tuple[tuple[Decimal, Decimal, Decimal, str, str], ...]]:
    """The sales pricing of a basket: subtotal, discount, total and per line (unit price, base,
    total, adjustments and ticket prices as JSON-ready lists). Cached: most baskets repeat."""
    q = quote(
        [
            LineIn(str(i), pid, price, qty, persons, group)
            for i, (pid, price, qty, persons, group) in enumerate(lines)
        ],
        contract_percent=dict(contract) or None,
        member_prices={
            pid: price * (100 - member_percent) / 100 for pid, price, _q, _p, _g in lines
        }
        if member_percent
        else None,
        manual=ManualDiscount(percent=manual_percent, reason=manual_reason)
        if manual_percent
        else None,
        line_percent={str(guide_line): ("guide", guide_percent)} if guide_line >= 0 else None,
    )
    out = tuple(
        (
            ln.unit_price,
            ln.base,
            ln.total,
            json.dumps(
                [
                    {"kind": a.kind, "label": a.label, "amount": str(a.amount)}
                    for a in ln.adjustments
                ]
            ),
            json.dumps([str(p) for p in ln.ticket_prices]),
        )
        for ln in q.lines
    )
    return q.subtotal, q.discount, q.total, out


@dataclass(eq=False)
class PoolInfo:
    id: int
    start: int | None  # seconds after midnight
    end: int | None
    returns_on_refund: bool
    sold: int = 0


@dataclass
class DayRows:
    rows: dict[str, list[tuple[Any, ...]]] = field(default_factory=lambda: defaultdict(list))
    visitors: int = 0
    pools: dict[int, int] = field(default_factory=lambda: defaultdict(int))  # pool -> sold
    order_seq: int = 0
    ticket_seq: int = 0

    def count(self) -> int:
        return sum(len(r) for r in self.rows.values())


def _fen(value: Decimal) -> Decimal:
    return value.quantize(FEN, rounding=ROUND_HALF_UP)


class Planner:
    """Makes the rows of one visit day at a time for one site."""

    def __init__(self, venue: Venue) -> None:
        self.venue = venue
        self.origins = Origins()
        v = venue
        self.entry_lanes = Picker([(lane, lane.weight) for lane in v.entry_lanes])
        self.exit_lanes = Picker([(lane, lane.weight) for lane in v.exit_lanes])
        self.segments: list[tuple[Segment, str, int, int | None]] = []
        weights = []
        for seg in SEGMENTS:
            party_mean = sum(n * w for n, w in seg.party) / sum(w for _n, w in seg.party)
            if seg.account == "partner":
                choices = [(code, cid, account) for code, cid, account in v.partners]
                if not choices:  # no partners: their buyers book through the OTA channel
                    continue
                for code, cid, account in choices:
                    self.segments.append((seg, code, cid, account))
                    weights.append(seg.share / len(choices) / party_mean)
                continue
            if seg.channel not in v.channels or (seg.account == "agency" and not v.agencies):
                continue
            self.segments.append((seg, seg.channel, v.channels[seg.channel], None))
            weights.append(seg.share / party_mean)
        if not self.segments:
            raise ValueError("the site sells on none of the usual channels")
        self.segment = Picker(list(zip(range(len(self.segments)), weights, strict=True)))
        self.party = {s.name: Picker(s.party) for s in SEGMENTS}
        self.method = {s.name: Picker(s.methods) for s in SEGMENTS}
        self.lead = {s.name: Picker([((a, b), w) for a, b, w in s.lead]) for s in SEGMENTS}
        self.mix: dict[int, Picker | None] = {}
        self.group_mix: dict[int, Picker | None] = {}
        for _seg, _code, cid, _acc in self.segments:
            self.mix[cid] = self._mix(RETAIL_MIX, cid)
            self.group_mix[cid] = self._mix(GROUP_MIX, cid)
        self.products = v.products
        self.by_id = {p.id: p for p in v.products.values()}

    def _mix(self, mix: Sequence[tuple[str, float]], channel_id: int) -> Picker | None:
        found = [
            (self.venue.products[code], w)
            for code, w in mix
            if code in self.venue.products and channel_id in self.venue.products[code].channel_ids
        ]
        if not found:  # another site: its single-person admission products, evenly
            found = [
                (p, 1.0)
                for p in self.venue.products.values()
                if p.kind == "admission" and p.persons == 1 and channel_id in p.channel_ids
            ]
        return Picker(found) if found else None

    # -- one day --------------------------------------------------------------------------

    def day(
        self,
        *,
        day: dt.date,
        visitors: int,
        rng: random.Random,
        ids: Ids,
        pools: dict[int, list[PoolInfo]],
        order_seq: int,
        ticket_seq: int,
    ) -> DayRows:
        v = self.venue
        out = DayRows()
        rows = out.rows
        midnight = dt.datetime.combine(day, dt.time(), tzinfo=v.zone)
        td = dt.timedelta

        def at(seconds: float) -> dt.datetime:
            return midnight + td(seconds=int(seconds))

        site_id = v.site.pk
        main_zone = next(
            (
                z
                for z in pools
                if any(
                    z in p.zone_ids and p.enters_site
                    for p in v.products.values()
                    if p.kind == "admission"
                )
            ),
            None,
        )
        main_slots = sorted(
            (p for p in pools.get(main_zone or 0, []) if p.start is not None),
            key=lambda p: p.start or 0,
        )
        slot_pick = (
            Picker(
                [
                    (p, ARRIVAL_SLOT_WEIGHTS[i] if i < len(ARRIVAL_SLOT_WEIGHTS) else 10)
                    for i, p in enumerate(main_slots)
                ]
            )
            if main_slots
            else None
        )
        hold = td(minutes=settings.ADMIT_HOLD_MINUTES)
        day_text = f"{day:%y%m%d}"

        # The windows' shifts of the day.
        shifts: list[list[Any]] = []
        for user_id, terminal_id, username in v.cashiers:
            shifts.append([ids.next("shift"), terminal_id, user_id, username, ZERO])
        contract: tuple[tuple[int, Decimal], ...] = ()
        if "group" in v.products:
            contract = ((v.products["group"].id, Decimal("10")),)

        ledger: list[list[Any]] = []
        tickets_done = 0
        persons = 0
        misses = 0
        while persons < visitors:
            misses += 1
            if misses > 10_000:
                raise ValueError("no basket could be priced: does the site have prices?")
            index = self.segment(rng)
            seg, channel_code, channel_id, partner_account = self.segments[index]
            mix = self.mix[channel_id]
            if mix is None:
                continue
            account_id = partner_account
            seller = None
            guide_id = None
            shift = None
            if seg.account == "agency":
                account_id, seller, guides = v.agencies[int(rng.random() * len(v.agencies))]
                if guides and rng.random() < 0.75:
                    guide_id = guides[int(rng.random() * len(guides))]
            elif seg.name == "window" and shifts:
                shift = shifts[0] if len(shifts) == 1 or rng.random() < 0.55 else shifts[1]
                seller = shift[2]
            # when they come, and by which lane
            slot = slot_pick(rng) if slot_pick is not None else None
            if slot is not None and slot.start is not None:
                lo = slot.start
                hi = min(slot.end or v.last_entry, v.last_entry)
            else:
                lo, hi = v.opens, v.last_entry
            arrive = rng.triangular(lo, max(hi, lo + 60), lo + (hi - lo) * 0.3)
            lane = self.entry_lanes(rng) if v.entry_lanes else None
            # what they buy
            n = self.party[seg.name](rng)
            units: dict[int, int] = defaultdict(int)  # product -> tickets
            group_line: tuple[ProductInfo, int] | None = None
            is_group = seg.group and rng.random() < seg.group
            if seg.name == "window" and is_group:
                n = 10 + int(rng.random() * 21)
            if is_group and "group" in v.products:
                g = v.products["group"]
                if channel_id in g.channel_ids:
                    group_line = (g, max(g.persons, min(n, g.max_persons)))
            if group_line is None:
                pick = self.group_mix[channel_id] if seg.account == "agency" else mix
                if pick is None:
                    continue
                left = n
                family = v.products.get("family")
                if (
                    family is not None
                    and seg.account != "agency"
                    and left >= 3
                    and channel_id in family.channel_ids
                    and rng.random() < 0.2
                ):
                    units[family.id] += 1
                    left -= family.persons
                for _i in range(left):
                    units[pick(rng).id] += 1
                party_size = n
            else:
                party_size = group_line[1]
            if seg.account != "agency":
                for code, share in ADDONS:
                    addon = v.products.get(code)
                    if (
                        addon is not None
                        and channel_id in addon.channel_ids
                        and rng.random() < share
                    ):
                        units[addon.id] += min(party_size, 6)
            spec: list[tuple[ProductInfo, int, int]] = []  # product, quantity, persons
            if group_line is not None:
                spec.append((group_line[0], 1, group_line[1]))
            for pid in sorted(units):
                product = self.by_id[pid]
                spec.append((product, units[pid], product.persons))
            guide_line = -1
            guide_percent = ZERO
            if guide_id is not None and v.guide_rule is not None:
                gp, percent, min_group = v.guide_rule
                if party_size >= min_group and gp in self.by_id:
                    guide_line = len(spec)
                    guide_percent = percent
                    spec.append((self.by_id[gp], 1, 1))
            basket = []
            for product, qty, per in spec:
                price = v.price(product.id, channel_code, day)
                if price is None:
                    break
                basket.append((product.id, price, qty, per, product.kind == "group"))
            if len(basket) != len(spec) or not basket:
                continue
            member_id = None
            member_percent = ZERO
            if seg.members and v.members and rng.random() < seg.members:
                member_id, member_percent = v.members[int(rng.random() * len(v.members))]
            manual_percent, manual_reason = ZERO, ""
            if seg.manual and v.presets and rng.random() < seg.manual:
                manual_reason, manual_percent = v.presets[int(rng.random() * len(v.presets))]
            subtotal, discount, total, lines = priced(
                tuple(basket),
                contract if seg.account == "agency" else (),
                member_percent,
                manual_percent,
                manual_reason,
                guide_line,
                guide_percent,
            )
            if total <= 0:
                continue
            misses = 0
            # when they order and pay
            lo_days, hi_days = self.lead[seg.name](rng)
            lead = lo_days + int(rng.random() * (hi_days - lo_days + 1))
            if lead == 0:
                if seg.name in ("window", "kiosk"):
                    placed = arrive - 300 - rng.random() * 600  # paid before they pass
                else:
                    placed = arrive - 600 - rng.random() * max(arrive - 600 - 6 * 3600, 600)
            else:
                placed = -lead * 86400 + rng.triangular(8 * 3600, 23 * 3600, 20 * 3600)
            expired = bool(seg.expired) and rng.random() < seg.expired
            paid = placed + 30 + rng.random() * 240
            order_seq += 1
            order_id = ids.next("order")
            province, city = ("", "")
            if seg.name in ("window", "kiosk") and rng.random() < 0.15:
                pass  # paid at the window without a phone or ID: unknown origin
            else:
                province, city = self.origins(rng)
            rows["order"].append(
                (
                    order_id,
                    f"H{day_text}-{order_seq:06d}",
                    site_id,
                    channel_id,
                    "expired" if expired else "paid",
                    subtotal,
                    discount,
                    total,
                    "CNY",
                    None,
                    manual_reason[:200],
                    "",
                    "",
                    seller,
                    account_id,
                    shift[0] if shift else None,
                    member_id,
                    guide_id,
                    province,
                    city,
                    at(placed),
                    at(placed) + hold,
                    None if expired else at(paid),
                    at(placed) + hold if expired else None,
                )
            )
            # lines, their places and tickets
            refunded = not expired and seg.refund and rng.random() < seg.refund
            voided = not expired and shift is not None and seg.void and rng.random() < seg.void
            gone = refunded or voided
            order_tickets: list[tuple[int, ProductInfo, Decimal, int, PoolInfo | None]] = []
            for (product, qty, per), (unit, base, line_total, adjust, prices) in zip(
                spec, lines, strict=True
            ):
                line_id = ids.next("line")
                taken = []
                line_slot: PoolInfo | None = None
                for zone_id in product.zone_ids:
                    zone_pools = pools.get(zone_id, [])
                    day_pool = [p for p in zone_pools if p.start is None]
                    timed = [p for p in zone_pools if p.start is not None]
                    chosen = day_pool[:1]
                    if timed:
                        match = (
                            slot
                            if slot is not None and slot in timed
                            else next(
                                (p for p in timed if slot is not None and p.start == slot.start),
                                timed[0],
                            )
                        )
                        chosen.append(match)
                        if line_slot is None:
                            line_slot = match
                    taken += chosen
                rows["line"].append(
                    (
                        line_id,
                        order_id,
                        product.id,
                        day,
                        line_slot.id if line_slot else None,
                        qty,
                        per,
                        unit,
                        base,
                        line_total,
                        adjust,
                        prices,
                        None,
                    )
                )
                if expired:
                    continue
                head = qty * per
                for pool in taken:
                    sold = 0 if gone and pool.returns_on_refund else head
                    rows["take"].append((ids.next("take"), line_id, pool.id, None, 0, sold))
                    out.pools[pool.id] += sold
                ticket_prices = [Decimal(p) for p in _json_list(prices)]
                for price in ticket_prices:
                    order_tickets.append((line_id, product, price, per, line_slot))
            if expired:
                continue
            # money
            method = "account" if seg.account == "partner" else self.method[seg.name](rng)
            payment_id = ids.next("payment")
            tendered = change = None
            if method == "cash":
                step = Decimal(100) if total > 50 else Decimal(50)
                tendered = (total / step).to_integral_value(rounding=ROUND_CEILING) * step
                change = tendered - total
                if shift is not None:
                    shift[4] += total
            actor = shift[3] if shift else ""
            rows["payment"].append(
                (
                    payment_id,
                    order_id,
                    method,
                    "history" if method == "online" else "",
                    None,
                    total,
                    tendered,
                    change,
                    "",
                    actor,
                    shift[0] if shift else None,
                    at(paid),
                )
            )
            if method in ("account", "prepaid") and account_id is not None:
                book = "credit" if method == "account" else "prepaid"
                ledger.append(
                    [
                        paid,
                        account_id,
                        book,
                        "charge" if book == "credit" else "draw",
                        total if book == "credit" else -total,
                        order_id,
                        actor,
                    ]
                )
            # tickets
            valid_scan = not gone
            ticket_rows = rows["ticket"]
            refund_at = None
            if voided:
                refund_at = paid + 60 + rng.random() * 240
            elif refunded:  # before they come
                refund_at = paid + 600 + rng.random() * max(arrive - 1800 - paid - 600, 0)
            ids_of_order = []
            k = 0
            for line_id, product, price, per, slot_of_line in order_tickets:
                ticket_seq += 1
                tid = ids.next("ticket")
                ids_of_order.append((tid, product, price, per))
                entered = valid_scan and rng.random() >= NO_SHOW
                status = (
                    "refunded"
                    if gone
                    else ("used" if entered and product.entries == 1 else "valid")
                )
                ticket_rows.append(
                    (
                        tid,
                        f"H{day_text}-{ticket_seq:07d}",
                        order_id,
                        line_id,
                        site_id,
                        product.id,
                        status,
                        per,
                        price,
                        day,
                        day,
                        _time(slot_of_line.start) if slot_of_line else None,
                        _time(slot_of_line.end) if slot_of_line else None,
                        product.entries,
                        1 if entered else 0,
                        "",
                        "",
                        "",
                        None,
                        at(paid),
                        at(refund_at) if gone and refund_at is not None else None,
                    )
                )
                if gone:
                    rows["revocation"].append(
                        (ids.next("revocation"), tid, site_id, "refunded", day, at(refund_at or 0))
                    )
                    continue
                if entered:
                    k += 1
                    self._scans(
                        rows["scan"], rng, ids, at, tid, product, per, arrive + k * 3, lane, pools
                    )
                    tickets_done += 1
            if gone:
                assert refund_at is not None
                fee = ZERO
                amount = ZERO
                for _tid, product, price, _per in ids_of_order:
                    if refunded and product.refund_fee_percent:
                        fee += _fen(price * product.refund_fee_percent / 100)
                    amount += price
                rows["refund"].append(
                    (
                        ids.next("refund"),
                        order_id,
                        payment_id,
                        method,
                        amount - fee,
                        fee,
                        "",
                        "void" if voided else "refund",
                        json.dumps([t[0] for t in ids_of_order]),
                        actor,
                        shift[0] if voided and shift else None,
                        at(refund_at),
                    )
                )
                if method == "cash" and voided and shift is not None:
                    shift[4] -= amount - fee
                if method in ("account", "prepaid") and account_id is not None and amount > fee:
                    book = "credit" if method == "account" else "prepaid"
                    ledger.append(
                        [
                            refund_at,
                            account_id,
                            book,
                            "refund",
                            -(amount - fee) if book == "credit" else amount - fee,
                            order_id,
                            actor,
                        ]
                    )
            else:
                persons += sum(t[3] for t in ids_of_order if t[1].enters_site)
        out.visitors = persons

        # codes the gates did not know
        for _i in range(int(tickets_done * UNKNOWN) if v.entry_lanes else 0):
            gate_lane = self.entry_lanes(rng)
            when = at(rng.uniform(v.opens, v.last_entry))
            rows["scan"].append(
                _scan(
                    ids.next("scan"),
                    gate_lane,
                    site_id,
                    None,
                    "qr",
                    "in",
                    1,
                    0,
                    0,
                    "deny",
                    "unknown_ticket",
                    None,
                    when,
                    when,
                    False,
                )
            )
        self._ledger_rows(rows["ledger"], ledger, ids, day, at)
        # shifts, opened before the site opens and confirmed after it closes
        cash_float = Decimal("500.00")
        for shift_id, terminal_id, user_id, _name, cash in shifts:
            expected = cash_float + cash
            rows["shift"].append(
                (
                    shift_id,
                    terminal_id,
                    user_id,
                    "confirmed",
                    None,
                    None,
                    cash_float,
                    at(v.opens - 1800),
                    at(v.closes + 1800),
                    expected,
                    expected,
                    ZERO,
                    "",
                    None,
                    v.supervisor_id,
                    at(v.closes + 2700) if v.supervisor_id else None,
                    "",
                )
            )
        out.order_seq, out.ticket_seq = order_seq, ticket_seq
        return out

    def _scans(
        self,
        scans: list[tuple[Any, ...]],
        rng: random.Random,
        ids: Ids,
        at: Callable[[float], dt.datetime],
        ticket_id: int,
        product: ProductInfo,
        persons: int,
        arrive: float,
        lane: LaneInfo | None,
        pools: dict[int, list[PoolInfo]],
    ) -> None:
        v = self.venue
        site_id = v.site.pk
        medium = product.medium
        remaining = (product.entries - 1) if product.entries else None
        if product.enters_site and lane is not None:
            when = arrive + rng.random() * 3
            scans.append(
                _scan(
                    ids.next("scan"),
                    lane,
                    site_id,
                    ticket_id,
                    medium,
                    "in",
                    persons,
                    persons,
                    1,
                    "allow",
                    "ok",
                    remaining,
                    at(when),
                    at(when + rng.random() * 2),
                    False,
                )
            )
            if rng.random() < SECOND_TRY:
                again = when + 30 + rng.random() * 570
                scans.append(
                    _scan(
                        ids.next("scan"),
                        lane,
                        site_id,
                        ticket_id,
                        medium,
                        "in",
                        persons,
                        0,
                        0,
                        "deny",
                        "used_up",
                        0,
                        at(again),
                        at(again + 1),
                        False,
                    )
                )
            if v.exit_lanes and rng.random() < OUT_SCANS:
                leave = min(
                    when + v.stay_minutes * 60 * (0.5 + rng.random()), v.closes - rng.random() * 900
                )
                exit_lane = self.exit_lanes(rng)
                scans.append(
                    _scan(
                        ids.next("scan"),
                        exit_lane,
                        site_id,
                        ticket_id,
                        medium,
                        "out",
                        persons,
                        persons,
                        0,
                        "allow",
                        "exit",
                        remaining,
                        at(leave),
                        at(leave + 1),
                        False,
                    )
                )
        else:
            when = arrive
        for zone_id, entries in product.inner:
            lane_in = v.zone_lanes.get(zone_id)
            if lane_in is None:
                continue
            timed = [p for p in pools.get(zone_id, []) if p.start is not None]
            if timed and timed[0].start is not None and timed[0].start > v.last_entry:
                t = timed[0].start - rng.random() * 1800  # an evening show
            else:
                t = min(when + 1800 + rng.random() * 9000, v.closes - 1800)
            uses = 1 if entries == 1 or rng.random() < 0.6 else 2
            for u in range(uses):
                offline = rng.random() < 0.01
                scans.append(
                    _scan(
                        ids.next("scan"),
                        lane_in,
                        site_id,
                        ticket_id,
                        medium,
                        "in",
                        persons,
                        persons,
                        1,
                        "allow",
                        "ok",
                        max(entries - u - 1, 0),
                        at(t),
                        at(t + (600 + rng.random() * 3000 if offline else rng.random() * 2)),
                        offline,
                    )
                )
                t = min(t + 3600 + rng.random() * 5400, v.closes - 600)

    def _ledger_rows(
        self,
        out: list[tuple[Any, ...]],
        moves: list[list[Any]],
        ids: Ids,
        day: dt.date,
        at: Callable[[float], dt.datetime],
    ) -> None:
        """Account movements of the day's bookings, settled: prepaid money topped up before the
        first draw, credit repaid in the evening of the visit day, so that no account's balance
        changes (history leaves the accounts' balances as they are)."""
        if not moves:
            return
        net: dict[tuple[int, str], Decimal] = defaultdict(lambda: ZERO)
        first: dict[tuple[int, str], float] = {}
        for when, account, book, _kind, amount, _order, _actor in moves:
            net[(account, book)] += amount
            first[(account, book)] = min(first.get((account, book), when), when)
        for (account, book), amount in net.items():
            if not amount:
                continue
            if book == "prepaid":
                moves.append(
                    [first[(account, book)] - 3600, account, book, "topup", -amount, None, ""]
                )
            else:
                moves.append([23 * 3600, account, book, "repay", -amount, None, ""])
        moves.sort(key=lambda m: (m[0], m[1]))
        balance: dict[tuple[int, str], Decimal] = defaultdict(lambda: ZERO)
        for when, account, book, kind, amount, order, actor in moves:
            balance[(account, book)] += amount
            out.append(
                (
                    ids.next("ledger"),
                    account,
                    book,
                    kind,
                    amount,
                    balance[(account, book)],
                    order,
                    None,
                    "history settlement" if order is None else "",
                    actor,
                    at(when),
                )
            )


def _scan(
    pk: int,
    lane: LaneInfo,
    site_id: int,
    ticket_id: int | None,
    medium: str,
    direction: str,
    persons: int,
    admitted: int,
    consumed: int,
    result: str,
    reason: str,
    remaining: int | None,
    scanned: dt.datetime,
    received: dt.datetime,
    offline: bool,
) -> tuple[Any, ...]:
    return (
        pk,
        lane.id,
        site_id,
        lane.zone_key,
        lane.device_id,
        None,
        None,
        ticket_id,
        medium,
        "",
        direction,
        persons,
        admitted,
        consumed,
        result,
        reason,
        remaining,
        None,
        scanned,
        received,
        offline,
    )


def _time(seconds: int | None) -> dt.time | None:
    if seconds is None:
        return None
    return dt.time(seconds // 3600, seconds % 3600 // 60)


_LISTS: dict[str, list[str]] = {}


def _json_list(text: str) -> list[str]:
    found = _LISTS.get(text)
    if found is None:
        found = _LISTS[text] = json.loads(text)
        if len(_LISTS) > 100_000:
            _LISTS.clear()
    return found


def day_weights(venue: Venue, days: Sequence[dt.date], rng: random.Random) -> list[float]:
    """How busy each day is, on average 1 over the open days: weekends and holidays busier,
    summer and the national holidays (1–5 May, 1–7 October) too, closed days 0."""
    raw = []
    for day in days:
        if venue.closed(day):
            raw.append(0.0)
            continue
        kind = str(venue.day_type(day))
        w = {"weekday": 0.8, "weekend": 1.45, "holiday": 2.0, "peak": 2.4}.get(kind, 1.0)
        if (day.month == 10 and day.day <= 7) or (day.month == 5 and day.day <= 5):
            w = max(w, 2.2)
        w *= 1 + 0.25 * math.sin(2 * math.pi * (day.timetuple().tm_yday - 110) / 365)
        w *= 0.9 + 0.2 * rng.random()
        raw.append(w)
    open_days = [w for w in raw if w]
    mean = sum(open_days) / len(open_days) if open_days else 1.0
    return [w / mean for w in raw]
