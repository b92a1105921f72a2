"""Agency bookings racing for one prepaid balance on the real database: the balance is never
overdrawn, and every refused booking leaves no order and holds no places (place and pay are
one transaction)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from admit.accounts.models import User
from admit.catalog.models import Product
from admit.core.errors import DomainError
from admit.customers.models import Account
from admit.customers.selectors import ledger_problems
from admit.inventory.models import Pool
from admit.inventory.services import pools_ensure
from admit.sales.checks import capacity_problems, money_problems
from admit.sales.models import Order
from admit.sales.services import LineRequest
from admit.sales.services.agency import agency_book
from tests.conftest import load_demo, run_concurrently

pytestmark = [pytest.mark.concurrency, pytest.mark.django_db(transaction=True)]

DAY = dt.date(2026, 11, 24)  # a Tuesday
N = 6
GROUP_OF_60 = Decimal("5184.00")  # 60 × ¥96 − 10 %: three fit in ¥20,000, a fourth does not


def test_racing_bookings_never_overdraw_prepaid_and_refusals_leave_nothing(clock):
    load_demo()
    group = Product.objects.get(code="group")
    pools_ensure(site=group.site, day=DAY)
    slot = Pool.objects.get(zone__code="main", date=DAY, start=dt.time(9, 30))
    agent = User.objects.get(username="agent")

    def book(_i: int) -> Order:
        return agency_book(
            actor=agent,
            lines=[LineRequest(product=group.pk, date=DAY, quantity=1, slot=slot.pk, persons=60)],
            pay_from="prepaid",
            contact_name="李领队",
            contact_phone="13912345678",
            expected_total=GROUP_OF_60,
        )

    results = run_concurrently(book, N)
    booked = [r for r in results if isinstance(r, Order)]
    refused = [r for r in results if isinstance(r, DomainError)]
    assert len(booked) == 3, results
    assert {e.code for e in refused} == {"prepaid_insufficient"} and len(refused) == N - 3
    assert Order.objects.count() == 3
    assert set(Order.objects.values_list("status", flat=True)) == {Order.Status.PAID}
    account = Account.objects.get(code="sunshine")
    assert account.prepaid_balance == Decimal("20000.00") - 3 * GROUP_OF_60
    slot.refresh_from_db()
    assert (slot.held, slot.sold) == (0, 180)
    assert ledger_problems() == []
    assert capacity_problems() == [] and money_problems() == []
