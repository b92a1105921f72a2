"""The sandbox OTA connector, driven by the reference client: signed calls, a five-minute
window, replays refused, creation idempotent on the platform's order number, cancellation with
refund, and notices back to the platform through the outbox."""

from __future__ import annotations

import datetime as dt
import json
import time
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

import pytest
import time_machine
from django.test import Client

from admit.inventory.models import Pool
from admit.inventory.services import pools_ensure
from admit.partners.client import PartnerError, SandboxOTAClient, verify_notice
from admit.partners.connectors import seen_requests_purge
from admit.partners.models import OutboxMessage, PartnerBooking, SeenRequest
from admit.partners.services import outbox_run
from admit.sales.models import Order, Payment, Refund
from tests.gate_helpers import AT_GATE, device_client, scan
from tests.partner_helpers import point_at, receiver
from tests.sales_helpers import MON, product

SECRET = "demo-ctrip-secret"


def django_transport(client: Client):
    def send(method: str, url: str, headers: dict[str, str], body: bytes) -> tuple[int, Any]:
        extra = {k: v for k, v in headers.items() if k != "Content-Type"}
        response = client.generic(
            method, urlsplit(url).path, body, content_type="application/json", headers=extra
        )
        return response.status_code, json.loads(response.content) if response.content else None

    return send


@pytest.fixture
def ota(demo, clock) -> SandboxOTAClient:
    return SandboxOTAClient(
        "http://testserver", "ctrip", SECRET, transport=django_transport(Client())
    )


def pool() -> Pool:
    pools_ensure(site=product("adult").site, day=MON)
    return Pool.objects.get(zone__code="main", date=MON, start=dt.time(9, 30))


def create(ota: SandboxOTAClient, order_no: str = "CT-1001", quantity: int = 2, **more: Any):
    return ota.create(order_no, "adult", MON.isoformat(), quantity, slot="09:30", **more)


def refused(fn, *args, **kwargs) -> tuple[int, dict[str, Any]]:
    with pytest.raises(PartnerError) as info:
        fn(*args, **kwargs)
    return info.value.status, info.value.body


def test_create_confirms_and_a_retry_gets_the_same_order(ota):
    before = pool()
    first = create(ota, contact={"name": "王芳", "phone": "13800000000"}, unitPrice="105.00")
    assert first["status"] == "paid" and len(first["tickets"]) == 2
    assert all(t["code"] for t in first["tickets"])
    order = Order.objects.get(code=first["orderNo"])
    assert order.channel.code == "ctrip" and order.total == Decimal("210.00")
    assert Payment.objects.get(order=order).method == "account"
    assert pool().sold == before.sold + 2
    again = create(ota, contact={"name": "王芳", "phone": "13800000000"})  # a retry: new signature
    assert again["orderNo"] == first["orderNo"] and again["tickets"] == first["tickets"]
    assert Order.objects.count() == 1 and pool().sold == before.sold + 2
    status, body = refused(create, ota, quantity=3)  # that order number for something else
    assert (status, body["error"]) == (409, "reference_reused")
    assert ota.query("CT-1001")["orderNo"] == first["orderNo"]


def test_a_replayed_request_changes_nothing(ota):
    headers, body = ota.signed(
        "create",
        {
            "otaOrderId": "CT-7",
            "productId": "adult",
            "date": MON.isoformat(),
            "quantity": 1,
            "slot": "09:30",
        },
    )
    status, first = ota.send("create", headers, body)
    assert status == 200, first
    orders = Order.objects.count()
    status, again = ota.send("create", headers, body)
    assert (status, again["error"]) == (409, "replayed_request")
    assert Order.objects.count() == orders == 1


def test_a_badly_signed_or_stale_request_changes_nothing(ota):
    payload = {
        "otaOrderId": "CT-8",
        "productId": "adult",
        "date": MON.isoformat(),
        "quantity": 1,
        "slot": "09:30",
    }
    headers, body = ota.signed("create", payload)
    tampered = body.replace(b'"quantity": 1', b'"quantity": 9')
    status, answer = ota.send("create", headers, tampered)
    assert (status, answer["error"]) == (401, "bad_signature")
    status, answer = ota.send("cancel", headers, body)  # signed for another service
    assert (status, answer["error"]) == (401, "bad_signature")
    wrong_key = SandboxOTAClient(
        "http://testserver", "ctrip", "not-the-secret", transport=ota.transport
    )
    assert refused(wrong_key.create, "CT-8", "adult", MON.isoformat(), 1)[0] == 401
    stranger = SandboxOTAClient("http://testserver", "nobody", SECRET, transport=ota.transport)
    assert refused(stranger.query, "CT-8")[1]["error"] == "partner_unauthorized"
    for skew in (-301, 301):
        late = SandboxOTAClient(
            "http://testserver",
            "ctrip",
            SECRET,
            transport=ota.transport,
            clock=lambda skew=skew: time.time() + skew,
        )
        status, answer = refused(late.create, "CT-8", "adult", MON.isoformat(), 1, slot="09:30")
        assert (status, answer["error"]) == (401, "stale_request")
    assert not Order.objects.exists() and not PartnerBooking.objects.exists()
    assert not SeenRequest.objects.exists()
    # Still fine within the window.
    near = SandboxOTAClient(
        "http://testserver",
        "ctrip",
        SECRET,
        transport=ota.transport,
        clock=lambda: time.time() - 290,
    )
    assert near.create("CT-8", "adult", MON.isoformat(), 1, slot="09:30")["status"] == "paid"


