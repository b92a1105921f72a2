"""The self-service kiosk in a real Chromium on a portrait touch screen (1080×1920): a supervisor
pairs it, a visitor switches to English, buys tickets (paying on the sandbox pay page in a
second browser, as a phone would) and takes them printed; then picks up an order placed through
the API by its code. Skips with instructions where no Chromium is installed."""

from __future__ import annotations

import datetime as dt
import os
from decimal import Decimal
from typing import Any

import pytest

from admit.accounts.models import User
from admit.boxoffice.models import TicketPrint
from admit.catalog.models import Site
from admit.catalog.selectors import product_price, site_day
from admit.sales.models import Order
from tests.conftest import bearer_client, wait_until
from tests.sales_helpers import pay_cash, place, product

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SENIOR_ID = "320102195512120037"
SHOTS = os.path.join("var", "screenshots")


@pytest.fixture
def kiosk(browser: Any) -> Any:
    """A portrait kiosk screen whose browser asks for Chinese, as the venue's kiosks do."""
    context = browser.new_context(locale="zh-CN", viewport={"width": 1080, "height": 1920})
    # The print dialog of headless Chromium's PDF viewer can crash the page: the test stands
    # in for the kiosk's printer and records what it was sent (see kiosk.js: sendToPrinter).
    context.add_init_script(
        "window.admitKioskPrint = function (frame) {"
        " document.body.dataset.printed = frame.getAttribute('src'); };"
    )
    page = context.new_page()
    page.set_default_timeout(15000)
    yield page
    context.close()


def type_on_pad(page: Any, text: str) -> None:
    for char in text:
        page.click(f"#pad-keys [data-key='{char}']")
    assert page.inner_text("#pad-value").strip() == text
    page.click("#pad-ok")


def pair(page: Any, base: str) -> None:
    page.goto(f"{base}/kiosk/")
    assert page.locator("#unpaired").is_visible()
    page.goto(f"{base}/kiosk/pair")
    page.fill("#id_username", "supervisor")
    page.fill("#id_password", "demo1234")
    page.click("input[type=submit]")
    page.check("#terminal-kiosk-1")
    with page.expect_navigation():
        page.click("#pair")
    page.wait_for_selector("#go-buy")
    assert page.url == f"{base}/kiosk/"


