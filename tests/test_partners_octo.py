"""The OCTO supplier API: every response validated against the OCTO specification's schemas,
bookings through the sales engine (capacity, prices, account charges), retries by uuid."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.test import Client

from admit.catalog.models import Channel, Product
from admit.core.services import model_save
from admit.inventory.models import CapacityTemplate, Pool, TemplateAllocation
from admit.inventory.services import pools_ensure
from admit.partners.models import OutboxMessage, PartnerBooking
from admit.partners.services import outbox_run
from admit.sales.models import Order, Payment
from tests.gate_helpers import AT_GATE, device_client, scan
from tests.octo_contract import check, validate
from tests.partner_helpers import point_at, receiver
from tests.sales_helpers import MON

KEY = "prt_demo_klook_key"  # the demo's OCTO reseller (Klook sandbox)
# Booking uuids are UUIDs (the specification's format).
B1 = "0b6c7d7e-5f0a-4c39-9b1e-000000000001"
B2 = "0b6c7d7e-5f0a-4c39-9b1e-000000000002"
B3 = "0b6c7d7e-5f0a-4c39-9b1e-000000000003"
B4 = "0b6c7d7e-5f0a-4c39-9b1e-000000000004"
DOC1 = "0b6c7d7e-5f0a-4c39-9b1e-00000000d0c1"
DOC2 = "0b6c7d7e-5f0a-4c39-9b1e-00000000d0c2"


@pytest.fixture
def octo(demo, clock) -> Client:
    return octo_reseller()


def octo_reseller() -> Client:
    """The demo's OCTO reseller, with a quota of its own; a client sending its key."""
    # The reseller's own quota: 10 % of the main park's time slots (before the pools are made).
    model_save(
        instance=TemplateAllocation(
            template=CapacityTemplate.objects.get(zone__code="main"),
            channel=Channel.objects.get(code="klook"),
            percent=10,
            release_hours=24,
        ),
        actor=None,
    )
    return Client(HTTP_AUTHORIZATION=f"Bearer {KEY}", HTTP_OCTO_CAPABILITIES="octo/pricing")


def get(client: Client, path: str, spec_path: str | None = None, **query: Any) -> Any:
    response = client.get(f"/octo{path}", query)
    return response, check(response, "GET", spec_path or path)


def post(client: Client, path: str, body: dict[str, Any], spec_path: str | None = None) -> Any:
    response = client.post(f"/octo{path}", body, content_type="application/json")
    return response, check(response, "POST", spec_path or path)


def adult() -> Product:
    return Product.objects.get(code="adult")


def slot_pool(start: str = "09:30") -> Pool:
    pools_ensure(site=adult().site, day=MON)
    return Pool.objects.get(zone__code="main", date=MON, start=dt.time.fromisoformat(start))


def reserve(client: Client, uuid: str = B1, units: int = 2, **extra: Any) -> Any:
    body = {
        "uuid": uuid,
        "productId": str(adult().pk),
        "optionId": "DEFAULT",
        "availabilityId": "2027-01-11T09:30:00+08:00",
        "unitItems": [{"unitId": "adult"} for _ in range(units)],
        "resellerReference": "KL-778",
        **extra,
    }
    return post(client, "/bookings", body, "/bookings/")


def test_supplier_capabilities_and_products_follow_the_spec(octo):
    response, supplier = get(octo, "/supplier", "/supplier/")
    assert response.status_code == 200 and supplier["id"] == "yunling"
    assert response["Octo-Capabilities"] == "octo/pricing"
    _r, caps = get(octo, "/capabilities", "/capabilities/")
    assert [c["id"] for c in caps] == ["octo/pricing", "octo/webhooks"]
    _r, products = get(octo, "/products", "/products/")
    by_ref = {p["reference"]: p for p in products}
    assert "adult" in by_ref and "senior" not in by_ref  # real-name tickets need ID numbers
    product = by_ref["adult"]
    assert product["availabilityType"] == "START_TIME"
    option = product["options"][0]
    assert option["id"] == "DEFAULT"
    assert option["availabilityLocalStartTimes"] == ["07:30", "09:30", "11:30", "13:30"]
    unit = option["units"][0]
    assert (unit["id"], unit["type"]) == ("adult", "ADULT")
    # Sunday (the demo day): net is the partner channel's weekend price, retail the online one.
    assert unit["pricingFrom"][0]["net"] == 13500 and unit["pricingFrom"][0]["retail"] == 14000
    _r, one = get(octo, f"/products/{product['id']}", "/products/{id}")
    assert one["id"] == product["id"]