def test_verify_checks_without_writing_and_a_price_change_is_refused(ota):
    answer = ota.call(
        "verify", {"productId": "adult", "date": MON.isoformat(), "quantity": 2, "slot": "09:30"}
    )
    assert answer == {"bookable": True, "unitPrice": "105.00"}
    status, body = refused(create, ota, unitPrice="99.00")
    assert (status, body["error"]) == (409, "price_changed")
    status, body = refused(ota.create, "CT-9", "adult", MON.isoformat(), 1, slot="10:00")
    assert (status, body["error"]) == (400, "unknown_availability")
    assert not Order.objects.exists() and not PartnerBooking.objects.exists()
    assert pool().held == 0


def test_cancel_refunds_and_the_platform_is_told(ota):
    created = create(ota)
    with receiver() as r:
        point_at("ctrip", r.url)
        cancelled = ota.cancel("CT-1001", reason="行程变更")
        assert cancelled["status"] == "cancelled" and cancelled["refunded"] == "210.00"
        assert ota.cancel("CT-1001")["refunded"] == "210.00"  # again: nothing more
        assert Refund.objects.filter(order__code=created["orderNo"]).count() == 1
        assert [d.ok for d in outbox_run(worker="w")] == [True]
    (req,) = r.requests
    assert req["body"]["event"] == "refunded" and req["body"]["reference"] == "CT-1001"
    assert verify_notice(SECRET, req["headers"], req["raw"])
    assert not verify_notice("another", req["headers"], req["raw"])
    assert refused(ota.query, "CT-404")[1]["error"] == "booking_not_found"


def test_a_scan_queues_a_redemption_notice_for_the_platform(ota):
    created = create(ota, quantity=1)
    point_at("ctrip", "http://127.0.0.1:9/notices")
    lane = device_client("east-1")
    with time_machine.travel(AT_GATE, tick=True):
        assert scan(lane, "east-1", code=created["tickets"][0]["code"])["result"] == "allow"
    message = OutboxMessage.objects.get()
    body = json.loads(message.body)
    assert (message.topic, message.partner.code) == ("booking.redeemed", "ctrip")
    assert body["reference"] == "CT-1001" and body["ticket"] == created["tickets"][0]["serial"]
    assert ota.query("CT-1001")["tickets"][0]["status"] == "used"
    assert refused(ota.cancel, "CT-1001")[1]["error"] == "booking_used"


def test_unknown_connectors_and_old_signatures(ota, client):
    response = client.post("/ota/nope/create", b"{}", content_type="application/json")
    assert response.status_code == 404 and response.json()["error"] == "unknown_connector"
    create(ota)
    assert SeenRequest.objects.count() == 1
    with time_machine.travel(dt.datetime.now(dt.UTC) + dt.timedelta(minutes=11)):
        assert seen_requests_purge() == 1


def test_a_date_change_at_the_venue_tells_the_platform(ota, supervisor):
    from admit.sales import services as sales

    created = create(ota, quantity=1)
    point_at("ctrip", "http://127.0.0.1:9/notices")
    tuesday = MON + dt.timedelta(days=1)
    pools_ensure(site=product("adult").site, day=tuesday)
    slot = Pool.objects.get(zone__code="main", date=tuesday, start=dt.time(9, 30))
    order = Order.objects.get(code=created["orderNo"])
    (new,) = sales.order_reschedule(order=order, actor=supervisor, date=tuesday, slot=slot.pk)
    message = OutboxMessage.objects.get()
    body = json.loads(message.body)
    assert message.topic == "booking.changed" and body["reference"] == "CT-1001"
    assert body["tickets"] == [created["tickets"][0]["serial"]]
    assert body["new_tickets"] == [new.serial] and body["date"] == tuesday.isoformat()