def test_a_visitor_buys_pays_by_qr_and_takes_the_tickets(
    demo_live: Any, kiosk: Any, browser: Any
) -> None:
    base = demo_live.url
    page = kiosk
    pair(page, base)
    assert page.get_attribute("html", "lang") == "zh-hans"
    with page.expect_navigation():
        page.click("#lang-en")
    assert page.get_attribute("html", "lang") == "en"
    assert "Buy tickets" in page.inner_text("#go-buy")

    page.click("#go-buy")
    page.wait_for_selector("#screen-date:not([hidden])")
    # The next open day after today (today's slots may all have ended at this hour).
    day_button = page.locator("#days .day:not([disabled])").nth(1)
    day = dt.date.fromisoformat(day_button.get_attribute("data-date"))
    day_button.click()
    page.wait_for_selector("#screen-tickets:not([hidden])")
    adult, senior = product("adult"), product("senior")
    page.click(f"[data-product='{adult.pk}'] .plus")
    page.click(f"[data-product='{adult.pk}'] .plus")
    page.click(f"[data-product='{senior.pk}'] .plus")
    site = Site.objects.get(code="yunling")
    info = site_day(site=site, day=day)
    expected = sum(
        (
            product_price(product=p, channel="kiosk", day=day, day_type=info.day_type) * n
            for p, n in ((adult, 2), (senior, 1))
        ),
        Decimal(0),
    )
    assert page.inner_text("#tickets-total") == f"¥{expected:.2f}"
    os.makedirs(SHOTS, exist_ok=True)
    page.screenshot(path=os.path.join(SHOTS, "kiosk-tickets.png"))
    page.click("#tickets-next")

    page.wait_for_selector("#screen-slot:not([hidden])")
    page.locator("#slot-groups .slot:not([disabled])").first.click()
    page.click("#slot-next")

    page.wait_for_selector("#screen-visitors:not([hidden])")
    page.click("[data-visitor='0'] [data-field='name']")
    type_on_pad(page, "WANG")
    page.click("[data-visitor='0'] [data-field='id_number']")
    type_on_pad(page, SENIOR_ID)
    page.click("#visitors-next")

    page.wait_for_selector("#screen-review:not([hidden])")
    assert page.inner_text("#review-total") == f"¥{expected:.2f}"
    page.click("#phone")
    type_on_pad(page, "13800138000")
    page.click("#pay-start")

    page.wait_for_selector("#screen-pay:not([hidden]) #pay-qr svg")
    code = page.inner_text("#pay-order").strip()
    order = Order.objects.get(code=code)
    assert order.channel.code == "kiosk" and order.total == expected
    assert order.contact_phone == "13800138000"
    os.makedirs(SHOTS, exist_ok=True)
    page.screenshot(path=os.path.join(SHOTS, "kiosk.png"))

    # The visitor's phone opens the QR code's pay page and pays.
    pay_url = page.get_attribute("#pay-qr", "data-pay-url")
    phone = browser.new_context(locale="en-US", viewport={"width": 400, "height": 800})
    phone_page = phone.new_page()
    phone_page.goto(pay_url)
    assert phone_page.inner_text("#merchant-order") == code
    phone_page.click("#pay")
    phone_page.wait_for_selector("#paid")
    phone.close()

    page.wait_for_selector("#screen-done:not([hidden])", timeout=20000)
    assert "take your tickets" in page.inner_text("#done-title").lower()
    src = page.get_attribute("#print-frame", "src")
    assert src.startswith("blob:")
    page.wait_for_function("src => document.body.dataset.printed === src", arg=src)
    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    tickets = list(order.tickets.all())
    assert len(tickets) == 3
    prints = TicketPrint.objects.filter(ticket__order=order)
    assert sorted(p.ticket_id for p in prints) == sorted(t.pk for t in tickets)
    assert {p.terminal.code for p in prints} == {"kiosk-1"}
    page.screenshot(path=os.path.join(SHOTS, "kiosk-done.png"))
    page.click("#screen-done [data-go='start']")
    page.wait_for_selector("#screen-start:not([hidden])")


def test_a_visitor_picks_up_an_order_booked_through_the_api(demo_live: Any, kiosk: Any) -> None:
    base = demo_live.url
    api = bearer_client(User.objects.get(username="supervisor"))
    adult = product("adult")
    day = dt.date.today() + dt.timedelta(days=1)
    slots = api.get(
        "/api/v1/availability",
        {"product": adult.pk, "date": day.isoformat(), "channel": "online"},
    ).json()
    slot = next(s["slot"] for s in slots if s["available"])
    placed = place(
        api,
        [{"product": adult.pk, "date": day.isoformat(), "quantity": 2, "slot": slot}],
        channel="online",
    )
    booked = pay_cash(api, placed["code"])["order"]

    page = kiosk
    pair(page, base)
    page.click("#go-pickup")
    page.wait_for_selector("#screen-pickup:not([hidden])")
    # A wrong code is refused on screen, with the engine's code.
    page.click("#by-code")
    type_on_pad(page, "ZZZZZZZZZZ")
    page.wait_for_selector("#message[data-code='pickup_not_found']")

    page.click("#by-code")
    type_on_pad(page, booked["code"])
    page.wait_for_selector("#screen-found:not([hidden])")
    shown = sorted(
        page.locator("#found-list .ticket").evaluate_all("els => els.map(e => e.dataset.serial)")
    )
    assert shown == sorted(t["serial"] for t in booked["tickets"])
    page.screenshot(path=os.path.join(SHOTS, "kiosk-pickup.png"))
    page.click("#found-print")
    page.wait_for_selector("#screen-done:not([hidden])")
    src = page.get_attribute("#print-frame", "src")
    assert src.startswith("blob:")
    page.wait_for_function("src => document.body.dataset.printed === src", arg=src)
    printed = TicketPrint.objects.filter(ticket__order__code=booked["code"])
    assert sorted(p.ticket.serial for p in printed) == shown

    # The same order again: printed once, so the kiosk sends the visitor to the window.
    page.click("#screen-done [data-go='start']")
    page.click("#go-pickup")
    page.click("#by-code")
    type_on_pad(page, booked["code"])
    page.wait_for_selector("#message[data-code='already_printed']")
    assert printed.count() == 2