def test_without_the_pricing_capability_there_are_no_prices(demo, clock):
    client = Client(HTTP_AUTHORIZATION=f"Bearer {KEY}")
    _r, products = get(client, "/products", "/products/")
    assert "pricingFrom" not in products[0]["options"][0]["units"][0]


def test_bad_keys_and_ids_get_octo_errors(octo):
    response, body = get(Client(), "/products", "/products/")
    assert response.status_code == 401 and body["error"] == "UNAUTHORIZED"
    response, body = get(Client(HTTP_AUTHORIZATION="Bearer prt_nope"), "/supplier", "/supplier/")
    assert response.status_code == 401 and body["error"] == "UNAUTHORIZED"
    response, body = get(octo, "/products/99999", "/products/{id}")
    assert response.status_code == 400
    assert body == {
        "error": "INVALID_PRODUCT_ID",
        "errorMessage": "The productId was missing or invalid",
        "productId": "99999",
    }
    response, body = post(
        octo,
        "/availability",
        {"productId": str(adult().pk), "optionId": "VIP", "localDate": "2027-01-11"},
        "/availability/",
    )
    assert body["error"] == "INVALID_OPTION_ID" and body["optionId"] == "VIP"


def test_availability_and_calendar_come_from_the_pools(octo):
    body = {"productId": str(adult().pk), "optionId": "DEFAULT", "localDate": "2027-01-11"}
    _r, slots = post(octo, "/availability", body, "/availability/")
    assert [s["id"] for s in slots] == [
        "2027-01-11T07:30:00+08:00",
        "2027-01-11T09:30:00+08:00",
        "2027-01-11T11:30:00+08:00",
        "2027-01-11T13:30:00+08:00",
    ]
    morning = slots[1]
    assert morning["status"] == "AVAILABLE" and morning["available"]
    pool = slot_pool()
    # The partner's own 10 % allocation plus the shared part (what the sales engine allows).
    assert (
        morning["vacancies"]
        == pool.capacity - pool.reserved + pool.allocations.get(channel__code="klook").quota
    )
    assert morning["unitPricing"][0]["net"] == 10500  # Monday: weekday net price
    _r, picked = post(
        octo,
        "/availability",
        {
            **body,
            "availabilityIds": ["2027-01-11T11:30:00+08:00"],
            "units": [{"id": "adult", "quantity": 3}],
        },
        "/availability/",
    )
    assert [p["id"] for p in picked] == ["2027-01-11T11:30:00+08:00"]
    assert picked[0]["pricing"]["net"] == 3 * 10500
    calendar_body = {**body, "localDateStart": "2027-01-10", "localDateEnd": "2027-01-16"}
    del calendar_body["localDate"]
    _r, days = post(octo, "/availability/calendar", calendar_body, "/availability/calendar")
    assert [d["localDate"] for d in days][:2] == ["2027-01-10", "2027-01-11"]
    assert len(days) == 7 and all(d["status"] in ("AVAILABLE", "CLOSED") for d in days)
    response, err = post(octo, "/availability", {**body, "localDate": "Monday"}, "/availability/")
    assert response.status_code == 400 and err["error"] == "BAD_REQUEST"


