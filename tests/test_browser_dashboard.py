"""The dashboard in a real Chromium on a 1920×1080 wall screen: a morning of group and single
sales from several provinces, entries at the east gate, exits at the south one; the supervisor
logs in, the charts are drawn, the numbers on the screen are those of the tickets and scans, the
page refreshes by itself and says so when the server stops answering. Skips with instructions
where no Chromium is installed.

``ADMIT_DOCS_IMG=1`` also writes the screenshot to docs/img/dashboard.png (256 colours)."""

from __future__ import annotations

import datetime as dt
import os
import zoneinfo
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.db.models import Sum
from django.test import Client

from admit.access.models import Scan
from admit.access.selectors import occupancy, occupancy_totals
from admit.accounts.models import User
from admit.catalog.models import Lane, Site
from admit.reports.catalog import site_capacity
from admit.tickets.models import Ticket
from tests.conftest import LIVE_DAY, bearer_client, load_demo
from tests.gate_helpers import device_client, scan
from tests.sales_helpers import line, pay_cash, place

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DOCS_IMG = Path(__file__).resolve().parent.parent / "docs" / "img" / "dashboard.png"
SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
PHONES = [  # landlines of Kunming, Guangzhou, Beijing, Shanghai, Chengdu, Hangzhou, Wuhan
    "0871-65000000",
    "020-88889999",
    "010-88889999",
    "021-88889999",
    "028-88889999",
    "0571-88889999",
    "027-88889999",
]
# (slot, sold at, groups (persons, phone index), entries at, exits at)
MORNING = [
    ("07:30", "07:35", [(40, 0), (25, 1), (30, 0), (18, 2)], ["07:50", "08:20", "08:55"], "10:40"),
    ("09:30", "09:35", [(55, 0), (32, 3), (20, 4), (45, 1)], ["09:40", "10:05", "10:30"], "11:10"),
    ("11:30", "10:50", [(28, 5), (22, 6), (36, 0)], ["11:00", "11:05"], None),
]
NOW = "11:20"


def at(day: dt.date, hhmm: str) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.fromisoformat(hhmm), tzinfo=SHANGHAI)


def sell(api: Client, code: str, day: dt.date, slot: str, phone: str, **extra: Any) -> list[Any]:
    order = place(api, [line(api, code, 1, day=day, start=slot, **extra)], contact_phone=phone)
    pay_cash(api, order["code"])
    tickets: list[Any] = api.get(f"/api/v1/orders/{order['code']}/tickets").json()["tickets"]
    return tickets


def a_busy_morning(traveller: Any, day: dt.date) -> None:
    """Sales, entries and exits of a morning, made through the API at the times they happen."""
    api = bearer_client(User.objects.get(username="supervisor"))
    east = [device_client(f"east-{i}") for i in (1, 2, 3)]
    exit_ = device_client("exit-1")
    for slot, sold_at, groups, entries, leaving in MORNING:
        traveller.move_to(at(day, sold_at))
        codes = []
        for persons, phone in groups:
            codes.append(
                (sell(api, "group", day, slot, PHONES[phone], persons=persons)[0], persons)
            )
        for i in range(4):  # walk-ins: an adult and a child each
            for code in ("adult", "child"):
                codes.append((sell(api, code, day, slot, PHONES[(i + 2) % len(PHONES)])[0], 1))
        for n, (ticket, persons) in enumerate(codes):
            traveller.move_to(at(day, entries[n % len(entries)]))
            lane = n % 3
            answer = scan(east[lane], f"east-{lane + 1}", code=ticket["code"], persons=persons)
            assert answer["result"] == "allow", answer
        if leaving:
            traveller.move_to(at(day, leaving))
            ticket, persons = codes[0]
            assert scan(exit_, "exit-1", code=ticket["code"], persons=persons)["result"] == "allow"
    traveller.move_to(at(day, NOW))
    for lane in Lane.objects.exclude(code="theatre-1"):  # the theatre's lane is silent
        client = device_client(lane.code)
        beat = client.post(f"/api/v1/gates/{lane.code}/heartbeat", {}, "application/json")
        assert beat.status_code == 200, beat.content


def shown(page: Any, key: str) -> int:
    return int(page.inner_text(f'[data-key="{key}"]').replace(",", "").replace("¥", "") or 0)


def chart_total(page: Any, canvas: str, dataset: int = 0) -> float:
    total: float = page.evaluate(
        """([id, i]) => {
            const chart = Chart.getChart(document.getElementById(id));
            return chart.data.datasets[i].data.reduce((a, b) => a + (b || 0), 0);
        }""",
        [canvas, dataset],
    )
    return total


def drawn(page: Any, canvas: str) -> bool:
    """Whether the canvas holds more than one colour (Chart.js has painted on it)."""
    result: bool = page.evaluate(
        """(id) => {
            const c = document.getElementById(id);
            const px = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
            for (let i = 4; i < px.length; i += 1) {
                if (px[i] !== px[i % 4]) return true;
            }
            return false;
        }""",
        canvas,
    )
    return result