def one_adult_tomorrow(page: Any) -> None:
    """From the start screen to the review of one adult ticket for the next open day."""
    page.click("#go-buy")
    page.locator("#days .day:not([disabled])").nth(1).click()
    page.wait_for_selector("#screen-tickets:not([hidden])")
    page.click(f"[data-product='{product('adult').pk}'] .plus")
    page.click("#tickets-next")
    page.locator("#slot-groups .slot:not([disabled])").first.click()
    page.click("#slot-next")
    page.wait_for_selector("#screen-review:not([hidden])")


def test_cancelling_a_payment_and_walking_away_return_to_the_start(
    demo_live: Any, kiosk: Any, monkeypatch: Any
) -> None:
    from admit.boxoffice import views_kiosk

    page = kiosk
    pair(page, demo_live.url)
    one_adult_tomorrow(page)
    page.click("#pay-start")
    page.wait_for_selector("#screen-pay:not([hidden]) #pay-qr svg")
    code = page.inner_text("#pay-order").strip()
    page.click("#pay-cancel")
    page.wait_for_selector("#screen-start:not([hidden])")
    page.wait_for_selector("#message[data-code='cancelled']")
    assert Order.objects.get(code=code).status == Order.Status.CANCELLED

    # Nobody touches the screen: after the idle time it shows the start again. (A short idle
    # time only from here: a slow answer during the purchase above must not restart it.)
    monkeypatch.setattr(views_kiosk, "IDLE_SECONDS", 3)
    page.reload()
    page.wait_for_selector("#screen-start:not([hidden])")
    page.click("#go-buy")
    page.wait_for_selector("#screen-date:not([hidden])")
    page.wait_for_selector("#screen-start:not([hidden])", timeout=8000)


def test_an_order_answered_after_the_visitor_left_is_cancelled(
    demo_live: Any, kiosk: Any, monkeypatch: Any
) -> None:
    """The visitor presses Pay and walks away before the order comes back: the kiosk goes
    back to its start screen, and the late answer neither reopens the payment screen nor
    leaves the order holding places."""
    from admit.boxoffice import views_kiosk

    monkeypatch.setattr(views_kiosk, "IDLE_SECONDS", 5)
    page = kiosk
    pair(page, demo_live.url)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    held: list[tuple[Any, Any]] = []

    def hold(route: Any) -> None:
        if route.request.method == "POST":
            held.append((route, route.fetch()))
        else:
            route.continue_()

    page.route("**/kiosk/api/orders", hold)
    one_adult_tomorrow(page)
    page.click("#pay-start")
    wait_until(page, lambda: bool(held), "the order was never sent")
    route, response = held[0]
    code = response.json()["order"]["code"]
    assert Order.objects.get(code=code).status == Order.Status.PENDING

    page.wait_for_selector("#screen-start:not([hidden])", timeout=15000)  # idle: back to start
    with page.expect_event("requestfinished", lambda r: r.url.endswith("/orders/cancel")):
        route.fulfill(response=response)
    wait_until(
        page,
        lambda: Order.objects.get(code=code).status == Order.Status.CANCELLED,
        "the late order was not cancelled",
    )
    assert page.is_visible("#screen-start") and page.is_hidden("#screen-pay")
    assert page.eval_on_selector("#pay-start", "b => !b.disabled")  # the next visitor can pay
    assert errors == []
