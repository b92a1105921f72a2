"""The agency portal in a real Chromium: the Sunshine agency's clerk logs in, books a group of
12 on a weekday, sees the contract's discount, pays from the prepaid balance, downloads the
group's tickets as a PDF, sees the balance drop by exactly the total, and switches to Chinese.
Skips with instructions where no Chromium is installed."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from admit.catalog.models import Site
from admit.catalog.selectors import site_day
from admit.customers.models import Account
from admit.sales.models import Order

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def next_weekday() -> dt.date:
    """The first open day with weekday prices after today."""
    site = Site.objects.get(code="yunling")
    day = timezone.localdate() + dt.timedelta(days=1)
    while True:
        info = site_day(site=site, day=day)
        if info.day_type == "weekday" and not info.closed:
            return day
        day += dt.timedelta(days=1)


def money(text: str) -> Decimal:
    return Decimal(text.strip().lstrip("¥−-"))


def test_an_agency_books_a_group_pays_from_prepaid_and_downloads_the_tickets(
    demo_live: Any, page: Any, tmp_path: Path
) -> None:
    base = demo_live.url
    page.goto(f"{base}/agency/")
    assert page.url.startswith(f"{base}/agency/login")
    page.fill("#id_username", "agent")
    page.fill("#id_password", "demo1234")
    with page.expect_navigation():
        page.click("#login")
    assert page.url == f"{base}/agency/"
    assert "Sunshine Travel" in page.inner_text("#account-name")
    balance = money(page.inner_text("#prepaid-balance"))
    assert balance == Account.objects.get(code="sunshine").prepaid_balance == Decimal("20000.00")
    assert page.locator("#no-orders").is_visible()

    with page.expect_navigation():
        page.click("#book-group")
    day = next_weekday()
    page.fill("#visit-date", day.isoformat())
    with page.expect_navigation():
        page.click("#show-day")
    group = page.locator("tr[data-code='group']")
    group.locator("input[name^='qty-']").fill("1")
    group.locator("input[name^='persons-']").fill("12")
    page.fill("#contact-name", "李领队")
    page.fill("#contact-phone", "13912345678")
    page.fill("#guide", "D-5301-000123")
    with page.expect_navigation():
        page.click("#get-quote")
    # 12 persons × ¥96 (weekday) = ¥1152.00, less the contract's 10 % on group tickets.
    assert money(page.inner_text("#quote-subtotal")) == Decimal("1152.00")
    assert money(page.inner_text("#quote-discount")) == Decimal("115.20")
    total = money(page.inner_text("#quote-total"))
    assert total == Decimal("1036.80")
    assert "¥20000.00" in page.inner_text("#pay-prepaid")
    assert "¥50000.00" in page.inner_text("#pay-credit")
    assert not Order.objects.exists()
    page.screenshot(path=str(tmp_path / "agency-quote.png"), full_page=True)
    assert (tmp_path / "agency-quote.png").stat().st_size > 10_000

    with page.expect_navigation():
        page.click("#pay-prepaid")
    assert "Booked and paid" in page.inner_text(".messages")
    code = page.inner_text("#order-code").strip()
    order = Order.objects.get(code=code)
    assert order.status == Order.Status.PAID and order.total == total
    assert page.locator("#tickets tbody tr").count() == 1
    with page.expect_download() as info:
        page.click("#download-pdf")
    download = info.value
    assert download.suggested_filename == f"tickets-{code}.pdf"
    with open(download.path(), "rb") as f:
        assert f.read(4) == b"%PDF"

    with page.expect_navigation():
        page.click("#nav-home")
    assert money(page.inner_text("#prepaid-balance")) == balance - total
    assert page.locator(f"#orders tr[data-order='{code}']").is_visible()
    ledger = page.locator("#ledger tbody tr").first
    assert ledger.get_attribute("data-kind") == "draw"

    with page.expect_navigation():
        page.select_option("#agency-language", "zh-hans")
    assert page.get_attribute("html", "lang") == "zh-hans"
    assert page.inner_text("#nav-book") == "团队预订"
    assert "预存款余额" in page.inner_text(".figures")
    assert "授信额度" in page.inner_text(".figures")
    page.screenshot(path=str(tmp_path / "agency-dashboard-zh.png"), full_page=True)

    # On a tablet held upright the booking form fits the screen's width.
    page.set_viewport_size({"width": 820, "height": 1180})
    page.goto(f"{base}/agency/book?date={day.isoformat()}")
    assert page.evaluate("document.documentElement.scrollWidth") <= 820
    page.screenshot(path=str(tmp_path / "agency-book-tablet.png"), full_page=True)
