"""A supervisor in a real Chromium: log in, create a product with prices, find it in the audit
trail. Skips with instructions where no Chromium is installed."""

from __future__ import annotations

import re

import pytest

from admit.catalog.models import Product

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_supervisor_creates_a_product_and_sees_it_in_the_audit_trail(demo_live, page):
    base = demo_live.url
    page.goto(f"{base}/admin/")
    page.fill("#id_username", "supervisor")
    page.fill("#id_password", "demo1234")
    page.click("input[type=submit]")
    page.wait_for_selector("#site-name")
    assert "Admit back office" in page.inner_text("#site-name")

    page.goto(f"{base}/admin/catalog/product/add/")
    page.select_option("#id_site", label="Yunling Mountain Scenic Area")
    page.fill("#id_code", "sunrise")
    page.fill("#id_name", "日出观景票")
    page.fill("#id_name_en", "Sunrise ticket")
    page.select_option("#id_kind", "admission")
    page.check("input[name=allowed_media][value=qr]")
    page.fill("#id_prices-0-amount", "88.00")
    page.fill("#id_prices-0-valid_from", "2027-01-01")
    page.click("#product_form .add-row a")  # "Add another price"
    page.fill("#id_prices-1-amount", "99.00")
    page.fill("#id_prices-1-valid_from", "2027-01-01")
    page.select_option("#id_prices-1-day_type", "weekend")
    page.click("input[name=_save]")
    page.wait_for_selector(".messagelist .success")

    product = Product.objects.get(code="sunrise")
    assert sorted(str(a) for a in product.prices.values_list("amount", flat=True)) == [
        "88.00",
        "99.00",
    ]

    page.goto(f"{base}/admin/core/auditentry/?q=Sunrise")
    rows = page.locator("#result_list tbody tr")
    assert rows.count() >= 1
    text = page.inner_text("#result_list")
    assert "supervisor" in text
    assert re.search(r"created", text)
    # The detail shows what was set.
    rows.first.locator("a").first.click()
    detail = page.inner_text("#content")
    assert "Sunrise ticket" in detail


def test_the_back_office_switches_to_chinese(demo_live, page):
    base = demo_live.url
    page.goto(f"{base}/admin/login/")
    page.fill("#id_username", "supervisor")
    page.fill("#id_password", "demo1234")
    page.click("input[type=submit]")
    with page.expect_navigation():
        page.select_option("#admit-language", "zh-hans")
    assert "票务管理后台" in page.inner_text("#site-name")
    assert "票种" in page.inner_text("#content")


def test_a_wrong_password_says_so_and_a_locked_account_says_when(demo_live, page, settings):
    settings.ADMIT_LOGIN_MAX_FAILURES = 2
    base = demo_live.url
    for _ in range(2):
        page.goto(f"{base}/admin/login/")
        page.fill("#id_username", "cashier")
        page.fill("#id_password", "wrong")
        page.click("input[type=submit]")
    assert "locked until" in page.inner_text(".errornote")
