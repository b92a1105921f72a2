"""OCTO's booking update (``PATCH /bookings/{uuid}``) through the sales engine, and webhooks a
reseller registers itself (``octo/webhooks``), delivered through the outbox. Every answer is
validated against the specification (the webhook shapes against the standard's types)."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from admit.inventory.models import Pool
from admit.inventory.services import pools_ensure
from admit.partners.errors import WebhookNotFound
from admit.partners.models import OutboxMessage, Partner, PartnerBooking, PartnerWebhook
from admit.partners.services import (
    BookingRequest,
    booking_reserve,
    outbox_run,
    webhook_delete,
)
from admit.reports.checks import report_problems
from admit.sales.models import Order, Payment, Refund
from tests.octo_contract import BOOKING_UPDATE, check, validate_webhook
from tests.partner_helpers import receiver
from tests.sales_helpers import MON
from tests.test_partners_octo import B1, B2, adult, octo_reseller, post, reserve

U1 = "7c9e6679-7425-40de-944b-e07fc1f90ae1"
U2 = "7c9e6679-7425-40de-944b-e07fc1f90ae2"
SAT = dt.date(2027, 1, 16)  # a weekend day: the partner's net price is higher


@pytest.fixture
def octo(demo, clock) -> Client:
    return octo_reseller()


def patch(client: Client, uuid: str, body: dict[str, Any]) -> tuple[Any, Any]:
    response = client.patch(
        f"/octo/bookings/{uuid}", json.dumps(body), content_type="application/json"
    )
    return response, check(response, "PATCH", "/bookings/{uuid}")


def pool(day: dt.date = MON, start: str = "09:30") -> Pool:
    pools_ensure(site=adult().site, day=day)
    return Pool.objects.get(zone__code="main", date=day, start=dt.time.fromisoformat(start))


def confirm(client: Client, uuid: str) -> Any:
    _r, body = post(
        client, f"/bookings/{uuid}/confirm", {"contact": {}}, "/bookings/{uuid}/confirm"
    )
    return body


def test_a_held_booking_moves_to_another_slot_and_changes_its_units(octo):
    _r, held = reserve(octo, unitItems=[{"unitId": "adult", "uuid": u} for u in (U1, U2)])
    old_order = Order.objects.get(code=held["supplierReference"])
    morning, noon = pool(), pool(start="11:30")
    before = (morning.held, noon.held)
    response, moved = patch(
        octo,
        B1,
        {
            "availabilityId": "2027-01-11T11:30:00+08:00",
            "unitItems": [{"unitId": "adult", "uuid": U1}, {"unitId": "adult"}],
            "notes": "two, one a new one",
            "contact": {"fullName": "Han Meimei", "emailAddress": "han@example.com"},
            "expirationMinutes": 60,
        },
    )
    assert response.status_code == 200, moved
    assert moved["status"] == "ON_HOLD" and moved["uuid"] == B1
    assert moved["availabilityId"] == "2027-01-11T11:30:00+08:00"
    uuids = [u["uuid"] for u in moved["unitItems"]]
    assert uuids[0] == U1 and len(uuids) == 2 and uuids[1] != U2
    assert moved["notes"] == "two, one a new one"
    assert moved["contact"]["emailAddress"] == "han@example.com"
    # The places moved through the sales engine: a new held order, the old one cancelled.
    assert (pool().held, pool(start="11:30").held) == (before[0] - 2, before[1] + 2)
    old_order.refresh_from_db()
    assert old_order.status == Order.Status.CANCELLED
    new_order = Order.objects.get(code=moved["supplierReference"])
    assert new_order.status == Order.Status.PENDING and new_order.pk != old_order.pk
    # Three units now: one more place held in the same slot.
    three = [{"unitId": "adult", "uuid": u} for u in uuids] + [{"unitId": "adult"}]
    _r, grown = patch(octo, B1, {"unitItems": three})
    assert len(grown["unitItems"]) == 3 and pool(start="11:30").held == before[1] + 3
    assert grown["pricing"]["net"] == 3 * 10500
    # Confirming the changed booking charges what it now is.
    confirmed = confirm(octo, B1)
    assert confirmed["status"] == "CONFIRMED" and len(confirmed["unitItems"]) == 3
    assert Payment.objects.get(order__code=confirmed["supplierReference"]).amount == Decimal(
        "315.00"
    )


def test_a_confirmed_booking_is_moved_and_loses_a_unit(octo):
    reserve(octo, unitItems=[{"unitId": "adult", "uuid": u} for u in (U1, U2)])
    confirmed = confirm(octo, B1)
    order = Order.objects.get(code=confirmed["supplierReference"])
    sold = pool().sold
    # U2 left out: refunded (to the partner's account), its place back in the pool.
    response, smaller = patch(octo, B1, {"unitItems": [{"unitId": "adult", "uuid": U1}]})
    assert response.status_code == 200, smaller
    assert smaller["status"] == "CONFIRMED"
    assert [u["uuid"] for u in smaller["unitItems"]] == [U1]
    assert smaller["pricing"]["net"] == 10500
    assert pool().sold == sold - 1
    assert Refund.objects.filter(order=order).count() == 1
    code = smaller["unitItems"][0]["ticket"]["deliveryOptions"][0]["deliveryValue"]
    # To Saturday morning: a date change (改签), the higher weekend price charged to the account.
    response, moved = patch(octo, B1, {"availabilityId": f"{SAT}T09:30:00+08:00"})
    assert response.status_code == 200, moved
    assert moved["availabilityId"] == f"{SAT}T09:30:00+08:00"
    assert [u["uuid"] for u in moved["unitItems"]] == [U1]
    new_code = moved["unitItems"][0]["ticket"]["deliveryOptions"][0]["deliveryValue"]
    assert new_code != code and moved["unitItems"][0]["status"] == "CONFIRMED"
    assert moved["pricing"]["net"] == 13500
    extra = Payment.objects.filter(order=order).order_by("pk").last()
    assert extra is not None and (extra.method, extra.amount) == ("account", Decimal("30.00"))
    assert pool().sold == sold - 2 and pool(SAT).sold == 1
    # A confirmed booking takes no new units: book again.
    response, err = patch(
        octo, B1, {"unitItems": [{"unitId": "adult", "uuid": U1}, {"unitId": "adult"}]}
    )
    assert response.status_code == 400 and err["error"] == "UNPROCESSABLE_ENTITY"
    # Cancelled: no more changes.
    post(octo, f"/bookings/{B1}/cancel", {}, "/bookings/{uuid}/cancel")
    response, err = patch(octo, B1, {"notes": "late"})
    assert err["error"] == "UNPROCESSABLE_ENTITY"
    assert report_problems() == []  # the account charge of the date change is in the reports


def test_refused_updates_change_nothing(octo):
    _r, held = reserve(octo)
    morning = pool()
    snapshot = (morning.held, Order.objects.count(), PartnerBooking.objects.get().order_id)
    other = adult().site.products.exclude(code="adult").filter(channels__code="klook").first()
    cases = [
        ("5d1f3a52-0c1e-4f0e-9a57-00000000dead", {"notes": "x"}, "INVALID_BOOKING_UUID"),
        ("not-a-uuid", {"notes": "x"}, "INVALID_BOOKING_UUID"),
        (B1, {"availabilityId": "2027-01-11T10:00:00+08:00"}, "INVALID_AVAILABILITY_ID"),
        (B1, {"availabilityId": "2026-01-05T09:30:00+08:00"}, "INVALID_AVAILABILITY_ID"),
        (B1, {"unitItems": [{"unitId": "child"}]}, "INVALID_UNIT_ID"),
        (B1, {"unitItems": []}, "BAD_REQUEST"),
        (B1, {"optionId": "VIP"}, "INVALID_OPTION_ID"),
        (B1, {"productId": "99999"}, "INVALID_PRODUCT_ID"),
        (B1, {"expirationMinutes": "soon"}, "BAD_REQUEST"),
        (B1, {"contact": {"emailAddress": "not an address"}}, "BAD_REQUEST"),
        (B1, {"notes": 5}, "BAD_REQUEST"),
    ]
    if other is not None:
        cases.append((B1, {"productId": str(other.pk)}, "UNPROCESSABLE_ENTITY"))
    for uuid, body, error in cases:
        response, err = patch(octo, uuid, body)
        assert (response.status_code, err["error"]) == (400, error), (uuid, body, err)
    # A full slot: the move is refused and the booking keeps its places.
    noon = pool(start="11:30")
    noon.allocations.all().update(quota=0)
    Pool.objects.filter(pk=noon.pk).update(capacity=noon.held + noon.sold, reserved=0)
    response, err = patch(octo, B1, {"availabilityId": "2027-01-11T11:30:00+08:00"})
    assert err["error"] == "UNPROCESSABLE_ENTITY"
    morning.refresh_from_db()
    after = (morning.held, Order.objects.count(), PartnerBooking.objects.get().order_id)
    assert after == snapshot
    _r, same = check_get(octo, B1)
    assert same["availabilityId"] == held["availabilityId"] and same["notes"] is None


def check_get(client: Client, uuid: str) -> tuple[Any, Any]:
    response = client.get(f"/octo/bookings/{uuid}")
    return response, check(response, "GET", "/bookings/{uuid}")


def test_another_partners_booking_is_not_found(octo):
    ctrip = Partner.objects.get(code="ctrip")
    pools_ensure(site=adult().site, day=MON)
    booking_reserve(
        partner=ctrip,
        request=BookingRequest(
            reference=B2, product=adult().pk, day=MON, start=dt.time(9, 30), quantity=1
        ),
    )
    _r, err = patch(octo, B2, {"notes": "mine now"})
    assert err == {**err, "error": "INVALID_BOOKING_UUID", "uuid": B2}
    _response, err = check_get(octo, B2)
    assert err["error"] == "INVALID_BOOKING_UUID"
    assert PartnerBooking.objects.get(reference=B2).notes == ""


def webhooks_call(client: Client, method: str, path: str = "", body: Any = None) -> Any:
    response = getattr(client, method)(
        f"/octo/webhooks{path}",
        json.dumps(body) if body is not None else None,
        content_type="application/json",
    )
    return response, (json.loads(response.content) if response.content else None)


def test_a_registered_webhook_receives_booking_updates(octo):
    with receiver() as r:
        response, hook = webhooks_call(
            octo,
            "post",
            body={"event": "booking_update", "url": r.url, "headers": {"X-Token": "t0k"}},
        )
        assert response.status_code == 200, hook
        validate_webhook(hook)
        assert hook["event"] == "booking_update" and hook["url"] == r.url
        assert hook["capabilities"] == ["octo/pricing"]  # from the Octo-Capabilities header
        assert hook["retryOnError"] is True and hook["headers"] == {"X-Token": "t0k"}
        _r, listed = webhooks_call(octo, "get")
        assert [h["id"] for h in listed] == [hook["id"]]
        reserve(octo, units=1)
        confirm(octo, B1)
        patch(octo, B1, {"notes": "window seat"})
        post(octo, f"/bookings/{B1}/cancel", {"reason": "ill"}, "/bookings/{uuid}/cancel")
        assert [d.ok for d in outbox_run(worker="w")] == [True, True, True]
    bodies = [q["body"] for q in r.requests]
    for body in bodies:
        validate_webhook(body, BOOKING_UPDATE)
        assert body["webhook"]["id"] == hook["id"] and body["booking"]["uuid"] == B1
        assert "pricing" in body["booking"]
    assert [b["booking"]["status"] for b in bodies] == ["CONFIRMED", "CONFIRMED", "CANCELLED"]
    assert bodies[1]["booking"]["notes"] == "window seat"
    assert all(q["headers"]["X-Token"] == "t0k" for q in r.requests)
    assert {q["headers"]["Admit-Topic"] for q in r.requests} == {"octo.booking_update"}
    # Deleted: no more deliveries; deleting again is refused.
    response, _none = webhooks_call(octo, "delete", f"/{hook['id']}")
    assert response.status_code == 204 and not PartnerWebhook.objects.exists()
    response, err = webhooks_call(octo, "delete", f"/{hook['id']}")
    assert response.status_code == 400 and err["error"] == "BAD_REQUEST"
    reserve(octo, uuid=B2, units=1)
    confirm(octo, B2)
    assert not OutboxMessage.objects.filter(status="pending").exists()


def test_a_webhook_without_retries_gets_one_attempt(octo):
    with receiver([500]) as r:
        _r, _hook = webhooks_call(
            octo, "post", body={"event": "booking_update", "url": r.url, "retryOnError": False}
        )
        reserve(octo, units=1)
        confirm(octo, B1)
        (delivery,) = outbox_run(worker="w")
    assert not delivery.ok and delivery.dead and len(r.requests) == 1
    assert OutboxMessage.objects.get().status == OutboxMessage.Status.DEAD


def test_bad_webhook_registrations_are_refused(octo):
    url = "https://reseller.example.com/hooks"
    bad = [
        {"event": "booking_updated", "url": url},
        {"event": "availability_update", "url": url},  # not offered: never sent
        {"url": url},
        {"event": "booking_update"},
        {"event": "booking_update", "url": "ftp://reseller.example.com/x"},
        {"event": "booking_update", "url": "not a url"},
        {"event": "booking_update", "url": url, "headers": ["X-Token"]},
        {"event": "booking_update", "url": url, "headers": {"X-Token": 5}},
        {"event": "booking_update", "url": url, "headers": {"X-A": "1\r\nX-B: 2"}},
        {"event": "booking_update", "url": url, "retryOnError": "yes"},
    ]
    for body in bad:
        response, err = webhooks_call(octo, "post", body=body)
        assert (response.status_code, err["error"]) == (400, "BAD_REQUEST"), (body, err)
    assert not PartnerWebhook.objects.exists()
    response, err = webhooks_call(Client(), "get")
    assert response.status_code == 401 and err["error"] == "UNAUTHORIZED"
    # Another partner cannot delete the reseller's webhook.
    _r, hook = webhooks_call(octo, "post", body={"event": "booking_update", "url": url})
    with pytest.raises(WebhookNotFound):
        webhook_delete(partner=Partner.objects.get(code="ctrip"), webhook_id=hook["id"])
    assert PartnerWebhook.objects.count() == 1
