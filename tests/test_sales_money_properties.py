"""Money adds up through random histories of sales, discounts, partial refunds and date
changes, on the real database (each example rolled back)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from admit.accounts.models import User
from admit.catalog.models import Product
from admit.core.errors import DomainError
from admit.inventory.models import Pool
from admit.inventory.services import pools_ensure
from admit.sales import services
from admit.sales.checks import capacity_problems, money_problems
from admit.sales.models import Order, Payment, Refund
from admit.sales.pricing import ManualDiscount
from admit.tickets.models import Ticket
from tests.sales_helpers import MON, SAT

pytestmark = pytest.mark.django_db

PRODUCTS = ["adult", "child", "family", "group", "combo-cable"]


@pytest.fixture
def world(clock, demo):
    site = Product.objects.get(code="adult").site
    for day in (MON, SAT):
        pools_ensure(site=site, day=day)
    Product.objects.update(refund_fee_percent=Decimal("5"))
    return {
        "cashier": User.objects.get(username="supervisor"),
        "products": {p.code: p for p in Product.objects.filter(code__in=PRODUCTS)},
    }


def slot_for(day):
    return Pool.objects.get(zone__code="main", date=day, start__hour=9).pk


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_random_histories_keep_money_and_capacity_exact(world, data):
    actor = world["cashier"]
    with transaction.atomic():
        for _step in range(data.draw(st.integers(3, 10), label="steps")):
            action = data.draw(st.sampled_from(["buy", "buy", "refund", "reschedule"]))
            paid = list(Order.objects.filter(status="paid"))
            if action == "buy":
                code = data.draw(st.sampled_from(PRODUCTS), label="product")
                product = world["products"][code]
                day = data.draw(st.sampled_from([MON, SAT]), label="day")
                manual = data.draw(
                    st.none()
                    | st.integers(1, 50).map(lambda p: ManualDiscount(percent=Decimal(p))),
                    label="discount",
                )
                order = services.order_place(
                    channel="window",
                    actor=actor,
                    manual_discount=manual,
                    lines=[
                        services.LineRequest(
                            product=product.pk,
                            date=day,
                            slot=slot_for(day),
                            quantity=data.draw(st.integers(1, 4), label="quantity"),
                            persons=data.draw(st.integers(10, 30), label="persons")
                            if code == "group"
                            else None,
                        )
                    ],
                )
                if data.draw(st.booleans(), label="split payment") and order.total > 1:
                    services.order_pay(
                        order=order, method="card", amount=Decimal("1.00"), actor=actor
                    )
                services.order_pay(order=order, method="cash", amount=None, actor=actor)
            elif action == "refund" and paid:
                order = data.draw(st.sampled_from(paid), label="order")
                valid = list(Ticket.objects.filter(order=order, status="valid"))
                if valid:
                    chosen = data.draw(
                        st.lists(st.sampled_from(valid), min_size=1, unique_by=lambda t: t.pk),
                        label="tickets",
                    )
                    services.order_refund(
                        order=order, actor=actor, ticket_ids=[t.pk for t in chosen]
                    )
            elif action == "reschedule" and paid:
                order = data.draw(st.sampled_from(paid), label="order")
                valid = list(Ticket.objects.filter(order=order, status="valid"))
                if valid:
                    line = valid[0].line
                    chosen = [t for t in valid if t.line_id == line.pk]
                    day = SAT if line.date == MON else MON
                    try:
                        services.order_reschedule(
                            order=order,
                            actor=actor,
                            date=day,
                            slot=slot_for(day),
                            ticket_ids=[t.pk for t in chosen],
                        )
                    except DomainError as exc:
                        assert exc.code == "payment_required"
                        services.order_reschedule(
                            order=order,
                            actor=actor,
                            date=day,
                            slot=slot_for(day),
                            ticket_ids=[t.pk for t in chosen],
                            payment={"method": "cash", "amount": exc.details["amount"]},
                        )
            assert money_problems() == []
            assert capacity_problems() == []
        # Every fen that came in is either held for live tickets, kept as a fee, or went out.
        paid_in = sum((p.amount for p in Payment.objects.all()), Decimal(0))
        paid_out = sum((r.amount for r in Refund.objects.all()), Decimal(0))
        fees = sum((r.fee for r in Refund.objects.all()), Decimal(0))
        live = sum((t.price for t in Ticket.objects.filter(status__in=Ticket.LIVE)), Decimal(0))
        assert paid_in - paid_out == live + fees
        transaction.set_rollback(True)