def test_the_wall_screen_shows_the_morning(live_server: Any, browser: Any, tmp_path: Path) -> None:
    load_demo()
    day = dt.date.fromisoformat(LIVE_DAY[:10])  # an open weekday, whatever day the test runs
    # The server's clock stands at this morning from the first sale on (and runs on).
    with time_machine.travel(at(day, "07:30"), tick=True) as traveller:
        a_busy_morning(traveller, day)
        site = Site.objects.get(code="yunling")
        live = Ticket.objects.filter(order__site=site, status__in=Ticket.LIVE)
        entered = occupancy_totals(occupancy(site=site))
        allowed = Scan.objects.filter(result="allow", direction="in")
        assert entered["entered"] == allowed.aggregate(n=Sum("admitted"))["n"] > 300

        context = browser.new_context(locale="en-US", viewport={"width": 1920, "height": 1080})
        page = context.new_page()
        page.set_default_timeout(15000)
        try:
            page.goto(f"{live_server.url}/dashboard/?refresh=5")
            assert "/admin/login/" in page.url
            page.fill("#id_username", "supervisor")
            page.fill("#id_password", "demo1234")
            page.click("input[type=submit]")
            page.wait_for_url("**/dashboard/**")
            page.wait_for_function("window.dashboardDrawn >= 1")
            charts = ("chart-gauge", "chart-hours", "chart-gates", "chart-origins")
            for _ in range(100):  # the first drawing's animation, up to 10 s on a busy machine
                if all(drawn(page, canvas) for canvas in charts):
                    break
                page.wait_for_timeout(100)
            for canvas in charts:
                assert drawn(page, canvas), f"{canvas} was not drawn"
            assert page.inner_text(".brand") == "Today at a glance"
            assert shown(page, "sold") == live.count()
            persons = live.aggregate(n=Sum("persons"))["n"]
            assert f"for {persons:,} visitors" in page.inner_text('[data-key="persons_text"]')
            assert page.inner_text('[data-key="sales"]') == "¥{:,.2f}".format(
                live.aggregate(v=Sum("price"))["v"]
            )
            assert shown(page, "entered") == entered["entered"]
            assert shown(page, "inside") == entered["inside"]
            assert shown(page, "capacity") == site_capacity(site, day)
            assert chart_total(page, "chart-hours") == entered["entered"]
            assert chart_total(page, "chart-gates") == entered["entered"]
            assert chart_total(page, "chart-origins") == persons  # every phone has its place
            # the big numbers fit their tiles
            assert page.evaluate(
                "[...document.querySelectorAll('.kpi .big')]"
                ".every(e => e.scrollWidth <= e.clientWidth)"
            )
            assert page.is_hidden("#dash-empty")
            assert "1 of 10 lanes offline" in page.inner_text("#lanes-summary")
            assert "theatre-1" in page.inner_text("#lanes-offline")
            assert page.locator("#slots tbody tr.now").count() == 1
            # one screen, nothing cut off
            assert page.evaluate("document.documentElement.scrollHeight") <= 1080

            shot = tmp_path / "dashboard.png"
            page.screenshot(path=str(shot))
            assert shot.stat().st_size > 10_000
            if os.environ.get("ADMIT_DOCS_IMG"):
                _save_for_docs(shot)

            # it refreshes by itself ...
            page.wait_for_function("window.dashboardDrawn >= 2", timeout=25000)
            assert "Last updated" in page.inner_text("#dash-status")
            # ... and says so when the server stops answering
            page.route("**/dashboard/data**", lambda route: route.abort())
            page.wait_for_selector("body.stale", timeout=25000)
            assert "Not updated since" in page.inner_text("#dash-status")
            page.unroute("**/dashboard/data**")
            page.wait_for_function("!document.body.classList.contains('stale')", timeout=25000)

            # a laptop: the same page, scrolling, no sideways scroll
            page.set_viewport_size({"width": 1366, "height": 768})
            page.wait_for_function("document.documentElement.scrollWidth <= 1366")
            page.screenshot(path=str(tmp_path / "dashboard-laptop.png"), full_page=True)
            # and in Chinese
            with page.expect_navigation():
                page.select_option("#dash-language", "zh-hans")
            page.wait_for_function("window.dashboardDrawn >= 1")
            assert page.inner_text(".brand") == "今日概览"
            assert "东大门" in page.evaluate(
                "Chart.getChart(document.getElementById('chart-gates')).data.labels.join()"
            )
            page.wait_for_timeout(900)
            page.screenshot(path=str(tmp_path / "dashboard-zh.png"), full_page=True)
        finally:
            context.close()


def _save_for_docs(shot: Path) -> None:
    from PIL import Image

    DOCS_IMG.parent.mkdir(parents=True, exist_ok=True)
    with Image.open(shot) as img:
        small = img.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT)
        small.save(DOCS_IMG, optimize=True)
