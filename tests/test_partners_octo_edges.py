"""OCTO at its edges, from a line-by-line review: dates beyond the calendar, bodies too deep or
too large, booking uuids in capitals, a time slot that has started, one unit uuid twice, list
filters that must not fall open or match a date a booking moved away from, and cancellations
reported as the sales engine decides them (refundable, deadline, fee kept)."""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from admit.catalog.models import Product
from admit.core.versions import CATALOG, version_bump
from admit.partners.models import PartnerBooking
from admit.sales.models import Refund
from tests.octo_contract import check, spec
from tests.test_partners_octo import B1, B2, adult, get, octo_reseller, post, reserve

# The demo's clock: 2026-11-22 09:00 in Shanghai; the park opens at 07:30.
TODAY = "2026-11-22"


@pytest.fixture
def octo(demo, clock) -> Client:
    return octo_reseller()


def send(client: Client, method: str, path: str, body: Any) -> Any:
    """Any body, even one no JSON encoder would make; the answer is checked against the
    spec's schema for its path and status wherever the spec has the path."""
    data = body if isinstance(body, bytes | str) else json.dumps(body)
    response = getattr(client, method)(f"/octo{path}", data, content_type="application/json")
    template = re.sub(r"^/bookings/[^/]+", "/bookings/{uuid}", path)
    if method in spec()["paths"].get(template, {}):
        check(response, method, template)
    return response


def confirm(client: Client, uuid: str = B1) -> dict[str, Any]:
    response, body = post(
        client, f"/bookings/{uuid}/confirm", {"contact": {}}, "/bookings/{uuid}/confirm"
    )
    assert response.status_code == 200, body
    return body


def test_availability_ids_beyond_the_calendar_are_invalid_not_errors(octo):
    product = str(adult().pk)
    for value in ("9999-12-31T23:00:00-10:00", "0001-01-01T00:00:00+10:00"):
        body = {"productId": product, "optionId": "DEFAULT", "availabilityIds": [value]}
        response = send(octo, "post", "/availability", body)
        assert response.status_code == 400, response.content
        assert response.json()["error"] == "INVALID_AVAILABILITY_ID"
        response, body = reserve(octo, availabilityId=value)
        assert (response.status_code, body["error"]) == (400, "INVALID_AVAILABILITY_ID")
    assert not PartnerBooking.objects.exists()


def test_bodies_too_deep_or_too_large_are_refused(octo, settings):
    deep = '{"a":' * 5000 + "1" + "}" * 5000
    response = send(octo, "post", "/availability", deep)
    assert response.status_code == 400 and response.json()["error"] == "BAD_REQUEST"
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = send(octo, "post", "/bookings", {"notes": "x" * 2000})
    assert response.status_code == 413 and response.json()["error"] == "BAD_REQUEST"
    assert not PartnerBooking.objects.exists()


def test_a_booking_uuid_in_capitals_finds_the_booking(octo):
    response, booked = reserve(octo, uuid=B1.upper())
    assert response.status_code == 200 and booked["uuid"] == B1
    response, body = get(octo, f"/bookings/{B1.upper()}", "/bookings/{uuid}")
    assert response.status_code == 200 and body["uuid"] == B1
    assert confirm(octo, B1.upper())["status"] == "CONFIRMED"
    response = send(octo, "post", "/bookings/not-a-uuid/cancel", {})
    assert (response.status_code, response.json()["error"]) == (400, "INVALID_BOOKING_UUID")


def test_a_time_slot_that_has_started_cannot_be_booked(octo):
    body = {"productId": str(adult().pk), "optionId": "DEFAULT", "localDate": TODAY}
    shown = {a["id"]: a["status"] for a in send(octo, "post", "/availability", body).json()}
    started, later = f"{TODAY}T07:30:00+08:00", f"{TODAY}T13:30:00+08:00"
    assert shown[started] == "CLOSED" and shown[later] != "CLOSED"
    response, body = reserve(octo, availabilityId=started)
    assert (response.status_code, body["error"]) == (400, "INVALID_AVAILABILITY_ID")
    assert not PartnerBooking.objects.exists()
    response, body = reserve(octo, availabilityId=later)
    assert response.status_code == 200 and body["status"] == "ON_HOLD"
    # nor can a held booking be moved to it
    response = send(octo, "patch", f"/bookings/{B1}", {"availabilityId": started})
    assert (response.status_code, response.json()["error"]) == (400, "INVALID_AVAILABILITY_ID")


