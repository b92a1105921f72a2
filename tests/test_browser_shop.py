"""The online shop in a real Chromium on a phone-sized screen (390×844): a visitor picks a day in
the calendar, a time slot and quantities, gives a senior's real name and ID and a phone, pays on
the sandbox pay page (in a second tab, as a payment app would) and opens the e-tickets, which
fetch nothing from anywhere and open again with the network down. Skips with instructions where
no Chromium is installed."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from typing import Any

import pytest

from admit.sales.models import Order
from tests.sales_helpers import product

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = "13800138000"
SENIOR_ID = "320102195512120037"


def phone(browser: Any, locale: str) -> Iterator[Any]:
    context = browser.new_context(
        locale=locale,
        viewport={"width": 390, "height": 844},
        is_mobile=True,
        has_touch=True,
        device_scale_factor=2,
    )
    page = context.new_page()
    page.set_default_timeout(15000)
    yield page
    context.close()


@pytest.fixture
def zh_phone(browser: Any) -> Iterator[Any]:
    yield from phone(browser, "zh-CN")


@pytest.fixture
def en_phone(browser: Any) -> Iterator[Any]:
    yield from phone(browser, "en-US")


def pick_a_day(page: Any, base: str) -> dt.date:
    """The first bookable day at least a week ahead (today's slots may have ended)."""
    wanted = dt.date.today() + dt.timedelta(days=7)
    page.goto(f"{base}/shop/")
    page.wait_for_selector("#calendar")
    assert page.url == f"{base}/shop/yunling/"
    assert page.locator("img.hero").is_visible()
    page.goto(f"{base}/shop/yunling/?month={wanted:%Y-%m}")
    days = page.locator("#calendar a.day")
    for i in range(days.count()):
        day = dt.date.fromisoformat(days.nth(i).get_attribute("data-date"))
        if day >= wanted:
            with page.expect_navigation():
                days.nth(i).click()
            return day
    raise AssertionError("no bookable day in the calendar")


def buy_and_pay(page: Any, base: str, senior: bool) -> Order:
    day = pick_a_day(page, base)
    assert page.inner_text("#day") == day.isoformat()
    adult = product("adult")
    page.select_option(f"#s_{adult.pk}", index=1)
    page.fill(f"#q_{adult.pk}", "2")
    if senior:
        s = product("senior")
        page.select_option(f"#s_{s.pk}", index=1)
        page.fill(f"#q_{s.pk}", "1")
    with page.expect_navigation():
        page.click("#next")
    if senior:
        s = product("senior")
        page.fill(f"#v_{s.pk}_0_name", "王芳")
        page.fill(f"#v_{s.pk}_0_id", SENIOR_ID)
    page.fill("#phone", PHONE)
    with page.expect_navigation():
        page.click("#place")
    assert page.get_attribute("#status", "data-status") == "pending"
    order = Order.objects.get(code=page.url.rstrip("/").rsplit("/", 1)[-1])
    with page.expect_popup() as popup_info:
        page.click("#pay")
    pay_page = popup_info.value
    pay_page.wait_for_selector("#pay")
    assert pay_page.inner_text("#merchant-order") == order.code
    pay_page.click("#pay")
    pay_page.wait_for_selector("#paid")
    pay_page.close()
    # The order page updates itself until the payment has arrived.
    page.wait_for_selector("#etickets", timeout=30000)
    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    return order


def open_tickets_and_go_offline(page: Any, base: str, order: Order, shot: str) -> None:
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    with page.expect_navigation():
        page.click("#etickets")
    tickets = order.tickets.all()
    assert page.locator(".ticket svg").count() == len(tickets)
    for t in tickets:
        assert page.locator(f".ticket[data-serial='{t.serial}']").is_visible()
    page.wait_for_selector("body[data-offline='ready']")
    page.screenshot(path=shot, full_page=True)
    # Nothing but the page itself and the shop's service worker was fetched.
    assert all(u.startswith(base) for u in requests), requests
    assert {u.split("?")[0] for u in requests} <= {page.url, f"{base}/shop/sw.js"}, requests
    # With the network down, the e-tickets open again from the phone's copy.
    page.context.set_offline(True)
    try:
        page.reload()
        assert page.locator(".ticket svg").count() == len(tickets)
    finally:
        page.context.set_offline(False)


def test_a_chinese_phone_buys_tickets_and_opens_them_offline(
    demo_live: Any, zh_phone: Any, tmp_path: Any
) -> None:
    base = demo_live.url
    page = zh_phone
    order = buy_and_pay(page, base, senior=True)
    assert page.get_attribute("html", "lang") == "zh-hans"
    assert "查看电子票" in page.inner_text("#etickets")
    assert order.tickets.count() == 3
    assert order.tickets.filter(holder_name="王芳").count() == 1
    open_tickets_and_go_offline(page, base, order, str(tmp_path / "shop-zh.png"))
    assert "电子票" in page.inner_text("h1")


def test_an_english_phone_buys_and_finds_the_order_again_by_code_and_phone(
    demo_live: Any, en_phone: Any, browser: Any, tmp_path: Any
) -> None:
    base = demo_live.url
    page = en_phone
    order = buy_and_pay(page, base, senior=False)
    assert page.get_attribute("html", "lang") == "en"
    assert "Show the e-tickets" in page.inner_text("#etickets")
    open_tickets_and_go_offline(page, base, order, str(tmp_path / "shop-en.png"))
    # Another phone finds it with the code and the phone number, not with a wrong number.
    for other in phone(browser, "en-US"):
        other.goto(f"{base}/shop/lookup")
        other.fill("#code", order.code)
        other.fill("#phone", "13900139000")
        with other.expect_navigation():
            other.click("#find")
        assert "No order matches this code and phone number." in other.inner_text("#error")
        other.fill("#phone", PHONE)
        with other.expect_navigation():
            other.click("#find")
        other.wait_for_selector("#etickets")
        other.screenshot(path=str(tmp_path / "shop-lookup.png"), full_page=True)


def test_a_member_signs_in_with_the_texted_code_and_sees_the_pass_and_an_order(
    demo_live: Any, zh_phone: Any, tmp_path: Any
) -> None:
    from admit.core.sms import sms_outbox
    from admit.demo.data import DEMO_MEMBER_PHONE, demo_sample_pass

    base = demo_live.url
    page = zh_phone
    the_pass = demo_sample_pass()
    pass_order = Order.objects.get(tickets__holder_pass=the_pass)
    page.goto(f"{base}/shop/yunling/")
    with page.expect_navigation():
        page.click("#account")  # 我的
    assert page.url.startswith(f"{base}/shop/account/sign-in")
    page.fill("#phone", DEMO_MEMBER_PHONE)
    with page.expect_navigation():
        page.click("#send-code")
    assert "139****4321" in page.inner_text("#sent-to")
    # The sandbox kept the text message instead of sending it.
    code = re.search(r"\b(\d{6})\b", sms_outbox(DEMO_MEMBER_PHONE)[0]).group(1)  # type: ignore[union-attr]
    page.fill("#code", code)
    with page.expect_navigation():
        page.click("#verify")
    assert page.url == f"{base}/shop/account/"
    assert page.inner_text("h1") == "我的账户"
    assert page.inner_text("#member-name") == "张云"
    card = page.locator(f".ticket.pass[data-pass='{the_pass.number}']")
    assert card.is_visible() and card.locator("svg").is_visible()
    assert "A1B*C3D4" in card.inner_text()
    order = page.locator(f"a.order-row[data-order='{pass_order.code}']")
    assert order.is_visible()
    # Fits the phone's width: nothing to scroll sideways.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=str(tmp_path / "shop-member.png"), full_page=True)
    with page.expect_navigation():
        order.click()
    assert page.locator(".ticket svg").count() == pass_order.tickets.count()
