"""The dashboard (/dashboard/): today's figures after real sales, refunds, voids and scans made
through the API and the services, checked against the rows they came from; who may see it; and
a constant, small number of queries however busy the day was."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.db.models import Sum
from django.test import Client
from django.test.utils import CaptureQueriesContext

from admit.access.models import Scan
from admit.access.selectors import occupancy, occupancy_totals
from admit.accounts.models import User
from admit.catalog.models import Lane, Site
from admit.catalog.services import lane_save
from admit.inventory.models import Pool
from admit.reports.catalog import site_capacity
from admit.reports.dashboard import _estimated_inside, today
from admit.sales.models import Order
from admit.sales.services.refunds import order_refund
from admit.tickets.models import Ticket
from tests.gate_helpers import device_client, scan
from tests.sales_helpers import MON, line, pay_cash, place

pytestmark = pytest.mark.django_db

MORNING = "2027-01-11 09:00 +0800"  # MON, before the 09:30 slot
AT_GATE = "2027-01-11 09:40 +0800"
LATER = "2027-01-11 09:41 +0800"
YUNNAN, GUANGDONG = "530000", "440000"
DATA = "/dashboard/data"


@pytest.fixture
def morning(demo: None) -> Iterator[Any]:
    """The business day is MON; its sales are made that morning."""
    with time_machine.travel(MORNING, tick=True) as traveller:
        yield traveller


def staff(username: str, language: str = "en") -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(User.objects.get(username=username))
    return client


def buy(api: Client, code: str, quantity: int, phone: str = "") -> dict[str, Any]:
    order = place(api, [line(api, code, quantity, day=MON)], contact_phone=phone)
    pay_cash(api, order["code"])
    tickets = api.get(f"/api/v1/orders/{order['code']}/tickets").json()["tickets"]
    return {"code": order["code"], "tickets": tickets}


def refund_one(api: Client, order: dict[str, Any]) -> None:
    ticket = Ticket.objects.get(serial=order["tickets"][0]["serial"])
    response = api.post(
        f"/api/v1/orders/{order['code']}/refunds",
        {"reason": "changed plans", "tickets": [ticket.pk]},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content


def data(client: Client | None = None, **params: str) -> dict[str, Any]:
    response = (client or staff("finance")).get(DATA, params)
    assert response.status_code == 200, response.content
    body: dict[str, Any] = response.json()
    return body


@pytest.fixture
def busy(morning: Any, api: Client) -> dict[str, Any]:
    """Three adults from Yunnan (one refunded), two children from Guangdong, one adult with no
    known origin (voided at the window); five enter at the east gate, one leaves by the south
    exit, one tries the cable car with a ticket that does not cover it. The lanes east-1 and exit-1
    report they are alive; the others never did."""
    yunnan = buy(api, "adult", 3, phone="15012341234")
    guangdong = buy(api, "child", 2, phone="020-88889999")
    unknown = buy(api, "adult", 1)
    refund_one(api, yunnan)
    order_refund(
        order=Order.objects.get(code=unknown["code"]),
        actor=User.objects.get(username="supervisor"),
        reason="wrong ticket",
        apply_rules=False,
    )
    live = yunnan["tickets"][1:] + guangdong["tickets"]
    east, exit_, cable = device_client("east-1"), device_client("exit-1"), device_client("cable-1")
    with time_machine.travel(AT_GATE, tick=True):
        for t in live:
            assert scan(east, "east-1", code=t["code"])["result"] == "allow"
        assert scan(exit_, "exit-1", code=live[0]["code"])["result"] == "allow"
        assert scan(cable, "cable-1", code=live[1]["code"])["result"] == "deny"
        for client, lane in ((east, "east-1"), (exit_, "exit-1")):
            beat = client.post(f"/api/v1/gates/{lane}/heartbeat", {}, "application/json")
            assert beat.status_code == 200, beat.content
    return {"yunnan": yunnan, "guangdong": guangdong, "unknown": unknown, "live": live}


def test_the_origins_come_largest_first(busy: dict[str, Any], api: Client) -> None:
    """One more visitor from Yunnan: 3 against Guangdong's 2, and Yunnan (code 530000, after
    440000) comes first: by persons, not by code."""
    buy(api, "adult", 1, phone="15012341234")
    with time_machine.travel(LATER, tick=True):
        body = data()
    assert [(o["code"], o["persons"]) for o in body["origins"]] == [(YUNNAN, 3), (GUANGDONG, 2)]


def test_the_figures_are_those_of_the_sales_and_scans(busy: dict[str, Any]) -> None:
    site = Site.objects.get(code="yunling")
    with time_machine.travel(LATER, tick=True):
        body = data()
        zones = occupancy_totals(occupancy(site=site))
    assert body["day"] == MON.isoformat() and body["site"]["code"] == "yunling"

    tickets = Ticket.objects.filter(order__site=site)
    live = tickets.filter(status__in=Ticket.LIVE)
    assert tickets.count() == 6 and live.count() == 4
    assert body["sold"] == live.count()
    assert body["persons"] == live.aggregate(n=Sum("persons"))["n"] == 4
    assert Decimal(body["sales"]) == live.aggregate(v=Sum("price"))["v"]
    assert body["currency"] == "CNY"

    allowed_in = Scan.objects.filter(result="allow", direction="in")
    assert body["entered"] == zones["entered"] == sum(s.admitted for s in allowed_in) == 4
    assert body["inside"] == zones["inside"] == 3
    assert body["inside_estimated"] is False

    pools = Pool.objects.filter(site=site, date=MON)
    assert body["capacity"] == site_capacity(site, MON) > 0
    assert body["inside_pct"] == round(3 * 100 / body["capacity"], 1)
    assert len(body["slots"]) == pools.count()
    slot = next(s for s in body["slots"] if s["zone"] == "Main park" and s["slot"] == "09:30–11:30")
    pool = pools.get(zone__code="main", start=dt.time(9, 30))
    assert (slot["sold"], slot["capacity"]) == (pool.sold, pool.capacity)
    assert pool.sold == 4  # the refunded and voided places went back
    assert slot["fill"] == round(pool.sold * 100 / pool.capacity, 1) and slot["now"] is True

    gates = dict(zip(body["gates"]["labels"], body["gates"]["in"], strict=True))
    assert gates["East Gate"] == 4
    assert gates["Cable car lower station"] == 0  # denied: let no one in
    out = dict(zip(body["gates"]["labels"], body["gates"]["out"], strict=True))
    assert out["South Exit"] == 1
    hours = dict(zip(body["hours"]["labels"], body["hours"]["in"], strict=True))
    assert hours["09:00"] == 4 and hours["08:00"] == 0
    assert hours["17:00"] is None  # still to come
    assert dict(zip(body["hours"]["labels"], body["hours"]["out"], strict=True))["09:00"] == 1

    origins = {o["code"]: (o["name"], o["persons"]) for o in body["origins"]}
    assert origins == {YUNNAN: ("Yunnan", 2), GUANGDONG: ("Guangdong", 2)}
    assert body["origins_unknown"] == 0  # the one unknown visitor was voided

    lanes = Lane.objects.filter(gate__site=site, is_active=True, gate__is_active=True)
    assert body["lanes"]["total"] == lanes.count()
    offline = {row["lane"] for row in body["lanes"]["offline"]}
    seen = {str(ln) for ln in lanes.filter(code__in=["east-1", "exit-1"])}
    assert offline == {str(ln) for ln in lanes} - seen
    assert body["empty"] is False


def test_a_lane_silent_for_minutes_shows_offline(busy: dict[str, Any]) -> None:
    with time_machine.travel("2027-01-11 09:50 +0800", tick=True):
        offline = {row["lane"]: row for row in data()["lanes"]["offline"]}
    east = next(row for name, row in offline.items() if "(east-1)" in name)
    assert east["last_contact"] == "09:40" and east["gate"] == "East Gate"
    assert east["lane"] == "East Gate lane 1 (east-1)"
    with time_machine.travel("2027-01-11 09:50 +0800", tick=True):
        chinese = data(staff("finance", language="zh-hans"))["lanes"]["offline"]
    east = next(row for row in chinese if "(east-1)" in row["lane"])
    assert (east["lane"], east["gate"]) == ("东大门 1 号通道 (east-1)", "东大门")


def test_inside_is_estimated_where_no_lane_counts_exits(busy: dict[str, Any]) -> None:
    supervisor = User.objects.get(username="supervisor")
    for lane in Lane.objects.filter(direction__in=["out", "both"]):
        lane.is_active = False
        lane_save(instance=lane, actor=supervisor)
    with time_machine.travel(LATER, tick=True):
        body = data()
    # all four entered within the average stay (3 hours): all are taken to be inside
    assert body["inside_estimated"] is True and body["inside"] == 4


def test_the_estimate_counts_the_part_of_an_hour_within_the_stay() -> None:
    start = dt.datetime(2027, 1, 11, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    now = start + dt.timedelta(hours=12, minutes=30)
    # stay 60 min: from 11:30; half of the 11 o'clock hour, all of the 12 o'clock half hour
    assert _estimated_inside({9: 100, 11: 40, 12: 10}, start, now, 60) == 30


def test_the_figures_of_another_day_are_not_today(busy: dict[str, Any]) -> None:
    with time_machine.travel("2027-01-12 09:00 +0800", tick=True):
        body = data()
    assert body["day"] == "2027-01-12"
    assert (body["sold"], body["sales"], body["entered"], body["inside"]) == (0, "0.00", 0, 0)
    assert body["origins"] == [] and body["empty"] is True
    # the day's pools come from the capacity templates when nothing made them yet
    site = Site.objects.get(code="yunling")
    assert body["capacity"] == site_capacity(site, dt.date(2027, 1, 12)) > 0


def test_an_empty_day_says_so(morning: Any) -> None:
    body = data()
    assert body["empty"] is True and body["sold"] == 0 and body["slots"]
    html = staff("finance").get("/dashboard/").content.decode()
    assert 'id="dash-empty"' in html and "Nothing sold or scanned yet today." in html
    assert 'id="dash-empty" hidden' not in html


def test_the_page_shows_the_figures_and_the_charting_library(busy: dict[str, Any]) -> None:
    with time_machine.travel(LATER, tick=True):
        response = staff("supervisor").get("/dashboard/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Today at a glance" in html and "Yunling Mountain Scenic Area" in html
    assert 'data-key="sold">4<' in html and 'data-key="entered">4<' in html
    assert "reports/vendor/chart.umd.min.js" in html and 'id="chart-hours"' in html
    assert 'id="dash-empty" hidden' in html


def test_the_page_speaks_chinese(busy: dict[str, Any]) -> None:
    client = staff("supervisor", language="zh-hans")
    with time_machine.travel(LATER, tick=True):
        html = client.get("/dashboard/").content.decode()
        body = data(client)
    assert "今日概览" in html and "云岭山风景区" in html
    assert "东大门" in body["gates"]["labels"]
    assert {o["name"] for o in body["origins"]} == {"云南省", "广东省"}


def test_the_charting_library_is_served(client: Client) -> None:
    response = client.get("/static/reports/vendor/chart.umd.min.js")
    assert response.status_code == 200
    text = b"".join(response.streaming_content).decode()  # type: ignore[attr-defined]
    assert text.startswith("/*!\n * Chart.js v4.")


def test_the_site_is_chosen_by_its_code(busy: dict[str, Any]) -> None:
    assert data(site="yunling")["site"]["code"] == "yunling"
    response = staff("finance").get(DATA, {"site": "nowhere"})
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"


def test_anonymous_visitors_are_sent_to_log_in(demo: None) -> None:
    response = Client().get("/dashboard/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/?next=/dashboard/")
    response = Client().get(DATA)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_a_cashier_may_not_see_it(demo: None) -> None:
    cashier = staff("cashier")
    response = cashier.get("/dashboard/")
    assert response.status_code == 403
    assert "reports.view_reports" in response.content.decode()
    response = cashier.get(DATA)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"


@pytest.mark.parametrize("username", ["finance", "supervisor", "marketing"])
def test_those_who_read_reports_see_it(demo: None, username: str) -> None:
    assert staff(username).get("/dashboard/").status_code == 200


def test_the_refresh_is_configurable(demo: None, settings: Any) -> None:
    settings.ADMIT_DASHBOARD_REFRESH_SECONDS = 30
    html = staff("finance").get("/dashboard/").content.decode()
    assert '"refresh": 30' in html
    html = staff("finance").get("/dashboard/", {"refresh": "60"}).content.decode()
    assert '"refresh": 60' in html


def test_the_data_takes_the_same_few_queries_however_busy_the_day(
    morning: Any, api: Client, django_assert_max_num_queries: Any
) -> None:
    client = staff("finance")
    buy(api, "adult", 1, phone="15012341234")
    data(client)  # the day's pools exist, the caches are warm

    with CaptureQueriesContext(connection) as quiet:
        data(client)
    for i in range(6):
        order = buy(api, "adult" if i % 2 else "child", 2, phone=["15012341234", ""][i % 2])
        with time_machine.travel(AT_GATE, tick=True):
            lane = device_client("east-2")
            for t in order["tickets"]:
                scan(lane, "east-2", code=t["code"])
    # session, user, two cache checks, site, sales, lanes, entries, pools, origins
    with django_assert_max_num_queries(10), CaptureQueriesContext(connection) as busy_day:
        body = data(client)
    assert body["sold"] == 13 and body["entered"] == 12
    assert len(busy_day.captured_queries) == len(quiet.captured_queries)


def test_the_function_answers_without_a_request(busy: dict[str, Any]) -> None:
    site = Site.objects.get(code="yunling")
    at = dt.datetime.fromisoformat("2027-01-11T09:41:00+08:00")
    assert today(site, at)["sold"] == 4