def test_reserve_confirm_cancel_through_the_sales_engine(octo):
    pool = slot_pool()
    response, booking = reserve(octo, expirationMinutes=45)
    assert response.status_code == 200, booking
    assert booking["status"] == "ON_HOLD" and booking["uuid"] == B1
    assert booking["resellerReference"] == "KL-778"
    assert booking["pricing"]["net"] == 2 * 10500 and booking["pricing"]["retail"] == 2 * 11000
    assert booking["utcExpiresAt"] is not None
    order = Order.objects.get(code=booking["supplierReference"])
    assert order.channel.code == "klook" and order.account.code == "ota-klook"
    assert order.total == Decimal("210.00")
    held = Pool.objects.get(pk=pool.pk).held
    # The partner retries the same create (a timeout on its side): the same booking, no new hold.
    response, again = reserve(octo)
    assert again["id"] == booking["id"] and again["supplierReference"] == order.code
    assert Pool.objects.get(pk=pool.pk).held == held and Order.objects.count() == 1
    # The same uuid for something else is refused and changes nothing.
    response, err = reserve(octo, units=3)
    assert response.status_code == 400 and err["error"] == "INVALID_BOOKING_UUID"
    assert Order.objects.count() == 1
    response, confirmed = post(
        octo,
        f"/bookings/{B1}/confirm",
        {"contact": {"fullName": "Li Lei", "emailAddress": "li@example.com"}},
        "/bookings/{uuid}/confirm",
    )
    assert response.status_code == 200, confirmed
    assert confirmed["status"] == "CONFIRMED" and confirmed["utcConfirmedAt"]
    assert confirmed["contact"]["fullName"] == "Li Lei"
    codes = [u["ticket"]["deliveryOptions"][0]["deliveryValue"] for u in confirmed["unitItems"]]
    assert len(codes) == 2 and all(codes)
    payment = Payment.objects.get(order=order)
    assert payment.method == "account" and payment.amount == Decimal("210.00")
    pool.refresh_from_db()
    assert pool.held == held - 2
    # Confirming twice changes nothing.
    _r, twice = post(octo, f"/bookings/{B1}/confirm", {"contact": {}}, "/bookings/{uuid}/confirm")
    assert twice["status"] == "CONFIRMED" and Payment.objects.filter(order=order).count() == 1
    sold = Pool.objects.get(pk=pool.pk).sold
    response, cancelled = post(
        octo, f"/bookings/{B1}/cancel", {"reason": "guest ill"}, "/bookings/{uuid}/cancel"
    )
    assert response.status_code == 200, cancelled
    assert cancelled["status"] == "CANCELLED"
    assert cancelled["cancellation"]["refund"] == "FULL"
    assert cancelled["cancellation"]["reason"] == "guest ill"
    assert Pool.objects.get(pk=pool.pk).sold == sold - 2
    _r, fetched = get(octo, f"/bookings/{B1}", "/bookings/{uuid}")
    assert fetched["status"] == "CANCELLED"
    _r, listed = get(octo, "/bookings", "/bookings/", resellerReference="KL-778")
    assert [b["uuid"] for b in listed] == [B1]


def test_a_hold_expires_and_can_be_extended_before(octo, clock):
    _r, booking = reserve(octo, expirationMinutes=10)
    clock.shift(dt.timedelta(minutes=8))
    response, extended = post(
        octo, f"/bookings/{B1}/extend", {"expirationMinutes": 30}, "/bookings/{uuid}/extend"
    )
    assert response.status_code == 200 and extended["status"] == "ON_HOLD"
    assert extended["utcExpiresAt"] > booking["utcExpiresAt"]
    held = slot_pool().held
    clock.shift(dt.timedelta(minutes=31))
    response, err = post(
        octo, f"/bookings/{B1}/confirm", {"contact": {}}, "/bookings/{uuid}/confirm"
    )
    assert response.status_code == 400 and err["error"] == "INVALID_BOOKING_UUID"
    assert slot_pool().held == held - 2  # the places went back
    _r, fetched = get(octo, f"/bookings/{B1}", "/bookings/{uuid}")
    assert fetched["status"] == "EXPIRED"
    response, err = post(octo, f"/bookings/{B1}/extend", {}, "/bookings/{uuid}/extend")
    assert err["error"] == "UNPROCESSABLE_ENTITY"


