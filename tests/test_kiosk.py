"""The self-service kiosk (自助售取票机): pairing a browser with a kiosk terminal, buying with
the sandbox QR payment and printing, picking up tickets booked elsewhere, and the refusals."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from admit.accounts.models import ApiToken, Device, User
from admit.accounts.services import device_save, token_revoke
from admit.boxoffice.models import Terminal, TicketPrint
from admit.boxoffice.services.kiosk import (
    COOKIE_NAME,
    GRANT_SECONDS,
    LOOKUP_FAILURES,
    kiosk_pair,
    kiosk_unpair,
)
from admit.catalog.models import Site
from admit.catalog.selectors import product_price, site_day
from admit.catalog.services import site_save
from admit.core.errors import PermissionDenied
from admit.core.models import AuditEntry
from admit.core.services import model_save
from admit.inventory.models import Pool
from admit.inventory.services import allocations_release_due, pool_save
from admit.sales.models import Order, PaymentIntent
from admit.sales.providers import PROVIDERS
from admit.sales.services.orders import site_today
from admit.tickets.models import Ticket
from tests.sales_helpers import IDS, pay_cash, place, product

pytestmark = pytest.mark.django_db

SENIOR_ID = "320102195512120037"  # born 1955: a senior


def _user(name: str) -> User:
    return User.objects.get(username=name)


def paired_client(terminal: str = "kiosk-1", language: str = "en") -> Client:
    """A browser paired by the supervisor, who is logged out afterwards."""
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(_user("supervisor"))
    response = client.post(
        "/kiosk/pair", {"terminal": Terminal.objects.get(code=terminal).pk, "action": "pair"}
    )
    assert response.status_code == 302, response.content
    assert response["Location"] == "/kiosk/"
    return client


def today() -> dt.date:
    from django.utils import timezone

    return site_today(Site.objects.get(code="yunling"), timezone.now())


def offer(client: Client, day: dt.date) -> dict[str, Any]:
    response = client.get("/kiosk/api/offer", {"date": day.isoformat()})
    assert response.status_code == 200, response.content
    return {p["id"]: p for p in response.json()["products"]}


def open_slot(entry: dict[str, Any], persons: int) -> dict[str, Any]:
    return next(s for s in entry["slots"] if s["remaining"] is None or s["remaining"] >= persons)


def post(client: Client, url: str, body: dict[str, Any]) -> Any:
    return client.post(url, body, content_type="application/json")


def buy(client: Client, lines: list[dict[str, Any]], **extra: Any) -> Any:
    return post(client, "/kiosk/api/orders", {"date": today().isoformat(), "lines": lines, **extra})


def customer_pays(pay_url: str) -> None:
    """The visitor's phone pays on the provider's side (the sandbox pay page's action)."""
    ref = pay_url.rstrip("/").rsplit("/", 1)[-1]
    PROVIDERS["sandbox"].customer_pays(ref=ref)  # type: ignore[attr-defined]


def adult_line(client: Client, quantity: int = 1) -> dict[str, Any]:
    adult = product("adult")
    entry = offer(client, today())[adult.pk]
    return {
        "product": adult.pk,
        "quantity": quantity,
        "slot": open_slot(entry, quantity)["slot"],
    }


# --- Pairing --------------------------------------------------------------------------------


def test_an_unpaired_screen_says_so_and_sells_nothing(demo: None, clock: Any) -> None:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    response = client.get("/kiosk/")
    assert response.status_code == 403
    assert "This screen is not set up" in response.content.decode()
    for call in (
        client.get("/kiosk/api/days"),
        client.get("/kiosk/api/offer", {"date": today().isoformat()}),
        post(client, "/kiosk/api/orders", {"date": today().isoformat(), "lines": []}),
        post(client, "/kiosk/api/pickup", {"by": "code", "value": "X"}),
    ):
        assert call.status_code == 403
        assert call.json()["error"]["code"] == "kiosk_not_paired"
    # A forged cookie is no better than none.
    client.cookies[COOKIE_NAME] = '{"t": 1, "s": "adm_forged"}'
    assert client.get("/kiosk/api/days").json()["error"]["code"] == "kiosk_not_paired"
    assert Order.objects.count() == 0


def test_a_supervisor_pairs_the_browser_and_is_logged_out(demo: None, clock: Any) -> None:
    kiosk = Terminal.objects.get(code="kiosk-1")
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    response = client.get("/kiosk/pair")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    client.force_login(_user("supervisor"))
    page = client.get("/kiosk/pair").content.decode()
    assert "kiosk-1" in page and "window-1" not in page
    tokens_before = ApiToken.objects.filter(device=kiosk.device).count()
    response = client.post("/kiosk/pair", {"terminal": kiosk.pk, "action": "pair"})
    assert response.status_code == 302
    cookie = response.cookies[COOKIE_NAME]
    assert cookie["httponly"] and int(cookie["max-age"]) > 365 * 24 * 3600
    assert ApiToken.objects.filter(device=kiosk.device).count() == tokens_before + 1
    assert AuditEntry.objects.filter(verb="kiosk_pair", object_id=str(kiosk.pk)).exists()
    # The staff session ended: the back office asks for a login again.
    assert client.get("/admin/").status_code == 302
    screen = client.get("/kiosk/")
    assert screen.status_code == 200
    assert 'data-terminal="kiosk-1"' in screen.content.decode()
    days = client.get("/kiosk/api/days").json()["days"]
    assert days[0]["date"] == today().isoformat() and len(days) == 7


def test_only_supervisors_pair_and_only_kiosk_terminals(demo: None, clock: Any) -> None:
    cashier = Client(HTTP_ACCEPT_LANGUAGE="en")
    cashier.force_login(_user("cashier"))
    kiosk = Terminal.objects.get(code="kiosk-1")
    assert cashier.post("/kiosk/pair", {"terminal": kiosk.pk}).status_code == 403
    assert COOKIE_NAME not in cashier.cookies
    supervisor = Client(HTTP_ACCEPT_LANGUAGE="en")
    supervisor.force_login(_user("supervisor"))
    window = Terminal.objects.get(code="window-1")
    response = supervisor.post("/kiosk/pair", {"terminal": window.pk})
    assert response.status_code == 400
    assert 'data-code="not_a_kiosk"' in response.content.decode()
    assert COOKIE_NAME not in supervisor.cookies
    # The services themselves refuse whoever lacks the right, whatever page calls them.
    tokens = ApiToken.objects.filter(device=kiosk.device).count()
    with pytest.raises(PermissionDenied):
        kiosk_pair(terminal=kiosk, actor=_user("cashier"))
    with pytest.raises(PermissionDenied):
        kiosk_unpair(cookie="", actor=_user("cashier"))
    assert ApiToken.objects.filter(device=kiosk.device).count() == tokens


def test_the_back_office_stops_a_kiosk_at_its_next_request(demo: None, clock: Any) -> None:
    admin = _user("admin")
    kiosk = Terminal.objects.get(code="kiosk-1")
    client = paired_client()
    assert client.get("/kiosk/api/days").status_code == 200
    # Switching the terminal off.
    kiosk.is_active = False
    model_save(instance=kiosk, actor=admin)
    response = client.get("/kiosk/api/days")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "terminal_inactive"
    assert client.get("/kiosk/").status_code == 403
    kiosk.is_active = True
    model_save(instance=kiosk, actor=admin)
    assert client.get("/kiosk/api/days").status_code == 200
    # Switching the device off.
    device = Device.objects.get(code="kiosk-1")
    device.is_active = False
    device_save(instance=device, actor=admin)
    assert client.get("/kiosk/api/days").json()["error"]["code"] == "kiosk_not_paired"
    device.is_active = True
    device_save(instance=device, actor=admin)
    assert client.get("/kiosk/api/days").status_code == 200
    # Revoking the screen's credential.
    token = ApiToken.objects.get(device=device, revoked_at__isnull=True)
    token_revoke(token=token, actor=admin)
    assert client.get("/kiosk/api/days").json()["error"]["code"] == "kiosk_not_paired"


def test_pairing_again_unpairs_the_earlier_screen(demo: None, clock: Any) -> None:
    first = paired_client()
    second = paired_client()
    assert second.get("/kiosk/api/days").status_code == 200
    assert first.get("/kiosk/api/days").json()["error"]["code"] == "kiosk_not_paired"
    # And a supervisor unpairs a screen from the pairing page.
    second.force_login(_user("supervisor"))
    response = second.post("/kiosk/pair", {"action": "unpair"})
    assert response.status_code == 302
    assert second.get("/kiosk/").status_code == 403
    assert not ApiToken.objects.filter(device__code="kiosk-1", revoked_at__isnull=True).exists()


# --- Buying ---------------------------------------------------------------------------------


def test_buy_pay_by_qr_and_print(demo: None, clock: Any) -> None:
    client = paired_client()
    adult, senior = product("adult"), product("senior")
    day = today()
    before = offer(client, day)
    slot = open_slot(before[adult.pk], 3)
    assert before[senior.pk]["real_name"] is True
    assert product("annual").pk not in before  # not sold on the kiosk channel
    assert product("group").pk not in before
    response = buy(
        client,
        [
            {"product": adult.pk, "quantity": 2, "slot": slot["slot"]},
            {
                "product": senior.pk,
                "quantity": 1,
                "slot": slot["slot"],
                "visitors": [{"name": "王秀英", "id_number": SENIOR_ID}],
            },
        ],
        phone="138 0013 8000",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    order = Order.objects.get(code=body["order"]["code"])
    info = site_day(site=order.site, day=day)
    expected = sum(
        (
            product_price(product=p, channel="kiosk", day=day, day_type=info.day_type) * n
            for p, n in ((adult, 2), (senior, 1))
        ),
        Decimal(0),
    )
    assert order.total == expected and body["order"]["total"] == f"{expected:.2f}"
    assert order.channel.code == "kiosk" and order.status == Order.Status.PENDING
    assert order.created_by is None and order.shift_id is None
    assert order.contact_phone == "13800138000"
    assert order.events.get(kind="placed").actor_label == "kiosk:kiosk-1"
    assert body["pay_url"].endswith(order.intents.get().pay_url)
    assert body["qr_svg"].startswith("<svg")
    after = offer(client, day)
    left = next(s for s in after[adult.pk]["slots"] if s["slot"] == slot["slot"])
    assert left["remaining"] == slot["remaining"] - 3

    token = body["token"]
    status = client.get("/kiosk/api/orders/status", {"token": token}).json()
    assert status["order"]["status"] == "pending"
    # Printing before payment is refused.
    refused = post(client, "/kiosk/api/orders/print", {"token": token})
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "order_not_paid"

    customer_pays(body["pay_url"])  # the notification is lost: the kiosk asks the provider
    status = client.get("/kiosk/api/orders/status", {"token": token}).json()
    assert status["order"]["status"] == "paid"
    tickets = list(order.tickets.all())
    assert status["order"]["tickets"] == len(tickets) == 3
    assert order.intents.get().status == PaymentIntent.Status.SUCCEEDED

    pdf = post(client, "/kiosk/api/orders/print", {"token": token})
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    prints = TicketPrint.objects.filter(ticket__order=order)
    assert sorted(p.ticket_id for p in prints) == sorted(t.pk for t in tickets)
    assert {(p.kind, p.terminal.code, p.actor_label) for p in prints} == {
        ("first", "kiosk-1", "kiosk:kiosk-1")
    }
    again = post(client, "/kiosk/api/orders/print", {"token": token})
    assert again.status_code == 409 and again.json()["error"]["code"] == "already_printed"
    assert prints.count() == 3
    # Another kiosk cannot follow this sale with the token.
    other = _second_kiosk(Site.objects.get(code="yunling"))
    foreign = other.get("/kiosk/api/orders/status", {"token": token})
    assert foreign.status_code == 404
    assert foreign.json()["error"]["code"] == "kiosk_order_unknown"


def test_an_unpaid_sale_ends_when_its_hold_runs_out(demo: None, clock: Any, settings: Any) -> None:
    client = paired_client()
    line = adult_line(client, 2)
    pool = Pool.objects.get(pk=line["slot"])
    body = buy(client, [line]).json()
    assert Pool.objects.get(pk=pool.pk).held == pool.held + 2
    clock.shift(dt.timedelta(minutes=settings.ADMIT_HOLD_MINUTES + 1))
    status = client.get("/kiosk/api/orders/status", {"token": body["token"]}).json()
    assert status["order"]["status"] == "expired"
    assert Pool.objects.get(pk=pool.pk).held == pool.held


def test_the_visitor_cancels_and_the_places_go_back(demo: None, clock: Any) -> None:
    client = paired_client()
    line = adult_line(client, 1)
    pool = Pool.objects.get(pk=line["slot"])
    body = buy(client, [line]).json()
    response = post(client, "/kiosk/api/orders/cancel", {"token": body["token"]})
    assert response.json()["order"]["status"] == "cancelled"
    assert Pool.objects.get(pk=pool.pk).held == pool.held


def test_a_sale_paid_as_the_visitor_cancels_stays_paid(demo: None, clock: Any) -> None:
    client = paired_client()
    body = buy(client, [adult_line(client)]).json()
    customer_pays(body["pay_url"])
    client.get("/kiosk/api/orders/status", {"token": body["token"]})
    response = post(client, "/kiosk/api/orders/cancel", {"token": body["token"]})
    assert response.json()["order"]["status"] == "paid"


def test_engine_refusals_are_translated_and_change_nothing(demo: None, clock: Any) -> None:
    client = paired_client(language="zh-hans")
    adult, senior = product("adult"), product("senior")
    entry = offer(client, today())[adult.pk]
    slot = open_slot(entry, 1)

    def refused(lines: list[dict[str, Any]], status: int, code: str) -> str:
        response = buy(client, lines)
        assert response.status_code == status, response.content
        error = response.json()["error"]
        assert error["code"] == code
        return str(error["message"])

    message = refused(
        [{"product": senior.pk, "quantity": 1, "slot": slot["slot"]}], 400, "visitors_required"
    )
    assert "实名" in message
    refused(
        [
            {
                "product": senior.pk,
                "quantity": 1,
                "slot": slot["slot"],
                "visitors": [{"name": "王秀英", "id_number": "110105194912310039"}],
            }
        ],
        400,
        "invalid_id_number",
    )
    refused([{"product": product("annual").pk, "quantity": 1}], 403, "product_not_allowed")
    refused([{"product": adult.pk, "quantity": 21, "slot": slot["slot"]}], 400, "invalid_quantity")
    refused([{"product": 999999, "quantity": 1}], 400, "unknown_product")
    refused([{"product": "x", "quantity": 1}], 400, "invalid_number")
    refused([{"product": adult.pk, "quantity": True, "slot": slot["slot"]}], 400, "invalid_number")
    refused([{"product": adult.pk, "quantity": 1.5, "slot": slot["slot"]}], 400, "invalid_number")
    # More lines than a sale may have are refused, not cut short.
    refused(
        [{"product": adult.pk, "quantity": 1, "slot": slot["slot"]}] * 21, 400, "invalid_quantity"
    )
    allocations_release_due()  # channels' quotas for today have fallen back to all
    pool = Pool.objects.get(pk=slot["slot"])
    pool.capacity = pool.held + pool.sold + pool.reserved + 1
    pool_save(instance=pool, actor=_user("admin"))
    refused([{"product": adult.pk, "quantity": 2, "slot": slot["slot"]}], 409, "sold_out")
    bad = client.post("/kiosk/api/orders", b"{not json", content_type="application/json")
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid_json"
    past = client.get("/kiosk/api/offer", {"date": "2020-01-01"})
    assert past.status_code == 400 and past.json()["error"]["code"] == "not_on_sale"
    assert Order.objects.count() == 0


# --- Picking up -----------------------------------------------------------------------------


def _booked_elsewhere(api: Any, **extra: Any) -> dict[str, Any]:
    """An order placed and paid through the API (an online shop or agency booking)."""
    adult = product("adult")
    day = extra.pop("day", today())
    slot = next(
        s["slot"]
        for s in api.get(
            "/api/v1/availability",
            {"product": adult.pk, "date": day.isoformat(), "channel": "online"},
        ).json()
        if s["available"]
    )
    lines = extra.pop(
        "lines", [{"product": adult.pk, "date": day.isoformat(), "quantity": 2, "slot": slot}]
    )
    order = place(api, lines, channel="online", **extra)
    return pay_cash(api, order["code"])["order"]


def lookup(client: Client, **body: Any) -> Any:
    return post(client, "/kiosk/api/pickup", body)


def test_pick_up_by_order_code_prints_once(demo: None, clock: Any, api: Client) -> None:
    booked = _booked_elsewhere(api)
    client = paired_client()
    code = booked["code"]
    found = lookup(client, by="code", value=code.lower())
    assert found.status_code == 200, found.content
    body = found.json()
    serials = sorted(t["serial"] for t in body["tickets"])
    assert serials == sorted(t["serial"] for t in booked["tickets"]) and len(serials) == 2
    assert body["printed_before"] == 0
    assert all(t["order"].endswith(code[-4:]) and code not in t["order"] for t in body["tickets"])
    pdf = post(client, "/kiosk/api/pickup/print", {"grant": body["grant"]})
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    printed = TicketPrint.objects.filter(ticket__order__code=code)
    assert sorted(p.ticket.serial for p in printed) == serials
    assert {p.kind for p in printed} == {"first"}
    # Printed once: the kiosk refuses a second print and sends the visitor to the window.
    again = lookup(client, by="code", value=code)
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "already_printed"
    assert "window" in again.json()["error"]["message"]
    replay = post(client, "/kiosk/api/pickup/print", {"grant": body["grant"]})
    assert replay.status_code == 409 and replay.json()["error"]["code"] == "already_printed"
    assert printed.count() == 2


def test_pick_up_by_id_card_finds_todays_tickets_only(demo: None, clock: Any, api: Client) -> None:
    senior = product("senior")
    day = today()

    def senior_line(on: dt.date, id_number: str) -> dict[str, Any]:
        slot = next(
            s["slot"]
            for s in api.get(
                "/api/v1/availability",
                {"product": senior.pk, "date": on.isoformat(), "channel": "online"},
            ).json()
            if s["available"]
        )
        return {
            "product": senior.pk,
            "date": on.isoformat(),
            "quantity": 1,
            "slot": slot,
            "visitors": [{"name": "王秀英", "id_type": "resident_id", "id_number": id_number}],
        }

    today_order = _booked_elsewhere(api, lines=[senior_line(day, SENIOR_ID)])
    _booked_elsewhere(api, lines=[senior_line(day + dt.timedelta(days=3), IDS[0])])
    client = paired_client()
    found = lookup(client, by="id", value=SENIOR_ID.lower())
    assert found.status_code == 200, found.content
    tickets = found.json()["tickets"]
    assert [t["serial"] for t in tickets] == [today_order["tickets"][0]["serial"]]
    assert tickets[0]["holder"] == "王**"  # the name is masked on screen
    # A holder whose tickets are for another day finds nothing today.
    later = lookup(client, by="id", value=IDS[0])
    assert later.status_code == 404 and later.json()["error"]["code"] == "pickup_not_found"
    bad = lookup(client, by="id", value="123456")
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid_id_number"


def test_pick_up_by_phone_needs_the_order_codes_last_four(
    demo: None, clock: Any, api: Client
) -> None:
    booked = _booked_elsewhere(api, contact_phone="13900139000")
    _booked_elsewhere(api, contact_phone="13900139000", day=today() + dt.timedelta(days=1))
    client = paired_client()
    code = booked["code"]
    wrong = "0000" if not code.endswith("0000") else "1111"
    missed = lookup(client, by="phone", value="13900139000", last4=wrong)
    assert missed.status_code == 404
    assert missed.json()["error"]["code"] == "pickup_not_found"
    alone = lookup(client, by="phone", value="13900139000")
    assert alone.status_code == 400 and alone.json()["error"]["code"] == "invalid_code_part"
    found = lookup(client, by="phone", value="139-0013-9000", last4=code[-4:].lower())
    assert found.status_code == 200, found.content
    assert sorted(t["serial"] for t in found.json()["tickets"]) == sorted(
        t["serial"] for t in booked["tickets"]
    )


def test_a_window_print_and_an_unpaid_order_are_refused(
    demo: None, clock: Any, api: Client
) -> None:
    from admit.boxoffice.services.printing import tickets_print

    booked = _booked_elsewhere(api)
    tickets = list(Ticket.objects.filter(order__code=booked["code"]))
    tickets_print(tickets=tickets[:1], actor=_user("supervisor"))  # one printed at the window
    client = paired_client()
    partly = lookup(client, by="code", value=booked["code"]).json()
    assert partly["printed_before"] == 1
    assert [t["serial"] for t in partly["tickets"]] == [tickets[1].serial]
    first = booked["lines"][0]
    again = {k: first[k] for k in ("product", "date", "slot")}
    unpaid = place(api, [{**again, "quantity": 1}], channel="online")
    response = lookup(client, by="code", value=unpaid["code"])
    assert response.status_code == 409 and response.json()["error"]["code"] == "order_not_paid"


def _second_kiosk(site: Site) -> Client:
    admin = _user("admin")
    device = device_save(
        instance=Device(code=f"kiosk-{site.code}", name="kiosk", kind=Device.Kind.KIOSK),
        actor=admin,
    )
    model_save(
        instance=Terminal(
            code=f"kiosk-{site.code}-2",
            name="second kiosk",
            site=site,
            kind=Terminal.Kind.KIOSK,
            device=device,
        ),
        actor=admin,
    )
    return paired_client(f"kiosk-{site.code}-2")


def test_another_sites_kiosk_does_not_find_the_order(demo: None, clock: Any, api: Client) -> None:
    booked = _booked_elsewhere(api)
    other = site_save(
        instance=Site(code="lakeside", name="湖畔公园", name_en="Lakeside Park"),
        actor=_user("admin"),
    )
    client = _second_kiosk(other)
    response = lookup(client, by="code", value=booked["code"])
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "pickup_not_found"
    # Nor may it print with a grant another kiosk was given.
    grant = lookup(paired_client(), by="code", value=booked["code"]).json()["grant"]
    stolen = post(client, "/kiosk/api/pickup/print", {"grant": grant})
    assert stolen.status_code == 409 and stolen.json()["error"]["code"] == "pickup_expired"
    assert not TicketPrint.objects.exists()


def test_a_grant_runs_out(demo: None, clock: Any, api: Client) -> None:
    booked = _booked_elsewhere(api)
    client = paired_client()
    grant = lookup(client, by="code", value=booked["code"]).json()["grant"]
    clock.shift(dt.timedelta(seconds=GRANT_SECONDS + 5))
    response = post(client, "/kiosk/api/pickup/print", {"grant": grant})
    assert response.status_code == 409 and response.json()["error"]["code"] == "pickup_expired"
    assert not TicketPrint.objects.exists()


def test_failed_lookups_are_rate_limited_per_kiosk(demo: None, clock: Any, api: Client) -> None:
    booked = _booked_elsewhere(api)
    client = paired_client()
    for i in range(LOOKUP_FAILURES):
        response = lookup(client, by="code", value=f"ZZZZZZZZ{i:02d}")
        assert response.status_code == 404, (i, response.content)
    locked = lookup(client, by="code", value=booked["code"])
    assert locked.status_code == 429
    error = locked.json()["error"]
    assert error["code"] == "lookup_rate_limited" and 1 <= error["details"]["retry_after"] <= 61
    kiosk = Terminal.objects.get(code="kiosk-1")
    assert (
        AuditEntry.objects.filter(verb="kiosk_lookup_failed", object_id=str(kiosk.pk)).count()
        == LOOKUP_FAILURES
    )
    # Another kiosk is not held up by this one.
    other = _second_kiosk(Site.objects.get(code="yunling"))
    assert lookup(other, by="code", value=booked["code"]).status_code == 200
    clock.shift(dt.timedelta(seconds=61))
    assert lookup(client, by="code", value=booked["code"]).status_code == 200


def test_a_closed_day_is_shown_closed_and_sells_nothing(demo: None, clock: Any) -> None:
    from admit.catalog.models import CalendarDay
    from admit.catalog.services import calendar_day_save

    site = Site.objects.get(code="yunling")
    tomorrow = today() + dt.timedelta(days=1)
    calendar_day_save(
        instance=CalendarDay(site=site, date=tomorrow, closed=True, note="大风 High winds"),
        actor=_user("admin"),
    )
    client = paired_client()
    days = {d["date"]: d for d in client.get("/kiosk/api/days").json()["days"]}
    assert days[tomorrow.isoformat()]["closed"] is True
    assert days[today().isoformat()]["closed"] is False
    response = client.get("/kiosk/api/offer", {"date": tomorrow.isoformat()})
    assert response.status_code == 409 and response.json()["error"]["code"] == "closed"
    line = adult_line(client)
    response = post(
        client,
        "/kiosk/api/orders",
        {"date": tomorrow.isoformat(), "lines": [{**line, "slot": None}]},
    )
    assert response.status_code == 409, response.content
    assert response.json()["error"]["code"] == "closed"
    assert Order.objects.count() == 0
