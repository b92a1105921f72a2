"""Price a basket (pure: no Django).

The steps, in order, each on what the step before left:

1. channel price for the day type (``catalog.pricing.resolve_price``; the caller passes it in),
   per ticket, or per person for group tickets;
2. the contract discount of a B2B account (percent per product);
3. a member price (replaces the unit price where it is lower), and a discount of one line (a
   guide's own entry with their group);
4. a coupon: a percentage, or an amount spread over the lines it covers, with a minimum spend;
5. a cashier's manual discount (percent or amount) over the whole basket;

then every amount is rounded to the fen, and each line's total is split over its tickets so
that the tickets' prices add up to the line exactly (refunds of single tickets stay exact).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

FEN = Decimal("0.01")
ZERO = Decimal("0.00")
HUNDRED = Decimal(100)


def fen(value: Decimal) -> Decimal:
    return value.quantize(FEN, rounding=ROUND_HALF_UP)


class PricingError(ValueError):
    def __init__(self, code: str, **details: object) -> None:
        self.code = code
        self.details = details
        super().__init__(code)


@dataclass(frozen=True)
class LineIn:
    key: str
    product_id: int
    unit_price: Decimal
    quantity: int
    persons: int = 1
    per_person: bool = False  # group tickets are priced per person


@dataclass(frozen=True)
class CouponTerms:
    code: str
    percent: Decimal | None = None
    amount: Decimal | None = None
    min_spend: Decimal = ZERO
    product_ids: frozenset[int] | None = None  # None: every product


@dataclass(frozen=True)
class ManualDiscount:
    percent: Decimal | None = None
    amount: Decimal | None = None
    reason: str = ""


@dataclass(frozen=True)
class Adjustment:
    kind: str  # contract, member, coupon, manual
    label: str
    amount: Decimal  # negative: money off


@dataclass
class LineQuote:
    key: str
    product_id: int
    quantity: int
    unit_price: Decimal
    base: Decimal
    adjustments: list[Adjustment] = field(default_factory=list)
    ticket_prices: list[Decimal] = field(default_factory=list)

    @property
    def total(self) -> Decimal:
        return self.base + sum((a.amount for a in self.adjustments), ZERO)


@dataclass
class Quote:
    lines: list[LineQuote]

    @property
    def subtotal(self) -> Decimal:
        return sum((ln.base for ln in self.lines), ZERO)

    @property
    def total(self) -> Decimal:
        return sum((ln.total for ln in self.lines), ZERO)

    @property
    def discount(self) -> Decimal:
        return self.subtotal - self.total

    def adjustments_by_kind(self) -> dict[str, Decimal]:
        out: dict[str, Decimal] = {}
        for ln in self.lines:
            for a in ln.adjustments:
                out[a.kind] = out.get(a.kind, ZERO) + a.amount
        return out


def split(amount: Decimal, weights: Sequence[Decimal]) -> list[Decimal]:
    """Split ``amount`` (in fen) in proportion to ``weights`` so that the parts add up exactly.

    Largest remainder: every part is rounded down to the fen, then the fen left over go one by
    one to the parts with the largest remainders (earlier parts first on ties).
    """
    total_weight = sum(weights, ZERO)
    if not weights:
        return []
    if total_weight <= 0:
        parts = [ZERO] * len(weights)
        parts[0] = amount
        return parts
    raw = [amount * w / total_weight for w in weights]
    parts = [r.quantize(FEN, rounding=ROUND_DOWN) for r in raw]
    left = int(((amount - sum(parts, ZERO)) / FEN).to_integral_value())
    order = sorted(range(len(raw)), key=lambda i: (-(raw[i] - parts[i]), i))
    for i in order[:left]:
        parts[i] += FEN
    return parts


def _take(line: LineQuote, kind: str, label: str, amount: Decimal) -> None:
    amount = min(fen(amount), line.total)
    if amount > 0:
        line.adjustments.append(Adjustment(kind, label, -amount))


def quote(
    lines: Sequence[LineIn],
    *,
    contract_percent: dict[int, Decimal] | None = None,
    member_prices: dict[int, Decimal] | None = None,
    coupon: CouponTerms | None = None,
    manual: ManualDiscount | None = None,
    manual_limit_percent: Decimal | None = None,
    line_percent: dict[str, tuple[str, Decimal]] | None = None,
) -> Quote:
    """Price ``lines``; raise ``PricingError`` for a coupon below its minimum spend or a manual
    discount above the limit."""
    out: list[LineQuote] = []
    for ln in lines:
        if ln.quantity < 1 or ln.persons < 1 or ln.unit_price < 0:
            raise PricingError("invalid_line", key=ln.key)
        per_ticket = ln.unit_price * (ln.persons if ln.per_person else 1)
        out.append(
            LineQuote(
                ln.key, ln.product_id, ln.quantity, fen(per_ticket), fen(per_ticket) * ln.quantity
            )
        )

    for q, ln in zip(out, lines, strict=True):
        pct = (contract_percent or {}).get(ln.product_id)
        if pct:
            _take(q, "contract", f"{pct}%", q.base * pct / HUNDRED)
        member = (member_prices or {}).get(ln.product_id)
        if member is not None:
            member_ticket = fen(member * (ln.persons if ln.per_person else 1)) * ln.quantity
            if member_ticket < q.total:
                _take(q, "member", "member price", q.total - member_ticket)
        own = (line_percent or {}).get(ln.key)
        if own is not None:  # a discount of one line (a guide's own entry)
            _take(q, own[0], f"{own[1]}%", q.total * own[1] / HUNDRED)

    if coupon is not None:
        eligible = [
            q for q in out if coupon.product_ids is None or q.product_id in coupon.product_ids
        ]
        eligible_total = sum((q.total for q in eligible), ZERO)
        if not eligible or eligible_total < coupon.min_spend:
            raise PricingError(
                "coupon_min_spend", min_spend=str(coupon.min_spend), eligible=str(eligible_total)
            )
        if coupon.percent is not None:
            for q in eligible:
                _take(q, "coupon", coupon.code, q.total * coupon.percent / HUNDRED)
        elif coupon.amount is not None:
            off = min(fen(coupon.amount), eligible_total)
            for q, part in zip(eligible, split(off, [q.total for q in eligible]), strict=True):
                _take(q, "coupon", coupon.code, part)

    if manual is not None and (manual.percent or manual.amount):
        before = sum((q.total for q in out), ZERO)
        off = (
            fen(before * manual.percent / HUNDRED) if manual.percent else fen(manual.amount or ZERO)
        )
        off = min(off, before)
        if (
            manual_limit_percent is not None
            and before > 0
            and off > fen(before * manual_limit_percent / HUNDRED)
        ):
            raise PricingError(
                "discount_over_limit", limit_percent=str(manual_limit_percent), requested=str(off)
            )
        for q, part in zip(out, split(off, [q.total for q in out]), strict=True):
            _take(q, "manual", manual.reason or "manual", part)

    for q in out:
        q.ticket_prices = split(q.total, [Decimal(1)] * q.quantity)
    return Quote(lines=out)
