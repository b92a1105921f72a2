"""Credit (挂账), prepaid money (预存款), statement and rebate payments and points under real
concurrency:
threads racing on the real database never take an account beyond its credit limit or below
zero, and every ledger equals its running figure afterwards."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from admit.accounts.models import User
from admit.catalog.models import Product
from admit.core.errors import DomainError
from admit.customers.models import (
    Account,
    Guide,
    LedgerEntry,
    Member,
    RebatePayment,
    RebateStatement,
    Statement,
)
from admit.customers.selectors import ledger_problems
from admit.customers.services import (
    _points,
    points_redeem,
    rebate_statement_issue,
    rebate_statement_pay,
    statement_issue,
    statement_pay,
)
from admit.demo.data import DEMO_MEMBER_PHONE
from admit.inventory.models import Pool
from admit.inventory.services import pools_ensure
from admit.sales import services
from admit.sales.checks import money_problems
from admit.sales.models import Order, Payment, Refund
from tests.conftest import load_demo, run_concurrently
from tests.sales_helpers import MON

pytestmark = [pytest.mark.concurrency, pytest.mark.django_db(transaction=True)]

N = 8


@pytest.fixture
def world(clock):
    load_demo()
    group = Product.objects.select_related("site").get(code="group")
    pools_ensure(site=group.site, day=MON)
    agent = User.objects.get(username="agent")
    slot = Pool.objects.get(zone__code="main", date=MON, start=dt.time(9, 30))
    orders = [
        services.order_place(
            channel="agency",
            lines=[
                services.LineRequest(
                    product=group.pk, date=MON, quantity=1, persons=10, slot=slot.pk
                )
            ],
            actor=agent,
        )
        for _ in range(N)
    ]
    return {"agent": agent, "orders": orders, "each": orders[0].total}


def settle(results):
    paid = [r for r in results if isinstance(r, Payment)]
    refused = [r for r in results if isinstance(r, DomainError)]
    other = [r for r in results if not isinstance(r, Payment | DomainError)]
    assert not other, other  # no deadlock, no "database is locked"
    return paid, refused


def pay_all(world, method: str):
    return settle(
        run_concurrently(
            lambda i: services.order_pay(
                order=world["orders"][i], method=method, amount=None, actor=world["agent"]
            ),
            N,
        )
    )


def test_simultaneous_bookings_never_overrun_the_credit_limit(world):
    each = world["each"]  # 864.00: ten persons at 96, 10 % off
    Account.objects.filter(code="sunshine").update(credit_limit=each * 3 + Decimal("100"))
    paid, refused = pay_all(world, "account")
    assert len(paid) == 3
    assert {e.code for e in refused} == {"credit_limit_exceeded"}
    account = Account.objects.get(code="sunshine")
    assert account.credit_used == each * 3 <= account.credit_limit
    assert Order.objects.filter(status=Order.Status.PAID).count() == 3
    assert LedgerEntry.objects.filter(book="credit").count() == 3
    assert ledger_problems() == [] and money_problems() == []


def test_simultaneous_bookings_never_draw_prepaid_below_zero(world):
    each = world["each"]
    account = Account.objects.get(code="sunshine")
    LedgerEntry.objects.create(
        account=account,
        book="prepaid",
        kind="adjust",
        amount=each * 5 - account.prepaid_balance,
        balance_after=each * 5,
    )
    Account.objects.filter(pk=account.pk).update(prepaid_balance=each * 5)
    paid, refused = pay_all(world, "prepaid")
    assert len(paid) == 5
    assert {e.code for e in refused} == {"prepaid_insufficient"}
    assert Account.objects.get(pk=account.pk).prepaid_balance == 0
    assert ledger_problems() == [] and money_problems() == []


def test_refunds_and_charges_racing_keep_the_ledger_equal_to_the_balance(world):
    """Half the orders are charged first; then refunds of those race charges of the rest."""
    each = world["each"]
    Account.objects.filter(code="sunshine").update(credit_limit=each * (N // 2))
    first = world["orders"][: N // 2]
    for o in first:
        services.order_pay(order=o, method="account", amount=None, actor=world["agent"])

    def step(i: int):
        if i < N // 2:
            return services.order_refund(order=first[i], actor=world["agent"])[0]
        return services.order_pay(
            order=world["orders"][i], method="account", amount=None, actor=world["agent"]
        )

    results = run_concurrently(step, N)
    refunds = [r for r in results[: N // 2] if isinstance(r, Refund)]
    assert len(refunds) == N // 2, results  # refunds are never refused
    for r in results[N // 2 :]:  # a charge either fits beside what is still owed, or not
        assert isinstance(r, Payment) or getattr(r, "code", "") == "credit_limit_exceeded", r
    account = Account.objects.get(code="sunshine")
    assert 0 <= account.credit_used <= account.credit_limit
    assert ledger_problems() == [] and money_problems() == []


def test_racing_payments_never_overpay_a_statement(world, clock):
    each = world["each"]
    for o in world["orders"][:2]:
        services.order_pay(order=o, method="account", amount=None, actor=world["agent"])
    clock.shift(dt.timedelta(days=1))
    day = dt.date(2026, 11, 22)
    admin = User.objects.get(username="admin")
    statement = statement_issue(
        account=Account.objects.get(code="sunshine"),
        period_start=day,
        period_end=day,
        actor=admin,
    )
    assert statement.due == each * 2
    part = each / 2  # four parts settle it; eight try
    results = run_concurrently(
        lambda i: statement_pay(statement=statement, amount=part, actor=admin), N
    )
    ok = [r for r in results if isinstance(r, LedgerEntry)]
    refused = [r for r in results if isinstance(r, DomainError)]
    assert len(ok) == 4 and len(refused) == N - 4, results
    assert {e.code for e in refused} == {"statement_overpaid"}
    statement.refresh_from_db()
    assert statement.paid == statement.due and statement.status == Statement.Status.SETTLED
    assert Account.objects.get(code="sunshine").credit_used == 0
    assert ledger_problems() == []


def test_racing_redemptions_never_take_points_below_zero(world):
    member = Member.objects.get(phone=DEMO_MEMBER_PHONE)
    _points(member_id=member.pk, kind="adjust", points=30, order_id=None, reason="", actor=None)
    results = run_concurrently(
        lambda i: points_redeem(member=member, points=10, reason="gift", actor=None), N
    )
    refused = [r for r in results if isinstance(r, DomainError)]
    assert len(refused) == N - 3 and {e.code for e in refused} == {"points_insufficient"}
    member.refresh_from_db()
    assert member.points == 0 and ledger_problems() == []


def test_racing_rebate_payments_never_pay_out_more_than_the_statement(world, clock):
    """Eight repeats of one payment (the same key) race: it is paid once. Then eight more
    payments of a quarter of the guide's rebate race: three pay out the rest, five are
    refused; never more than the rebate."""
    guide = Guide.objects.get(licence_number="D-5301-000123")
    group = Product.objects.get(code="group")
    slot = Pool.objects.get(zone__code="main", date=MON, start=dt.time(9, 30))
    guided = services.order_place(
        channel="agency",
        lines=[
            services.LineRequest(product=group.pk, date=MON, quantity=1, persons=20, slot=slot.pk)
        ],
        actor=world["agent"],
        guide=guide,
    )
    services.order_pay(order=guided, method="account", amount=None, actor=world["agent"])
    clock.shift(dt.timedelta(days=1))
    day = dt.date(2026, 11, 22)
    finance = User.objects.get(username="finance")
    statement = rebate_statement_issue(guide=guide, period_start=day, period_end=day, actor=finance)
    assert statement.rebate == Decimal("40.00")
    part = statement.rebate / 4

    def pay(key: str = ""):
        return lambda i: rebate_statement_pay(
            statement=RebateStatement.objects.get(pk=statement.pk),
            amount=part,
            method="transfer",
            key=key,
            actor=finance,
        )

    repeats = run_concurrently(pay("one-payment"), N)
    assert all(isinstance(r, RebatePayment) for r in repeats), repeats
    assert len({r.pk for r in repeats}) == 1 and RebatePayment.objects.count() == 1
    results = run_concurrently(pay(), N)
    ok = [r for r in results if isinstance(r, RebatePayment)]
    refused = [r for r in results if isinstance(r, DomainError)]
    assert len(ok) == 3 and len(refused) == N - 3, results
    assert {e.code for e in refused} == {"rebate_overpaid"}
    statement.refresh_from_db()
    assert (statement.paid, statement.status) == (statement.rebate, RebateStatement.Status.PAID)
    assert RebatePayment.objects.count() == 4 and ledger_problems() == []