def test_sold_out_and_bad_bookings_change_nothing(octo):
    pool = slot_pool()
    pool.allocations.all().update(quota=0)
    Pool.objects.filter(pk=pool.pk).update(capacity=pool.held + pool.sold, reserved=0)
    response, err = reserve(octo)
    assert response.status_code == 400 and err["error"] == "UNPROCESSABLE_ENTITY"
    response, err = reserve(octo, uuid=B2, unitItems=[{"unitId": "child"}])
    assert err == {**err, "error": "INVALID_UNIT_ID", "unitId": "child"}
    response, err = reserve(octo, uuid=B3, availabilityId="2027-01-11T10:00:00+08:00")
    assert err["error"] == "INVALID_AVAILABILITY_ID"
    response, err = reserve(octo, uuid=B4, availabilityId="2026-01-05T09:30:00+08:00")
    assert err["error"] == "INVALID_AVAILABILITY_ID"  # in the past
    response = octo.post("/octo/bookings", b"{not json", content_type="application/json")
    assert check(response, "POST", "/bookings/")["error"] == "BAD_REQUEST"
    response, err = get(octo, "/bookings/nope", "/bookings/{uuid}")
    assert err == {**err, "error": "INVALID_BOOKING_UUID", "uuid": "nope"}
    assert not Order.objects.exists() and not PartnerBooking.objects.exists()


def test_a_used_ticket_is_redeemed_and_the_partner_is_told(octo):
    reserve(octo, units=1)
    _r, confirmed = post(
        octo, f"/bookings/{B1}/confirm", {"contact": {}}, "/bookings/{uuid}/confirm"
    )
    code = confirmed["unitItems"][0]["ticket"]["deliveryOptions"][0]["deliveryValue"]
    with receiver() as r:
        point_at("klook", r.url)
        lane = device_client("east-1")
        with time_machine.travel(AT_GATE, tick=True):
            assert scan(lane, "east-1", code=code)["result"] == "allow"
            message = OutboxMessage.objects.get()
            assert message.topic == "booking.redeemed"
            assert [d.ok for d in outbox_run(worker="w")] == [True]
            _r, fetched = get(octo, f"/bookings/{B1}", "/bookings/{uuid}")
    assert fetched["status"] == "REDEEMED" and fetched["utcRedeemedAt"]
    (req,) = r.requests
    assert req["body"]["event"] == "redeemed" and req["body"]["reference"] == B1
    # OCTO's webhook: the booking as the API shows it, valid against the spec's Booking schema.
    notice = req["body"]["booking"]
    validate(notice, "Booking")
    assert notice["uuid"] == B1 and notice["status"] == "REDEEMED"
    _response, err = post(octo, f"/bookings/{B1}/cancel", {}, "/bookings/{uuid}/cancel")
    assert err["error"] == "UNPROCESSABLE_ENTITY"


def test_the_reference_client_walks_the_documented_flow(demo, clock):
    from admit.partners.client import OctoClient, PartnerError
    from tests.test_partners_ota import django_transport

    octo = OctoClient("http://testserver", KEY, transport=django_transport(Client()))
    assert octo.supplier()["id"] == "yunling"
    product = next(p for p in octo.products() if p["reference"] == "adult")
    slots = octo.availability(product["id"], MON.isoformat())
    booking = octo.reserve(product["id"], slots[1]["id"], units=2, uuid=DOC1)
    assert booking["status"] == "ON_HOLD"
    assert octo.update(DOC1, {"notes": "by the gate"})["notes"] == "by the gate"
    assert octo.confirm(DOC1, {"fullName": "Li Lei"})["status"] == "CONFIRMED"
    assert octo.booking(DOC1)["pricing"]["net"] == 21000
    assert octo.cancel(DOC1, "guest ill")["status"] == "CANCELLED"
    with pytest.raises(PartnerError) as info:
        octo.booking(DOC2)
    assert info.value.status == 400 and info.value.body["error"] == "INVALID_BOOKING_UUID"
