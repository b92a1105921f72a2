"""Refunds, date changes, online payments with signed callbacks, coupons and discounts."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
from django.test import Client

from admit.catalog.services import product_save
from admit.inventory.models import Pool
from admit.reports.checks import report_problems
from admit.sales.checks import capacity_problems, money_problems
from admit.sales.models import Coupon, Order, Payment, Refund, SandboxPayment
from admit.sales.providers import SandboxProvider
from admit.tickets.models import Ticket
from tests.sales_helpers import MON, SAT, line, pay_cash, place, pool_at, product, slot_id

pytestmark = pytest.mark.django_db

NOTIFY = "/api/v1/payments/sandbox/notify"


@pytest.fixture
def api(clock, cashier_api):
    return cashier_api


def fresh_token(username):
    from admit.accounts.models import User
    from tests.conftest import bearer_client

    return bearer_client(User.objects.get(username=username))


def consistent():
    assert capacity_problems() == []
    assert money_problems() == []
    assert report_problems() == []


def paid_order(api, code="adult", quantity=2, **kw):
    return pay_cash(api, place(api, [line(api, code, quantity, **kw)])["code"])["order"]


def refund(api, code, tickets=None, status=201):
    body = {"reason": "visitor changed plans"}
    if tickets is not None:
        body["tickets"] = tickets
    response = api.post(f"/api/v1/orders/{code}/refunds", body, content_type="application/json")
    assert response.status_code == status, response.content
    return response.json()


def test_refund_whole_order_gives_money_and_places_back(api):
    order = paid_order(api, quantity=3)
    body = refund(api, order["code"])
    assert body["refunded"] == "360.00" and body["fee"] == "0.00"
    assert {t["status"] for t in body["order"]["tickets"]} == {"refunded"}
    assert body["order"]["refunded"] == "360.00"
    assert pool_at("adult", MON, "09:30").sold == 0
    refund(api, order["code"], status=409)  # nothing left to refund
    consistent()


def test_refund_one_ticket_with_a_fee(api, supervisor):
    adult = product("adult")
    adult.refund_fee_percent = Decimal("10")
    product_save(instance=adult, actor=supervisor)
    order = paid_order(api, quantity=2)
    first = order["tickets"][0]["id"]
    body = refund(api, order["code"], tickets=[first])
    assert body["refunded"] == "108.00" and body["fee"] == "12.00"
    statuses = {t["id"]: t["status"] for t in body["order"]["tickets"]}
    assert statuses[first] == "refunded" and list(statuses.values()).count("valid") == 1
    assert pool_at("adult", MON, "09:30").sold == 1
    consistent()


def test_refund_refusals_change_nothing(api, supervisor, demo):
    order = paid_order(api, quantity=2)
    other = paid_order(api, quantity=1)
    tickets = [t["id"] for t in order["tickets"]]
    # Another order's ticket.
    body = refund(api, order["code"], tickets=[other["tickets"][0]["id"]], status=404)
    assert body["error"]["code"] == "ticket_not_found"
    # A used ticket.
    Ticket.objects.filter(pk=tickets[0]).update(entries_used=1, status="used")
    assert refund(api, order["code"], tickets=[tickets[0]], status=409)["error"]["code"] == (
        "ticket_used"
    )
    # Not refundable.
    adult = product("adult")
    adult.refundable = False
    product_save(instance=adult, actor=supervisor)
    assert refund(api, order["code"], tickets=[tickets[1]], status=409)["error"]["code"] == (
        "ticket_not_refundable"
    )
    # An unpaid order.
    pending = place(api, [line(api, "child", 1)])
    assert refund(api, pending["code"], status=409)["error"]["code"] == "order_not_paid"
    assert not Refund.objects.exists()
    assert Ticket.objects.filter(status="refunded").count() == 0


def test_refund_deadline(api, supervisor, clock):
    adult = product("adult")
    adult.refund_deadline_hours = 24
    product_save(instance=adult, actor=supervisor)
    order = paid_order(api, quantity=1)
    # The visit day opens at 07:30 on MON; 24 h before is 07:30 the day before.
    clock.move_to(dt.datetime(2027, 1, 10, 7, 31, tzinfo=dt.timezone(dt.timedelta(hours=8))))
    api = fresh_token("cashier")  # the first one has expired by then
    assert refund(api, order["code"], status=409)["error"]["code"] == "deadline_passed"
    clock.move_to(dt.datetime(2027, 1, 10, 7, 29, tzinfo=dt.timezone(dt.timedelta(hours=8))))
    assert refund(api, order["code"])["refunded"] == "120.00"


def test_cashier_without_the_right_cannot_refund(demo, clock, api):
    from admit.accounts.models import User
    from tests.conftest import bearer_client

    order = paid_order(api)
    finance = bearer_client(User.objects.get(username="finance"))
    response = finance.post(
        f"/api/v1/orders/{order['code']}/refunds", {}, content_type="application/json"
    )
    assert response.status_code == 403
    assert not Refund.objects.exists()


def test_a_pool_that_keeps_capacity_on_refund(api):
    visitors = [{"name": "观众", "id_type": "passport", "id_number": "P1234567"}]
    order = paid_order(api, code="show", quantity=1, start="19:30", visitors=visitors)
    refund(api, order["code"])
    show = Pool.objects.get(zone__code="theatre", date=MON)
    assert show.sold == 1  # the evening show does not resell refunded seats
    consistent()


def reschedule(api, code, status=200, **body):
    response = api.post(f"/api/v1/orders/{code}/reschedule", body, content_type="application/json")
    assert response.status_code == status, response.content
    return response.json()


def test_reschedule_to_a_dearer_day_needs_the_difference(api):
    order = paid_order(api, quantity=2)
    target = {"date": SAT.isoformat(), "slot": slot_id(api, "adult", SAT)}
    body = reschedule(api, order["code"], status=409, **target)
    assert body["error"]["code"] == "payment_required"
    assert body["error"]["details"]["amount"] == "60.00"
    assert Pool.objects.filter(date=SAT, held__gt=0).count() == 0
    assert Pool.objects.filter(date=SAT, sold__gt=0).count() == 0
    body = reschedule(api, order["code"], payment={"method": "cash", "amount": "60.00"}, **target)
    tickets = body["order"]["tickets"]
    assert [t["status"] for t in tickets].count("exchanged") == 2
    fresh = [t for t in tickets if t["status"] == "valid"]
    assert [t["price"] for t in fresh] == ["150.00", "150.00"]
    assert {t["valid_from"] for t in fresh} == {SAT.isoformat()}
    assert pool_at("adult", MON, "09:30").sold == 0
    assert pool_at("adult", SAT, "09:30").sold == 2
    consistent()


def test_reschedule_to_a_cheaper_day_pays_back(api):
    order = paid_order(api, quantity=1, day=SAT)
    reschedule(api, order["code"], date=MON.isoformat(), slot=slot_id(api, "adult", MON))
    refunds = Refund.objects.filter(order__code=order["code"])
    assert [r.amount for r in refunds] == [Decimal("30.00")]
    consistent()


def test_reschedule_refusals(api):
    order = paid_order(api, quantity=1)
    body = reschedule(api, order["code"], status=400, date="2026-01-01")
    assert body["error"]["code"] == "past_date"
    body = reschedule(api, order["code"], status=400, date=SAT.isoformat())
    assert body["error"]["code"] == "slot_required"
    sat_slot = slot_id(api, "adult", SAT)
    pool = Pool.objects.get(pk=sat_slot)
    Pool.objects.filter(pk=sat_slot).update(capacity=pool.reserved + pool.held + pool.sold)
    body = reschedule(
        api,
        order["code"],
        status=409,
        date=SAT.isoformat(),
        slot=sat_slot,
        payment={"method": "cash", "amount": "30.00"},
    )
    assert body["error"]["code"] == "sold_out"
    assert Ticket.objects.filter(status="exchanged").count() == 0
    consistent()


# --- Online payments -------------------------------------------------------------------------


def start_online(api, order_code):
    response = api.post(
        f"/api/v1/orders/{order_code}/payments",
        {"method": "online"},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    return response.json()


def notify(body, headers):
    return Client().post(
        NOTIFY,
        body,
        content_type="application/json",
        **{f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items()},
    )


def test_online_payment_with_signed_callback(api):
    order = place(api, [line(api, "adult", 2)])
    started = start_online(api, order["code"])
    assert started["amount"] == "240.00" and "/sandbox-pay/" in started["pay_url"]
    body, headers = SandboxProvider().customer_pays(ref=started["ref"])
    response = notify(body, headers)
    assert response.status_code == 200, response.content
    assert Order.objects.get(code=order["code"]).status == "paid"
    # The provider repeats its notification: nothing more happens.
    assert notify(body, headers).status_code == 200
    assert Payment.objects.filter(order__code=order["code"]).count() == 1
    assert Ticket.objects.filter(order__code=order["code"]).count() == 2
    consistent()


def test_forged_and_stale_callbacks_change_nothing(api):
    order = place(api, [line(api, "adult", 1)])
    started = start_online(api, order["code"])
    body, headers = SandboxProvider().customer_pays(ref=started["ref"])
    flipped = dict(
        headers,
        **{
            "X-Sandbox-Signature": ("0" if headers["X-Sandbox-Signature"][0] != "0" else "1")
            + headers["X-Sandbox-Signature"][1:]
        },
    )
    response = notify(body, flipped)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_signature"
    tampered = body.replace(b"120.00", b"1.00")
    assert notify(tampered, headers).json()["error"]["code"] == "invalid_signature"
    stale = dict(
        headers, **{"X-Sandbox-Timestamp": str(int(headers["X-Sandbox-Timestamp"]) - 3600)}
    )
    assert notify(body, stale).json()["error"]["code"] in {
        "stale_notification",
        "invalid_signature",
    }
    assert notify(b"{}", {}).status_code == 400
    assert not Payment.objects.exists()
    assert Order.objects.get(code=order["code"]).status == "pending"


def test_late_callback_for_an_expired_order_is_refunded_automatically(api, clock):
    order = place(api, [line(api, "adult", 1)])
    started = start_online(api, order["code"])
    clock.shift(dt.timedelta(minutes=20))
    api.get(f"/api/v1/orders/{order['code']}")  # expires it
    body, headers = SandboxProvider().customer_pays(ref=started["ref"])
    assert notify(body, headers).status_code == 200
    order_row = Order.objects.get(code=order["code"])
    assert order_row.status == "expired"
    payment = Payment.objects.get(order=order_row)
    refund_row = Refund.objects.get(order=order_row)
    assert refund_row.amount == payment.amount == Decimal("120.00")
    assert refund_row.reason == "late_payment"
    assert SandboxPayment.objects.get(ref=started["ref"]).refunded == Decimal("120.00")
    consistent()


def test_refund_of_an_online_payment_goes_through_the_provider(api):
    order = place(api, [line(api, "adult", 2)])
    started = start_online(api, order["code"])
    notify(*SandboxProvider().customer_pays(ref=started["ref"]))
    ticket = Ticket.objects.filter(order__code=order["code"]).first()
    refund(api, order["code"], tickets=[ticket.pk])
    assert SandboxPayment.objects.get(ref=started["ref"]).refunded == Decimal("120.00")
    assert Refund.objects.get().provider_ref.startswith("SBXR-")
    consistent()


def test_the_sandbox_pay_page(api, client):
    order = place(api, [line(api, "adult", 1)])
    started = start_online(api, order["code"])
    page = client.get(f"/sandbox-pay/{started['ref']}", HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200
    text = page.content.decode()
    assert "120.00" in text and "<svg" in text and "sandbox" in text.lower()
    assert client.get("/sandbox-pay/NOPE").status_code == 404


# --- Coupons and discounts ------------------------------------------------------------------


@pytest.fixture
def coupons(supervisor):
    from django.utils import timezone

    from admit.core.services import model_save

    made = {}
    for code, fields in {
        "SPRING10": {"percent": Decimal("10")},
        "MINUS50": {"amount": Decimal("50.00"), "min_spend": Decimal("200.00")},
        "ONCE": {"amount": Decimal("5.00"), "max_uses": 1},
        "PERPHONE": {"amount": Decimal("5.00"), "max_uses_per_customer": 1},
    }.items():
        made[code] = model_save(
            instance=Coupon(code=code, name=code, valid_from=timezone.now(), **fields),
            actor=supervisor,
        )
    return made


def test_coupons(api, coupons):
    assert place(api, [line(api, "adult", 2)], coupon="spring10")["total"] == "216.00"
    body = place(api, [line(api, "adult", 1)], coupon="MINUS50", status=400)
    assert body["error"]["code"] == "coupon_min_spend"
    assert place(api, [line(api, "adult", 2)], coupon="MINUS50")["total"] == "190.00"
    place(api, [line(api, "adult", 1)], coupon="ONCE")
    assert place(api, [line(api, "adult", 1)], coupon="ONCE", status=409)["error"]["code"] == (
        "coupon_used_up"
    )
    place(api, [line(api, "adult", 1)], coupon="PERPHONE", contact_phone="139")
    assert (
        place(api, [line(api, "adult", 1)], coupon="PERPHONE", contact_phone="139", status=409)[
            "error"
        ]["code"]
        == "coupon_used_up"
    )
    place(api, [line(api, "adult", 1)], coupon="PERPHONE", contact_phone="138")
    assert place(api, [line(api, "adult", 1)], coupon="NOSUCH", status=400)["error"]["code"] == (
        "coupon_invalid"
    )


def test_cancelled_order_gives_its_coupon_back(api, coupons):
    order = place(api, [line(api, "adult", 1)], coupon="ONCE")
    api.post(f"/api/v1/orders/{order['code']}/cancel")
    place(api, [line(api, "adult", 1)], coupon="ONCE")


def test_manual_discount_within_the_cashiers_limit(api):
    order = place(
        api, [line(api, "adult", 2)], manual_discount={"percent": "10", "reason": "local resident"}
    )
    assert order["total"] == "216.00"
    body = place(api, [line(api, "adult", 2)], manual_discount={"percent": "20"}, status=403)
    assert body["error"]["code"] == "discount_over_limit"
    body = place(api, [line(api, "adult", 2)], manual_discount={"amount": "30.00"}, status=403)
    assert body["error"]["code"] == "discount_over_limit"
    assert Order.objects.count() == 1


def test_receipt_breakdown(api, coupons):
    order = place(
        api,
        [line(api, "adult", 2), line(api, "child", 1)],
        coupon="SPRING10",
        manual_discount={"amount": "5.00", "reason": "rounding"},
    )
    assert order["subtotal"] == "300.00"
    adjustments = [a for ln in order["lines"] for a in ln["adjustments"]]
    assert {a["kind"] for a in adjustments} == {"coupon", "manual"}
    total_off = sum(Decimal(a["amount"]) for a in adjustments)
    assert Decimal(order["total"]) == Decimal("300.00") + total_off == Decimal("265.00")
    consistent()


def test_notify_body_is_json(api):
    # Unknown reference in a correctly signed notification.
    p = SandboxProvider()
    body = json.dumps(
        {"ref": "SBXNOPE", "txn_id": "T1", "amount": "1.00", "status": "paid"}
    ).encode()
    headers = {
        "X-Sandbox-Timestamp": str(int(dt.datetime.now().timestamp())),
        "X-Sandbox-Nonce": "n1",
    }
    headers["X-Sandbox-Signature"] = p.sign(
        body=body, timestamp=headers["X-Sandbox-Timestamp"], nonce="n1"
    )
    response = notify(body, headers)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "unknown_payment"
