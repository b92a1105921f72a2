"""The sales invariants under real concurrency: threads racing on the real database."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from admit.catalog.models import Product
from admit.core.errors import DomainError
from admit.core.services import model_save
from admit.demo.data import cashier_on_shift
from admit.inventory.models import Allocation, Pool
from admit.inventory.services import pools_ensure
from admit.reports.checks import report_problems
from admit.sales import services
from admit.sales.checks import capacity_problems, money_problems
from admit.sales.models import Coupon, Order, Payment, Refund
from admit.tickets.models import Ticket
from tests.conftest import load_demo, run_concurrently
from tests.sales_helpers import MON

pytestmark = [pytest.mark.concurrency, pytest.mark.django_db(transaction=True)]

N = 10


@pytest.fixture
def world(clock):
    load_demo()
    site = Product.objects.get(code="adult").site
    pools_ensure(site=site, day=MON)
    return {"cashier": cashier_on_shift(), "site": site}


def slot(start: str = "09:30") -> Pool:
    return Pool.objects.get(zone__code="main", date=MON, start=dt.time.fromisoformat(start))


def squeeze(pool: Pool, free: int) -> None:
    """Leave exactly ``free`` shared places in the pool."""
    Pool.objects.filter(pk=pool.pk).update(capacity=pool.held + pool.sold + pool.reserved + free)


def buy(world, code="adult", quantity=1, channel="window", coupon=None, start="09:30"):
    s = slot(start)
    return services.order_place(
        channel=channel,
        actor=world["cashier"],
        coupon=coupon,
        contact_phone="",
        lines=[
            services.LineRequest(
                product=Product.objects.get(code=code).pk, date=MON, quantity=quantity, slot=s.pk
            )
        ],
    )


def outcome(results):
    orders = [r for r in results if isinstance(r, Order)]
    refused = [r for r in results if isinstance(r, DomainError)]
    other = [r for r in results if not isinstance(r, Order | DomainError)]
    assert not other, other  # no "database is locked", no deadlock, no 500
    return orders, refused


def test_last_places_of_a_slot_are_sold_exactly_once(world):
    squeeze(slot(), 5)
    orders, refused = outcome(run_concurrently(lambda i: buy(world), N))
    assert len(orders) == 5
    assert {e.code for e in refused} == {"sold_out"}
    pool = slot()
    assert pool.held == 5 and pool.held + pool.sold + pool.reserved == pool.capacity
    assert capacity_problems() == []


def test_buying_and_paying_at_once_never_oversells(world):
    squeeze(slot(), 6)

    def buy_and_pay(i):
        order = buy(world, quantity=2)
        services.order_pay(order=order, method="cash", amount=None, actor=world["cashier"])
        return order

    orders, _refused = outcome(run_concurrently(buy_and_pay, N))
    assert len(orders) == 3
    assert slot().sold == 6
    assert Ticket.objects.count() == 6
    assert capacity_problems() == [] and money_problems() == [] and report_problems() == []


def test_combos_spanning_two_pools(world):
    cable = Pool.objects.get(zone__code="cable-car", date=MON)
    Pool.objects.filter(pk=cable.pk).update(capacity=4)
    orders, _refused = outcome(run_concurrently(lambda i: buy(world, code="combo-cable"), N))
    assert len(orders) == 4
    cable.refresh_from_db()
    assert cable.held == 4
    assert slot().held == 4  # the failed ones left nothing behind in the other pool
    assert capacity_problems() == []


def test_channel_allocation_and_shared_part(world):
    pool = slot()
    ota = Allocation.objects.get(pool=pool, channel__code="ota")
    agency = Allocation.objects.get(pool=pool, channel__code="agency")
    # 3 places for OTA alone, 2 shared by everyone.
    Allocation.objects.filter(pk=ota.pk).update(quota=3)
    Allocation.objects.filter(pk=agency.pk).update(quota=0)
    Pool.objects.filter(pk=pool.pk).update(reserved=3, capacity=5)

    def buyer(i):
        return buy(world, channel="ota" if i % 2 else "window")

    orders, _refused = outcome(run_concurrently(buyer, N))
    assert len(orders) == 5
    ota_orders = [o for o in orders if o.channel.code == "ota"]
    window_orders = [o for o in orders if o.channel.code == "window"]
    assert len(ota_orders) >= 3 and len(window_orders) <= 2
    pool.refresh_from_db()
    assert (pool.held, pool.reserved, pool.capacity) == (5, 0, 5)
    assert capacity_problems() == []


def test_allocation_falls_back_to_shared_before_the_slot(world, clock):
    pool = slot()
    squeeze(pool, 0)
    with pytest.raises(DomainError):
        buy(world)
    # 24 hours before the slot the unused OTA and agency quotas become shared.
    clock.move_to(dt.datetime(2027, 1, 10, 9, 31, tzinfo=dt.timezone(dt.timedelta(hours=8))))

    order = buy(world)
    assert order.status == "pending"
    assert capacity_problems() == []


def test_coupon_with_a_usage_limit(world, supervisor):
    model_save(
        instance=Coupon(
            code="LIMIT3",
            name="3 only",
            amount=Decimal("1.00"),
            max_uses=3,
            valid_from=timezone.now(),
        ),
        actor=supervisor,
    )
    orders, refused = outcome(run_concurrently(lambda i: buy(world, coupon="LIMIT3"), N))
    assert len(orders) == 3
    assert {e.code for e in refused} == {"coupon_used_up"}
    assert Coupon.objects.get(code="LIMIT3").used == 3


def test_expiry_and_cancel_racing_give_places_back_once(world, clock):
    orders = [buy(world, quantity=2) for _ in range(4)]
    clock.shift(dt.timedelta(minutes=16))

    def end(i):
        order = orders[i % 4]
        if i < 4:
            return services.order_expire(order_id=order.pk)
        try:
            return services.order_cancel(order=order, actor=world["cashier"])
        except DomainError as exc:
            return exc

    results = run_concurrently(end, 8)
    assert not [r for r in results if not isinstance(r, bool | Order | DomainError)], results
    assert slot().held == 0
    assert Order.objects.filter(status="pending").count() == 0
    assert capacity_problems() == []


def test_two_refunds_of_the_same_tickets(world):
    order = buy(world, quantity=2)
    services.order_pay(order=order, method="cash", amount=None, actor=world["cashier"])
    results = run_concurrently(
        lambda i: services.order_refund(order=order, actor=world["cashier"]), 6
    )
    done = [r for r in results if isinstance(r, list)]
    assert len(done) == 1, results
    assert all(isinstance(r, list | DomainError) for r in results), results
    assert Refund.objects.filter(order=order).count() == 1
    assert slot().sold == 0
    assert capacity_problems() == [] and money_problems() == [] and report_problems() == []


def test_two_payments_in_full_at_once(world):
    order = buy(world, quantity=2)
    results = run_concurrently(
        lambda i: services.order_pay(
            order=order, method="cash", amount=None, actor=world["cashier"]
        ),
        6,
    )
    assert len([r for r in results if isinstance(r, Payment)]) == 1, results
    assert Payment.objects.filter(order=order).count() == 1
    assert Ticket.objects.filter(order=order).count() == 2
    assert money_problems() == []


def test_same_idempotency_key_at_once_makes_one_order(world):
    from admit.core.idempotency import fingerprint, run_idempotent

    def create(i):
        return run_idempotent(
            scope="user:1",
            key="K-1",
            fp=fingerprint("same"),
            fn=lambda: (201, {"code": buy(world).code}),
        )

    results = run_concurrently(create, 6)
    assert all(isinstance(r, tuple) for r in results), results
    assert len({r[1]["code"] for r in results}) == 1
    assert Order.objects.count() == 1