def test_one_unit_uuid_twice_or_a_hold_of_no_minutes_is_refused(octo):
    units = [{"unitId": "adult", "uuid": "u1"}, {"unitId": "adult", "uuid": "u1"}]
    response, body = reserve(octo, unitItems=units)
    assert (response.status_code, body["error"]) == (400, "BAD_REQUEST")
    for minutes in (0, -5):  # as PATCH and extend refuse them
        response, body = reserve(octo, expirationMinutes=minutes)
        assert (response.status_code, body["error"]) == (400, "BAD_REQUEST")
    assert not PartnerBooking.objects.exists()


def test_list_filters_never_fall_open(octo):
    reserve(octo, uuid=B1, units=1)
    for query in (
        {"localDateStart": "2030-01-01"},
        {"localDateEnd": "2030-01-01"},
        {"localDateStart": "", "localDateEnd": ""},
        {"localDate": ""},
        {"resellerReference": ""},
    ):
        response = octo.get("/octo/bookings", query)
        assert response.status_code == 400, (query, response.content)
        assert response.json()["error"] == "BAD_REQUEST"
    response, found = get(
        octo, "/bookings", "/bookings/", localDateStart="2030-01-01", localDateEnd="2030-01-31"
    )
    assert response.status_code == 200 and found == []
    response, found = get(
        octo, "/bookings", "/bookings/", localDateStart="2027-01-01", localDateEnd="2027-01-31"
    )
    assert [b["uuid"] for b in found] == [B1]


def test_a_moved_booking_is_listed_under_its_new_date_only(octo):
    reserve(octo, uuid=B1, units=1)
    confirm(octo)
    response = send(
        octo, "patch", f"/bookings/{B1}", {"availabilityId": "2027-01-12T09:30:00+08:00"}
    )
    assert response.status_code == 200, response.content
    _r, old = get(octo, "/bookings", "/bookings/", localDate="2027-01-11")
    _r, new = get(octo, "/bookings", "/bookings/", localDate="2027-01-12")
    assert old == [] and [b["availabilityId"] for b in new] == ["2027-01-12T09:30:00+08:00"]


def test_a_cancellation_that_keeps_a_fee_is_partial(octo):
    Product.objects.filter(pk=adult().pk).update(refund_fee_percent=Decimal("20"))
    reserve(octo, uuid=B1, units=1)
    confirm(octo, B1)
    _response, body = post(octo, f"/bookings/{B1}/cancel", {}, "/bookings/{uuid}/cancel")
    refund = Refund.objects.get()
    assert refund.fee > 0 and body["cancellation"]["refund"] == "PARTIAL"
    # without a fee it is full; a hold let go (nothing paid) too
    Product.objects.filter(pk=adult().pk).update(refund_fee_percent=Decimal("0"))
    reserve(octo, uuid=B2, units=1)
    confirm(octo, B2)
    _r, body = post(octo, f"/bookings/{B2}/cancel", {}, "/bookings/{uuid}/cancel")
    assert body["cancellation"]["refund"] == "FULL"


