"""Orders through the API: place, hold, pay, expire, cancel — and bad input changes nothing."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.core.management import call_command

from admit.inventory.models import Pool
from admit.reports.checks import report_problems
from admit.sales.checks import capacity_problems, money_problems
from admit.sales.models import Order, OrderLine, Payment
from admit.tickets.models import Ticket
from tests.sales_helpers import (
    IDS,
    MAINTENANCE,
    MON,
    SAT,
    line,
    pay_cash,
    place,
    pool_at,
    product,
    slot_id,
    slots,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(clock, cashier_api):
    return cashier_api


def consistent():
    assert capacity_problems() == []
    assert money_problems() == []
    assert report_problems() == []


def test_availability_lists_slots_with_places_left(api):
    listed = slots(api, "adult", MON)
    assert [s["start"] for s in listed] == ["07:30:00", "09:30:00", "11:30:00", "13:30:00"]
    morning = listed[1]
    assert morning["capacity"] == 4000
    # The window sees the shared part: 50 % of the slot is set aside for OTA and agencies.
    assert morning["remaining"] == 2000
    assert morning["price"] == "120.00" and morning["available"] is True
    ota = {s["start"]: s["remaining"] for s in slots(api, "adult", MON, channel="ota")}
    assert ota["09:30:00"] == 2000 + 1200
    assert slots(api, "adult", MAINTENANCE) == []


def test_place_hold_and_pay_cash_with_change(api):
    order = place(api, [line(api, "adult", 2)], contact_phone="13800000000")
    assert order["status"] == "pending"
    assert order["total"] == "240.00" and order["currency"] == "CNY"
    assert order["balance_due"] == "240.00"
    expires = dt.datetime.fromisoformat(order["expires_at"])
    placed = dt.datetime.fromisoformat(order["placed_at"])
    assert dt.timedelta(minutes=14) < expires - placed <= dt.timedelta(minutes=15, seconds=1)
    pool = pool_at("adult", MON, "09:30")
    assert (pool.held, pool.sold) == (2, 0)
    assert order["tickets"] == []

    paid = pay_cash(api, order["code"], tendered="300")
    assert paid["payment"]["change"] == "60.00"
    order = paid["order"]
    assert order["status"] == "paid" and order["balance_due"] == "0.00"
    assert [t["price"] for t in order["tickets"]] == ["120.00", "120.00"]
    assert all(t["status"] == "valid" for t in order["tickets"])
    pool.refresh_from_db()
    assert (pool.held, pool.sold) == (0, 2)
    assert slots(api, "adult", MON)[1]["remaining"] == 1998
    consistent()


def test_combined_payment_cash_then_card(api):
    order = place(api, [line(api, "adult", 3)])
    first = pay_cash(api, order["code"], amount="100.00")["order"]
    assert first["status"] == "pending" and first["balance_due"] == "260.00"
    response = api.post(
        f"/api/v1/orders/{order['code']}/payments",
        {"method": "card", "amount": "260.00", "reference": "POS-7781"},
        content_type="application/json",
    )
    assert response.status_code == 201
    assert response.json()["order"]["status"] == "paid"
    assert Payment.objects.filter(order__code=order["code"]).count() == 2
    consistent()


def test_overpaying_is_refused(api):
    order = place(api, [line(api, "adult", 1)])
    response = api.post(
        f"/api/v1/orders/{order['code']}/payments",
        {"method": "cash", "amount": "500.00"},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "amount_exceeds_balance"
    response = api.post(
        f"/api/v1/orders/{order['code']}/payments",
        {"method": "cash", "amount": "120.00", "tendered": "100"},
        content_type="application/json",
    )
    assert response.json()["error"]["code"] == "tendered_too_little"
    assert not Payment.objects.exists()


def test_paying_twice_is_refused(api):
    order = place(api, [line(api, "adult", 1)])
    pay_cash(api, order["code"])
    response = api.post(
        f"/api/v1/orders/{order['code']}/payments",
        {"method": "cash"},
        content_type="application/json",
    )
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "order_not_pending"
    assert Payment.objects.count() == 1


def test_group_ticket_is_one_ticket_for_all(api):
    order = place(api, [line(api, "group", 1, persons=25)], channel="window")
    assert order["total"] == "2400.00"  # 25 × 96.00 per person
    paid = pay_cash(api, order["code"])["order"]
    assert len(paid["tickets"]) == 1 and paid["tickets"][0]["persons"] == 25
    assert pool_at("group", MON, "09:30").sold == 25
    consistent()


def test_group_size_must_be_within_its_range(api):
    for persons in (9, 61, 0, -3):
        body = place(api, [line(api, "group", 1, persons=persons)], status=400)
        assert body["error"]["code"] == "invalid_quantity"
    assert not Order.objects.exists()


def test_family_ticket_takes_three_places(api):
    order = place(api, [line(api, "family", 2)])
    assert pool_at("family", MON, "09:30").held == 6
    assert order["total"] == "560.00"


def test_combo_takes_both_pools(api):
    cable = Pool.objects.none()
    order = place(api, [line(api, "combo-cable", 2)])
    pay_cash(api, order["code"])
    main = pool_at("adult", MON, "09:30")
    cable = Pool.objects.get(zone__code="cable-car", date=MON)
    assert (main.sold, cable.sold) == (2, 2)
    consistent()


def test_real_name_ticket_needs_a_valid_id_per_person(api):
    base = line(api, "senior", 2)
    body = place(api, [base], status=400)
    assert body["error"]["code"] == "visitors_required"
    assert body["error"]["details"] == {"line": 0, "expected": 2, "given": 0}
    bad = {
        **base,
        "visitors": [
            {"name": "张三", "id_type": "resident_id", "id_number": IDS[0]},
            {"name": "李四", "id_type": "resident_id", "id_number": "110105194912310021"},
        ],
    }
    body = place(api, [bad], status=400)
    assert body["error"]["code"] == "invalid_id_number"
    assert body["error"]["details"]["reason"] == "checksum"
    assert body["error"]["details"]["visitor"] == 1
    twice = {
        **base,
        "visitors": [{"name": "张三", "id_type": "resident_id", "id_number": IDS[0]}] * 2,
    }
    assert place(api, [twice], status=400)["error"]["code"] == "duplicate_visitor"
    good = {
        **base,
        "visitors": [
            {"name": "张三", "id_type": "resident_id", "id_number": IDS[0]},
            {"name": "李四", "id_type": "passport", "id_number": "E12345678"},
        ],
    }
    order = pay_cash(api, place(api, [good])["code"])["order"]
    assert [t["holder_name"] for t in order["tickets"]] == ["张三", "李四"]
    assert Order.objects.count() == 1


def test_limit_per_id_per_day(api, supervisor):
    from admit.catalog.services import product_save

    senior = product("senior")
    senior.limit_per_id_per_day = 1
    product_save(instance=senior, actor=supervisor)
    visitor = [{"name": "张三", "id_type": "resident_id", "id_number": IDS[1]}]
    place(api, [line(api, "senior", 1, visitors=visitor)])
    body = place(api, [line(api, "senior", 1, visitors=visitor)], status=409)
    assert body["error"]["code"] == "id_limit_reached"
    # Another day is fine.
    place(api, [line(api, "senior", 1, day=SAT, visitors=visitor)])


@pytest.mark.parametrize(
    ("change", "status", "code"),
    [
        ({"quantity": 0}, 400, "invalid_quantity"),
        ({"quantity": -1}, 400, "invalid_quantity"),
        ({"quantity": 10**9}, 400, "invalid_quantity"),
        ({"quantity": 10**20}, 400, "invalid"),
        ({"quantity": "many"}, 400, "invalid"),
        ({"product": 999999}, 400, "unknown_product"),
        ({"product": -5}, 400, "invalid"),
        ({"date": "2026-11-01"}, 400, "past_date"),
        ({"date": "2028-06-01"}, 400, "too_far_ahead"),
        ({"date": "2027-02-30"}, 400, "invalid"),
        ({"date": MAINTENANCE.isoformat()}, 409, "closed"),
        ({"slot": None}, 400, "slot_required"),
        ({"slot": 999999}, 400, "invalid_slot"),
    ],
)
def test_bad_lines_change_nothing(api, change, status, code):
    good = line(api, "adult", 1)
    body = place(api, [{**good, **change}], status=status)
    assert body["error"]["code"] == code, body
    assert not Order.objects.exists() and not OrderLine.objects.exists()
    assert not Pool.objects.filter(held__gt=0).exists()


def test_other_bad_orders(api):
    good = line(api, "adult", 1)
    assert place(api, [good], channel="nope", status=400)["error"]["code"] == "unknown_channel"
    assert place(api, [], status=400)["error"]["code"] == "no_lines"
    annual = {"product": product("annual").pk, "date": MON.isoformat(), "quantity": 1}
    body = place(api, [annual], channel="ota", status=400)
    assert body["error"]["code"] == "not_sold_on_channel"
    other_day_slot = slot_id(api, "adult", SAT)
    body = place(api, [{**good, "slot": other_day_slot}], status=400)
    assert body["error"]["code"] == "invalid_slot"
    assert place(api, [good] * 21, status=400)["error"]["code"] == "invalid_quantity"
    assert not Order.objects.exists()


def test_a_pass_takes_no_capacity(api):
    visitor = [{"name": "王五", "id_type": "resident_id", "id_number": IDS[2]}]
    order = place(
        api,
        [
            {
                "product": product("annual").pk,
                "date": MON.isoformat(),
                "quantity": 1,
                "visitors": visitor,
            }
        ],
    )
    order = pay_cash(api, order["code"])["order"]
    ticket = order["tickets"][0]
    assert ticket["valid_from"] == "2027-01-11" and ticket["valid_until"] == "2028-01-10"
    consistent()


def test_sold_out_is_409_and_changes_nothing(api, supervisor):
    pool = pool_at("adult", MON, "09:30") if Pool.objects.exists() else None
    slot = slot_id(api, "adult", MON)
    pool = Pool.objects.get(pk=slot)
    left = pool.capacity - pool.held - pool.sold - pool.reserved
    place(api, [line(api, "group", 1, persons=60)] * 1)
    body = place(api, [line(api, "adult", left)], status=400)  # over the 200 per line
    assert body["error"]["code"] == "invalid_quantity"
    body = place(api, [line(api, "adult", 200)] * 10, status=409)
    assert body["error"]["code"] == "sold_out"
    assert body["error"]["details"]["slot"] == slot
    assert Order.objects.count() == 1
    pool.refresh_from_db()
    assert pool.held == 60
    consistent()


def test_idempotency_key_replays_the_first_answer(api):
    body = [line(api, "adult", 2)]
    headers = {"HTTP_IDEMPOTENCY_KEY": "till-3-0001"}
    first = place(api, body, headers=headers)
    again = place(api, body, headers=headers)
    assert again == first
    assert Order.objects.count() == 1
    other = place(api, [line(api, "adult", 3)], status=409, headers=headers)
    assert other["error"]["code"] == "idempotency_key_reused"
    assert Order.objects.count() == 1
    assert pool_at("adult", MON, "09:30").held == 2


def test_holds_expire_lazily_and_by_command(api, clock):
    order = place(api, [line(api, "adult", 5)])
    pool = pool_at("adult", MON, "09:30")
    assert pool.held == 5
    clock.shift(dt.timedelta(minutes=16))
    out = io.StringIO()
    call_command("expire-holds", stdout=out)
    assert "Ended 1 unpaid order" in out.getvalue()
    pool.refresh_from_db()
    assert pool.held == 0
    assert Order.objects.get(code=order["code"]).status == "expired"
    # Paying an expired order is refused; looking at it again changes nothing.
    response = api.post(
        f"/api/v1/orders/{order['code']}/payments",
        {"method": "cash"},
        content_type="application/json",
    )
    assert response.json()["error"]["code"] == "order_not_pending"
    second = place(api, [line(api, "adult", 2)])
    clock.shift(dt.timedelta(minutes=16))
    assert api.get(f"/api/v1/orders/{second['code']}").json()["status"] == "expired"
    pool.refresh_from_db()
    assert pool.held == 0
    consistent()


def test_expired_holds_give_way_when_places_are_short(api, clock, supervisor):
    from admit.inventory.services import pool_save

    slot = slot_id(api, "adult", MON)
    pool = Pool.objects.get(pk=slot)
    pool.capacity = pool.reserved + 10
    pool_save(instance=pool, actor=supervisor)
    stale = place(api, [line(api, "adult", 10)])
    place(api, [line(api, "adult", 1)], status=409)
    clock.shift(dt.timedelta(minutes=16))
    fresh = place(api, [line(api, "adult", 10)])
    assert Order.objects.get(code=stale["code"]).status == "expired"
    assert fresh["status"] == "pending"
    consistent()


def test_cancel(api):
    order = place(api, [line(api, "adult", 4)])
    response = api.post(f"/api/v1/orders/{order['code']}/cancel")
    assert response.status_code == 200 and response.json()["status"] == "cancelled"
    assert pool_at("adult", MON, "09:30").held == 0
    again = api.post(f"/api/v1/orders/{order['code']}/cancel")
    assert again.status_code == 409
    paid = pay_cash(api, place(api, [line(api, "adult", 1)])["code"])["order"]
    response = api.post(f"/api/v1/orders/{paid['code']}/cancel")
    assert response.status_code == 409
    consistent()


def test_order_lookup(api):
    order = place(api, [line(api, "adult", 1)])
    assert api.get(f"/api/v1/orders/{order['code'].lower()}").json()["code"] == order["code"]
    response = api.get("/api/v1/orders/NOPE0000")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "order_not_found"


def test_who_may_sell(demo, clock):
    from admit.accounts.models import User
    from tests.conftest import bearer_client

    gate = bearer_client(User.objects.get(username="gate"))
    good = {
        "channel": "window",
        "lines": [{"product": product("child").pk, "date": MON.isoformat(), "quantity": 1}],
    }
    response = gate.post("/api/v1/orders", good, content_type="application/json")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"
    finance = bearer_client(User.objects.get(username="finance"))
    assert finance.post("/api/v1/orders", good, content_type="application/json").status_code == 403
    assert not Order.objects.exists()


def test_free_order_is_confirmed_at_once(api, supervisor):
    from admit.catalog.models import Price
    from admit.catalog.services import price_save

    for price in Price.objects.filter(product__code="child"):
        price.amount = Decimal("0.00")
        price_save(instance=price, actor=supervisor)
    order = place(api, [line(api, "child", 2)])
    assert order["status"] == "paid" and len(order["tickets"]) == 2
    assert Ticket.objects.count() == 2
    consistent()


def test_the_hot_path_costs_a_fixed_number_of_queries(api, django_assert_num_queries):
    """Placing and paying are the hot path when a holiday goes on sale: guard their cost.

    Place (7): versions; the day's pools with the channel's allocation flag; in a savepoint:
    order, line, "placed" event, the pool's conditional UPDATE, the take.
    Pay (16): versions; the order; in a savepoint: the order locked, its payments, the payment,
    pending → paid, lines with slots, the ticket, its signed code, both events in one insert,
    the takes, the take, the pool, and three report aggregates (money by method, sales by
    product, visitor origin). (Savepoints stand for BEGIN/COMMIT in a test.)"""
    ln = line(api, "adult", 1)
    # Warm the catalog, rights, token and key caches, as a running server has them.
    for _warm in range(2):  # the first makes the signing key, the second caches it
        pay_cash(api, place(api, [ln])["code"])
    with django_assert_num_queries(7 + 2):
        order = place(api, [ln])
    with django_assert_num_queries(16 + 2):
        pay_cash(api, order["code"])


def test_a_cached_token_follows_revocation_roles_and_deactivation(api):
    """Bearer tokens are cached per process; every change that matters reaches the next request."""
    from django.contrib.auth.models import Group

    from admit.accounts.models import ApiToken, User
    from admit.accounts.services import token_revoke

    ln = line(api, "adult", 1)
    place(api, [ln])  # the token is cached now
    cashier = User.objects.get(username="cashier")
    role = Group.objects.get(name="cashier")
    cashier.groups.remove(role)
    assert place(api, [ln], status=403)["error"]["code"] == "permission_denied"
    cashier.groups.add(role)
    place(api, [ln])
    cashier.is_active = False
    cashier.save()
    assert place(api, [ln], status=401)["error"]["code"] == "not_authenticated"
    cashier.is_active = True
    cashier.save()
    place(api, [ln])
    token_revoke(token=ApiToken.objects.get(user=cashier, name="test"), actor=None)
    assert place(api, [ln], status=401)["error"]["code"] == "not_authenticated"
