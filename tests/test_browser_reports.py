"""The report pages in a real Chromium: finance logs in, opens the sales report, changes the
grouping, sees the chart drawn and the table, downloads the Excel file; in Chinese too. Skips
with instructions where no Chromium is installed."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import time_machine

from tests.conftest import DEMO_DAY, bearer_client, load_demo
from tests.sales_helpers import line, pay_cash, place

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_finance_reads_and_exports_the_sales(
    live_server: Any, browser: Any, tmp_path: Path
) -> None:
    load_demo()
    from admit.accounts.models import User

    with time_machine.travel(DEMO_DAY, tick=True):
        api = bearer_client(User.objects.get(username="supervisor"))
        for code, n in (("adult", 3), ("child", 2), ("adult", 1)):
            pay_cash(api, place(api, [line(api, code, n)])["code"])

        context = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 900})
        page = context.new_page()
        page.set_default_timeout(15000)
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        try:
            page.goto(f"{live_server.url}/reports/")
            assert "/admin/login/" in page.url
            page.fill("#id_username", "finance")
            page.fill("#id_password", "demo1234")
            page.click("input[type=submit]")
            page.wait_for_url("**/reports/")
            assert page.locator("[data-report]").count() == 13
            page.click('[data-report="sales"]')
            page.wait_for_selector("#rp-chart[data-drawn='1']")
            rows = page.locator("[data-testid=report-table] tbody tr")
            assert rows.count() == 2  # adult and child
            table = page.inner_text("[data-testid=report-table]")
            assert "Adult ticket" in table and "Total" in table
            page.select_option("select[name=group]", "channel")
            page.click("form[data-testid=filters] button[type=submit]")
            page.wait_for_selector("#rp-chart[data-drawn='1']")
            assert "Box office" in page.inner_text("[data-testid=report-table] tbody")
            page.screenshot(path=str(tmp_path / "sales-report.png"))
            with page.expect_download() as download:
                page.click("[data-testid=xlsx]")
            sheet = openpyxl.load_workbook(
                io.BytesIO(Path(download.value.path()).read_bytes())
            ).active
            assert sheet["A1"].value == "Sales"
            assert sheet.cell(row=5, column=1).value == "Box office"

            page.select_option("#admit-language", "zh-hans")
            page.wait_for_load_state()
            page.wait_for_selector("#rp-chart[data-drawn='1']")
            assert "售出票数" in page.inner_text("[data-testid=report-table] thead")
            assert errors == []
        finally:
            context.close()