def test_cancellable_and_the_cutoff_say_what_the_sales_engine_does(octo):
    # Not refundable: confirmed, it is not cancellable, and cancelling is refused.
    Product.objects.filter(pk=adult().pk).update(refundable=False)
    version_bump(CATALOG)
    reserve(octo, uuid=B1, units=1)
    assert confirm(octo, B1)["cancellable"] is False
    response = send(octo, "post", f"/bookings/{B1}/cancel", {})
    assert response.json()["error"] == "UNPROCESSABLE_ENTITY", response.content
    assert "refund" in response.json()["errorMessage"]
    # Refundable until 2 hours before the visit day opens (07:30): at 09:00, today's 13:30 slot
    # can no longer be cancelled, and the booking says so.
    Product.objects.filter(pk=adult().pk).update(refundable=True, refund_deadline_hours=2)
    version_bump(CATALOG)  # as the catalog's services do on every change
    response, _body = reserve(octo, uuid=B2, units=1, availabilityId=f"{TODAY}T13:30:00+08:00")
    assert response.status_code == 200
    confirmed = confirm(octo, B2)
    assert confirmed["cancellable"] is False
    response = send(octo, "post", f"/bookings/{B2}/cancel", {})
    assert response.json()["error"] == "UNPROCESSABLE_ENTITY", response.content
    assert not Refund.objects.exists()
    # OCTO counts the cutoff back from a slot's start, the engine from the opening time: the
    # hours shown cover the latest slot, so a reseller never allows what the engine refuses.
    option = confirmed["option"]
    latest = max(dt.time.fromisoformat(s) for s in option["availabilityLocalStartTimes"])
    opens = adult().site.opens_at
    gap = dt.datetime.combine(dt.date.min, latest) - dt.datetime.combine(dt.date.min, opens)
    expected = math.ceil(2 + gap.total_seconds() / 3600)
    assert option["cancellationCutoffAmount"] == expected > 2
    assert option["cancellationCutoff"] == f"{expected} hours"


def test_a_held_booking_on_a_full_slot_can_shrink_and_a_failed_change_keeps_the_hold(octo):
    """The old hold is let go before the new one is placed, in one transaction: on a slot with
    3 places left, a hold of 3 can become 2; growing it to 4 is refused and the hold of 2
    stays, with its places."""
    from admit.inventory.models import Pool
    from tests.test_partners_octo import slot_pool

    pool = slot_pool()
    pool.allocations.all().update(quota=0)
    Pool.objects.filter(pk=pool.pk).update(capacity=pool.held + pool.sold + 3, reserved=0)
    response, _body = reserve(octo, units=3)
    assert response.status_code == 200
    response = send(octo, "patch", f"/bookings/{B1}", {"unitItems": [{"unitId": "adult"}] * 2})
    assert response.status_code == 200, response.content
    assert len(response.json()["unitItems"]) == 2
    held = Pool.objects.get(pk=pool.pk).held
    response = send(octo, "patch", f"/bookings/{B1}", {"unitItems": [{"unitId": "adult"}] * 4})
    assert response.status_code == 400 and response.json()["error"] == "UNPROCESSABLE_ENTITY"
    _r, body = get(octo, f"/bookings/{B1}", "/bookings/{uuid}")
    assert body["status"] == "ON_HOLD" and len(body["unitItems"]) == 2
    assert Pool.objects.get(pk=pool.pk).held == held


