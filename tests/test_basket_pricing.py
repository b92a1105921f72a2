"""The pure basket pricing, property-tested: exact to the fen, never negative, always adds up."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from admit.sales.pricing import (
    CouponTerms,
    LineIn,
    ManualDiscount,
    PricingError,
    quote,
    split,
)

cents = st.integers(min_value=0, max_value=200_000).map(lambda c: Decimal(c) / 100)
percent = st.integers(min_value=0, max_value=10000).map(lambda c: Decimal(c) / 100)


@st.composite
def lines(draw):
    n = draw(st.integers(min_value=1, max_value=5))
    return [
        LineIn(
            key=str(i),
            product_id=draw(st.integers(1, 4)),
            unit_price=draw(cents),
            quantity=draw(st.integers(1, 30)),
            persons=draw(st.integers(1, 60)),
            per_person=draw(st.booleans()),
        )
        for i in range(n)
    ]


coupons = st.none() | st.builds(
    CouponTerms,
    code=st.just("C"),
    percent=st.none() | percent,
    amount=st.none() | cents,
    min_spend=st.just(Decimal("0.00")),
    product_ids=st.none() | st.frozensets(st.integers(1, 4), min_size=1),
)
manuals = st.none() | st.builds(
    ManualDiscount, percent=st.none() | percent, amount=st.none() | cents
)
contracts = st.dictionaries(st.integers(1, 4), percent, max_size=4)
members = st.dictionaries(st.integers(1, 4), cents, max_size=4)


def is_fen(d: Decimal) -> bool:
    return d == d.quantize(Decimal("0.01"))


@given(lines(), coupons, manuals, contracts, members)
def test_quotes_add_up_exactly(ls, coupon, manual, contract, member):
    try:
        q = quote(ls, coupon=coupon, manual=manual, contract_percent=contract, member_prices=member)
    except PricingError as exc:
        assert exc.code == "coupon_min_spend"
        return
    assert q.total == sum(ln.total for ln in q.lines)
    assert q.total == q.subtotal - q.discount
    assert 0 <= q.total <= q.subtotal
    for ln, given_line in zip(q.lines, ls, strict=True):
        assert ln.total >= 0
        assert is_fen(ln.total) and all(is_fen(a.amount) for a in ln.adjustments)
        assert all(a.amount <= 0 for a in ln.adjustments)
        assert len(ln.ticket_prices) == given_line.quantity
        assert sum(ln.ticket_prices) == ln.total
        assert max(ln.ticket_prices) - min(ln.ticket_prices) <= Decimal("0.01")
        per_ticket = given_line.unit_price * (given_line.persons if given_line.per_person else 1)
        assert ln.base == (per_ticket.quantize(Decimal("0.01")) * given_line.quantity)


@given(lines())
def test_no_discounts_means_the_list_price(ls):
    q = quote(ls)
    assert q.discount == 0
    assert q.adjustments_by_kind() == {}


@given(
    st.integers(0, 10**7).map(lambda c: Decimal(c) / 100),
    st.lists(st.integers(0, 10**6).map(lambda c: Decimal(c) / 100), min_size=1, max_size=20),
)
def test_split_is_exact_and_fair(amount, weights):
    parts = split(amount, weights)
    assert sum(parts) == amount
    assert all(is_fen(p) and p >= 0 for p in parts)
    total = sum(weights)
    if total > 0:
        for p, w in zip(parts, weights, strict=True):
            assert abs(p - amount * w / total) < Decimal("0.01")


def test_the_worked_example():
    ls = [
        LineIn("a", 1, Decimal("120"), 2),
        LineIn("g", 2, Decimal("96"), 1, persons=25, per_person=True),
    ]
    q = quote(
        ls,
        coupon=CouponTerms("SPRING", percent=Decimal("10"), product_ids=frozenset({1})),
        manual=ManualDiscount(amount=Decimal("10.00")),
    )
    a, g = q.lines
    assert a.base == Decimal("240.00") and g.base == Decimal("2400.00")
    assert [x.amount for x in a.adjustments if x.kind == "coupon"] == [Decimal("-24.00")]
    assert q.total == Decimal("2640.00") - Decimal("24.00") - Decimal("10.00")
    assert q.adjustments_by_kind() == {"coupon": Decimal("-24.00"), "manual": Decimal("-10.00")}


def test_member_and_contract_prices():
    q = quote([LineIn("a", 1, Decimal("120"), 1)], contract_percent={1: Decimal("25")})
    assert q.total == Decimal("90.00")
    q = quote([LineIn("a", 1, Decimal("120"), 2)], member_prices={1: Decimal("99")})
    assert q.total == Decimal("198.00")
    q = quote([LineIn("a", 1, Decimal("120"), 1)], member_prices={1: Decimal("150")})
    assert q.total == Decimal("120.00")  # a member price above the list price is not used


def test_limits():
    ls = [LineIn("a", 1, Decimal("100"), 1)]
    with pytest.raises(PricingError) as info:
        quote(ls, manual=ManualDiscount(percent=Decimal("15")), manual_limit_percent=Decimal("10"))
    assert info.value.code == "discount_over_limit"
    assert quote(
        ls, manual=ManualDiscount(percent=Decimal("10")), manual_limit_percent=Decimal("10")
    ).total == Decimal("90.00")
    with pytest.raises(PricingError) as info:
        quote(ls, coupon=CouponTerms("X", amount=Decimal("5"), min_spend=Decimal("200")))
    assert info.value.code == "coupon_min_spend"
    with pytest.raises(PricingError):
        quote([LineIn("a", 1, Decimal("-1"), 1)])
    with pytest.raises(PricingError):
        quote([LineIn("a", 1, Decimal("1"), 0)])