def test_availability_and_the_calendar_cost_the_same_queries_for_a_week_or_two_months(octo):
    """The days' calendar, pools and allocations are read for the whole range at once: the
    query count does not grow with the number of days (once the pools exist)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries(path: str, days: int) -> int:
        last = dt.date(2027, 1, 1) + dt.timedelta(days=days - 1)
        body = {
            "productId": str(adult().pk),
            "optionId": "DEFAULT",
            "localDateStart": "2027-01-01",
            "localDateEnd": last.isoformat(),
        }
        send(octo, "post", path, body)  # the first look creates the pools
        with CaptureQueriesContext(connection) as captured:
            response = send(octo, "post", path, body)
        assert response.status_code == 200, response.content
        return len(captured.captured_queries)

    week, months = queries("/availability/calendar", 7), queries("/availability/calendar", 60)
    assert week == months <= 12, (week, months)
    week, month = queries("/availability", 7), queries("/availability", 31)
    assert week == month <= 12, (week, month)


def test_webhooks_to_private_addresses_are_refused_in_production(octo, settings):
    """A reseller could otherwise make the server call inside its own network (SSRF). The
    demo and the tests allow it: their receivers listen on 127.0.0.1."""
    from admit.partners.models import PartnerWebhook
    from admit.partners.services.outbox import public_url

    settings.ADMIT_WEBHOOKS_PRIVATE_OK = False
    for url in (
        "http://127.0.0.1:9/hook",
        "http://localhost/hook",
        "http://10.1.2.3/hook",
        "http://192.168.0.8/hook",
        "http://169.254.169.254/latest/meta-data/",  # a cloud's metadata service
        "http://[::1]/hook",
        "http://0.0.0.0/hook",
        "https://no-such-host.invalid/hook",
    ):
        response = send(octo, "post", "/webhooks", {"event": "booking_update", "url": url})
        assert response.status_code == 400, url
        assert "public" in response.json()["errorMessage"]
    assert not PartnerWebhook.objects.exists()
    assert public_url("https://93.184.216.34/hook") and public_url("https://[2606:4700::1]/h")
    response = send(
        octo, "post", "/webhooks", {"event": "booking_update", "url": "https://93.184.216.34/h"}
    )
    assert response.status_code == 200 and PartnerWebhook.objects.count() == 1


def test_a_webhook_whose_name_turned_private_is_not_called(octo, settings):
    """The host is looked up again before every delivery: a name that resolved to a public
    address at registration and to a private one now (DNS rebinding) is not called, and the
    message is kept with the reason. Staff's own notice URLs are not affected."""
    from django.db import transaction

    from admit.partners.models import OutboxMessage, Partner
    from admit.partners.services.outbox import outbox_deliver, outbox_put

    settings.ADMIT_WEBHOOKS_PRIVATE_OK = False
    klook = Partner.objects.get(code="klook")
    with transaction.atomic():
        hook = outbox_put(
            topic="octo.booking_update", partner=klook, url="http://localhost:9/h", payload={}
        )
        staff = outbox_put(
            topic="booking.redeemed", partner=klook, url="http://localhost:9/s", payload={}
        )
    assert hook is not None and staff is not None
    OutboxMessage.objects.update(lease_owner="w", attempts=1)
    sent: list[str] = []

    def record(url: str, body: bytes, headers: dict[str, str], timeout: float) -> int:
        sent.append(url)
        return 200

    refused = outbox_deliver(message_id=hook.pk, worker="w", send=record)
    assert not refused.ok and "public address" in refused.error and sent == []
    hook.refresh_from_db()
    assert hook.status == OutboxMessage.Status.PENDING and "public address" in hook.last_error
    assert outbox_deliver(message_id=staff.pk, worker="w", send=record).ok
    assert sent == ["http://localhost:9/s"]

    settings.ADMIT_WEBHOOKS_PRIVATE_OK = True  # the demo: local receivers are fine
    OutboxMessage.objects.filter(pk=hook.pk).update(lease_owner="w")
    assert outbox_deliver(message_id=hook.pk, worker="w", send=record).ok


def test_listing_bookings_costs_few_queries_per_booking(octo):
    """The booking list renders each booking with what it shares with the others (product,
    prices, start times, the day) read once: a booking more costs its own rows only."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def listed() -> int:
        with CaptureQueriesContext(connection) as captured:
            response = octo.get("/octo/bookings", {"localDate": "2027-01-11"})
        assert response.status_code == 200, response.content
        check(response, "get", "/bookings/")
        return len(captured.captured_queries)

    for n in range(2):
        response, body = reserve(octo, f"0b6c7d7e-5f0a-4c39-9b1e-0000000001{n:02d}", units=1)
        assert response.status_code == 200, body
    listed()  # caches warm, as on a running server
    two = listed()
    for n in range(2, 6):
        response, body = reserve(octo, f"0b6c7d7e-5f0a-4c39-9b1e-0000000001{n:02d}", units=1)
        assert response.status_code == 200, body
    six = listed()
    per_booking = (six - two) / 4
    assert per_booking <= 3, (two, six)  # was 10: order, tickets, lines, product (4), days
