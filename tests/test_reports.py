"""Reports: every figure against sums computed here from the raw rows, after random sales,
refunds, voids and scans made through the real services; exports; closed days; the pages."""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
import zoneinfo
from collections import defaultdict
from decimal import Decimal
from typing import Any

import openpyxl
import pytest
import time_machine
from django.test import Client
from django.utils import timezone, translation

from admit.access.models import Scan
from admit.accounts.models import User
from admit.boxoffice.selectors import open_shift
from admit.boxoffice.services import Tender, window_sell, window_void
from admit.catalog.models import Gate, Product, Site
from admit.customers.models import Account
from admit.demo.data import cashier_on_shift
from admit.inventory.models import Pool
from admit.reports.catalog import REPORTS, Filters
from admit.reports.checks import report_problems
from admit.reports.models import DayClose, EntryHour
from admit.reports.services import day_close
from admit.sales.models import Order, OrderLine, Payment, Refund
from admit.sales.services import LineRequest
from admit.tickets.models import Ticket
from tests.gate_helpers import device_client, scan
from tests.sales_helpers import IDS, MON, line, pay_cash, place

pytestmark = pytest.mark.django_db

ZONE = zoneinfo.ZoneInfo("Asia/Shanghai")
ZERO = Decimal("0.00")
WIDE = (dt.date(2026, 1, 1), dt.date(2027, 12, 31))


def site() -> Site:
    return Site.objects.get(code="yunling")


def run(code: str, group: str = "", start: dt.date = WIDE[0], end: dt.date = WIDE[1]) -> Any:
    return REPORTS[code].run(Filters(site=site(), start=start, end=end, group=group))


def by_label(result: Any, column: str) -> dict[str, Any]:
    i = [c.key for c in result.columns].index(column)
    return {row[0]: row[i] for row in result.rows}


def local_day(at: dt.datetime) -> dt.date:
    return timezone.localtime(at, ZONE).date()


def window_req(code: str, quantity: int) -> LineRequest:
    from admit.inventory.selectors import availability

    p = Product.objects.get(code=code)
    from admit.catalog.models import Channel

    options = availability(product=p, day=MON, channel=Channel.objects.get(code="window"))
    chosen = next(s for s in options if s.remaining)
    return LineRequest(
        product=p.pk, date=MON, quantity=quantity, slot=chosen.pool.pk if chosen.pool else None
    )


def activity(api: Client, clock: Any, seed: int) -> dict[str, Any]:
    """Random sales over two days (API and window, cash, card and account), refunds, a void,
    then scans in and out at the gates on the visit day."""
    rnd = random.Random(seed)
    cashier = cashier_on_shift("cashier", "window-1")
    shift = open_shift(cashier)
    assert shift is not None
    sunshine = Account.objects.get(code="sunshine")
    tickets: list[dict[str, Any]] = []
    for _day in range(2):
        for _n in range(rnd.randint(3, 5)):
            code = rnd.choice(["adult", "child"])
            order = place(api, [line(api, code, rnd.randint(1, 3))])
            pay_cash(api, order["code"])
            got = api.get(f"/api/v1/orders/{order['code']}/tickets").json()["tickets"]
            tickets += [{**t, "order": order["code"]} for t in got]
        for _n in range(rnd.randint(1, 3)):
            method = rnd.choice(["cash", "card"])
            sold = window_sell(
                shift=shift,
                actor=cashier,
                lines=[window_req(rnd.choice(["adult", "child"]), rnd.randint(1, 2))],
                tenders=[Tender(method, None, None, "POS-1" if method == "card" else "")],
            )
            assert sold.status == Order.Status.PAID
        window_sell(
            shift=shift,
            actor=cashier,
            lines=[window_req("adult", rnd.randint(10, 12))],
            tenders=[Tender("account")],
            account=sunshine,
        )
        # refunds of some API tickets, one void at the window
        for t in rnd.sample(tickets, k=min(2, len(tickets))):
            if Ticket.objects.get(pk=t["id"]).status == Ticket.Status.VALID:
                response = api.post(
                    f"/api/v1/orders/{t['order']}/refunds",
                    {"tickets": [t["id"]]},
                    content_type="application/json",
                )
                assert response.status_code == 201, response.content
        victim = window_sell(
            shift=shift,
            actor=cashier,
            lines=[window_req("child", 1)],
            tenders=[Tender("cash", None, Decimal("200"))],
        )
        window_void(shift=shift, actor=cashier, order=victim, reason="wrong ticket")
        clock.shift(dt.timedelta(days=1))
    # the visit day: scans in at two lanes, some out at the exit, a few refused
    live = [t for t in tickets if Ticket.objects.get(pk=t["id"]).status == Ticket.Status.VALID]
    lanes = {name: device_client(name) for name in ("east-1", "east-2", "exit-1")}
    with time_machine.travel(dt.datetime(2027, 1, 11, 9, 40, tzinfo=ZONE), tick=True) as t:
        for ticket in live:
            lane = rnd.choice(["east-1", "east-2"])
            scan(lanes[lane], lane, code=ticket["code"])
        scan(lanes["east-1"], "east-1", code=live[0]["code"])  # again: used up
        scan(lanes["east-1"], "east-1", code="NOT-A-CODE")
        t.shift(dt.timedelta(hours=3))
        for ticket in live[: len(live) // 2]:
            scan(lanes["exit-1"], "exit-1", code=ticket["code"])
    return {"tickets": tickets}


@pytest.fixture(params=[1, 2])
def world(request: Any, demo: None, clock: Any, api: Client) -> dict[str, Any]:
    return activity(api, clock, request.param)


# --- each report against the rows ---------------------------------------------------------------


def test_the_aggregates_equal_the_rows(world):
    assert report_problems() == []


def test_sales_by_product_equal_the_order_lines_and_tickets(world):
    want: dict[str, dict[str, Any]] = defaultdict(lambda: defaultdict(lambda: 0))
    for ln in OrderLine.objects.filter(order__paid_at__isnull=False, replaces=None).select_related(
        "product"
    ):
        w = want[str(ln.product)]
        w["sold"] += ln.quantity
        w["gross"] += ln.base
        w["net"] += ln.total
    void_ids = {i for r in Refund.objects.filter(reason="void") for i in r.tickets}
    for t in Ticket.objects.filter(status=Ticket.Status.REFUNDED).select_related("product"):
        w = want[str(t.product)]
        if t.pk in void_ids:
            w["voided"] += 1
            w["voided_value"] += t.price
        else:
            w["refunded"] += 1
            w["refunded_value"] += t.price
    result = run("sales", "product")
    for column in ("sold", "gross", "net", "refunded", "refunded_value", "voided", "voided_value"):
        got = by_label(result, column)
        assert got == {k: v[column] for k, v in want.items()}, column
    assert sum(by_label(result, "voided").values()) >= 2  # a void on each day
    total = result.totals
    assert total[[c.key for c in result.columns].index("net")] == sum(
        (v["net"] for v in want.values()), ZERO
    )


def test_sales_by_day_put_each_sale_on_the_day_it_was_paid(world):
    want: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for ln in OrderLine.objects.filter(order__paid_at__isnull=False, replaces=None).select_related(
        "order"
    ):
        assert ln.order.paid_at is not None
        want[local_day(ln.order.paid_at).isoformat()] += ln.total
    assert by_label(run("sales", "day"), "net") == dict(want)
    assert len(want) == 2


def test_takings_per_method_equal_payments_less_refunds(world):
    labels = {"cash": "cash", "card": "bank card", "account": "charge to account"}
    paid: dict[str, Decimal] = defaultdict(lambda: ZERO)
    back: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for p in Payment.objects.all():
        paid[p.method] += p.amount
    for r in Refund.objects.all():
        back[r.method] += r.amount
    result = run("payments", "method")
    got_paid = by_label(result, "paid")
    got_net = by_label(result, "net")
    from admit.sales.models import PaymentMethod

    for method, amount in paid.items():
        label = str(PaymentMethod(method).label)
        assert got_paid[label] == amount
        assert got_net[label] == amount - back[method]
    assert set(labels) <= set(paid)


def test_takings_per_cashier_and_the_finance_summary(world):
    cashier = User.objects.get(username="cashier")
    at_window = sum((p.amount for p in Payment.objects.filter(shift__cashier=cashier)), ZERO) - sum(
        (r.amount for r in Refund.objects.filter(shift__cashier=cashier)), ZERO
    )
    result = run("payments", "cashier")
    label = cashier.display_name or cashier.username
    assert by_label(result, "net")[label] == at_window
    finance = run("finance")
    per_day: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for p in Payment.objects.all():
        per_day[local_day(p.at).isoformat()] += p.amount
    got = by_label(finance, "taken")
    assert {d: v for d, v in got.items() if v} == dict(per_day)


def test_entries_by_gate_and_hour_equal_the_scans(world):
    gates = {g.pk: str(g) for g in Gate.objects.all()}
    persons_in: dict[str, int] = defaultdict(int)
    persons_out: dict[str, int] = defaultdict(int)
    denied: dict[str, int] = defaultdict(int)
    hours_in: dict[str, int] = defaultdict(int)
    for s in Scan.objects.select_related("lane"):
        gate = gates[s.lane.gate_id]
        if s.result == "allow":
            (persons_in if s.direction == "in" else persons_out)[gate] += s.admitted
            if s.direction == "in":
                hours_in[f"{timezone.localtime(s.scanned_at, ZONE).hour:02d}:00"] += s.admitted
        else:
            denied[gate] += 1
    result = run("entries", "gate")
    assert {k: v for k, v in by_label(result, "in").items() if v} == dict(persons_in)
    assert {k: v for k, v in by_label(result, "out").items() if v} == dict(persons_out)
    assert {k: v for k, v in by_label(result, "denied").items() if v} == dict(denied)
    assert sum(denied.values()) == 2
    hourly = run("entries", "hour")
    assert {k: v for k, v in by_label(hourly, "in").items() if v} == dict(hours_in)


def test_occupancy_counts_who_is_inside_against_capacity(world):
    result = run("occupancy")
    inside = by_label(result, "inside")
    entered = sum(s.admitted for s in Scan.objects.filter(result="allow", direction="in"))
    left = sum(s.admitted for s in Scan.objects.filter(result="allow", direction="out"))
    assert list(inside.values())[-1] == entered - left
    capacity = sum(
        p.capacity for p in Pool.objects.filter(site=site(), date=MON, zone__parent=None)
    )
    assert set(by_label(result, "capacity").values()) == {capacity}


def test_slot_fill_rates_are_the_pools(world):
    result = run("slots", start=MON, end=MON)
    pools = Pool.objects.filter(site=site(), date=MON)
    assert len(result.rows) == pools.count()
    keys = [c.key for c in result.columns]
    rows = {(r[keys.index("zone")], r[keys.index("slot")]): r for r in result.rows}
    assert len(rows) == pools.count()  # one row per pool
    assert any(p.sold for p in pools)
    for p in pools.select_related("zone"):
        slot = f"{p.start:%H:%M}–{p.end:%H:%M}" if p.start else "all day"
        row = rows[(str(p.zone), slot)]
        assert row[keys.index("capacity")] == p.capacity
        assert row[keys.index("sold")] == p.sold
        assert row[keys.index("held")] == p.held
        fill = Decimal(p.sold * 100) / p.capacity if p.capacity else None
        assert row[keys.index("fill")] == (fill.quantize(Decimal("0.1")) if fill else fill)


def test_agency_performance_is_the_accounts_orders(world):
    sunshine = Account.objects.get(code="sunshine")
    lines = OrderLine.objects.filter(order__account=sunshine, replaces=None)
    result = run("agencies")
    assert by_label(result, "sold")[sunshine.name] == sum(ln.quantity for ln in lines)
    assert by_label(result, "net")[sunshine.name] == sum((ln.total for ln in lines), ZERO)


def test_every_report_runs_for_every_grouping_and_adds_up(world):
    for code, report in REPORTS.items():
        for group in [""] + [g for g, _label in report.groups]:
            result = run(code, group)
            assert len(result.columns) == len(result.totals or result.columns)
            for i, column in enumerate(result.columns):
                if (
                    column.kind in ("int", "money")
                    and result.totals
                    and result.totals[i] is not None
                ):
                    assert result.totals[i] == sum(
                        (r[i] or 0 for r in result.rows), ZERO if column.kind == "money" else 0
                    ), (code, group, column.key)


# --- origin -----------------------------------------------------------------------------------


def test_visitor_origin_follows_the_id_numbers(demo, clock, api):
    visitors = [
        {"name": "李雷", "id_type": "resident_id", "id_number": IDS[2], "phone": ""},  # 广东 汕头
        {"name": "韩梅梅", "id_type": "resident_id", "id_number": IDS[4], "phone": ""},  # 上海
    ]
    for v in visitors:
        order = place(api, [line(api, "annual", 1, start=None, visitors=[v])])
        pay_cash(api, order["code"])
    with translation.override("zh-hans"):
        provinces = by_label(run("origin", "province"), "visitors")
        assert provinces == {"广东省": 1, "上海市": 1}
        assert by_label(run("origin", "city"), "visitors") == {"广东省 汕头市": 1, "上海市": 1}
    with translation.override("en"):  # provinces in English, the cities' names as the table's
        assert by_label(run("origin", "province"), "visitors") == {"Guangdong": 1, "Shanghai": 1}
        assert by_label(run("origin", "city"), "visitors") == {"Guangdong 汕头市": 1, "Shanghai": 1}
    assert report_problems() == []


# --- closed days ------------------------------------------------------------------------------


def snapshot(day: dt.date) -> dict[str, Any]:
    out = {}
    for code, report in REPORTS.items():
        if code in ("slots", "stock", "passes"):  # the state of now, not of a day
            continue
        for group in [""] + [g for g, _label in report.groups]:
            result = run(code, group, day, day)
            out[(code, group)] = (result.rows, result.totals)
    return out


def test_a_closed_day_never_changes(demo, clock, api):
    order = place(api, [line(api, "adult", 3)])
    pay_cash(api, order["code"])
    tickets = api.get(f"/api/v1/orders/{order['code']}/tickets").json()["tickets"]
    sale_day = local_day(timezone.now())
    with pytest.raises(Exception) as refused:
        day_close(site=site(), day=sale_day, actor=None)  # not over yet
    assert getattr(refused.value, "code", "") == "day_not_over"

    clock.shift(dt.timedelta(days=1))
    day_close(site=site(), day=sale_day, actor=None)
    with pytest.raises(Exception) as twice:
        day_close(site=site(), day=sale_day, actor=None)
    assert getattr(twice.value, "code", "") == "day_already_closed"
    before = snapshot(sale_day)

    # A refund of that day's sale, a new sale: they count today.
    response = api.post(
        f"/api/v1/orders/{order['code']}/refunds",
        {"tickets": [tickets[0]["id"]]},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    pay_cash(api, place(api, [line(api, "child", 1)])["code"])
    assert snapshot(sale_day) == before
    today = local_day(timezone.now())
    assert by_label(run("sales", "day", today, today), "refunded_value") == {
        today.isoformat(): Ticket.objects.get(pk=tickets[0]["id"]).price
    }
    assert report_problems() == []


def test_a_late_offline_scan_counts_on_the_day_it_arrives(demo, clock, api):
    order = place(api, [line(api, "adult", 2)])
    pay_cash(api, order["code"])
    tickets = api.get(f"/api/v1/orders/{order['code']}/tickets").json()["tickets"]
    visit = dt.datetime(2027, 1, 11, 9, 40, tzinfo=ZONE)
    with time_machine.travel(visit, tick=True):
        scan(device_client("east-1"), "east-1", code=tickets[0]["code"])
    with time_machine.travel(visit + dt.timedelta(days=1, hours=1), tick=True):
        day_close(site=site(), day=MON, actor=None)
        before = snapshot(MON)
        # the lane was offline the day before: its scan of the other ticket arrives now
        response = device_client("east-1").post(
            "/api/v1/gates/east-1/scans/batch",
            {
                "scans": [
                    {
                        "scan_id": "late-1",
                        "code": tickets[1]["code"],
                        "scanned_at": (visit + dt.timedelta(minutes=5)).isoformat(),
                        "result": "allow",
                        "reason": "ok",
                    }
                ]
            },
            content_type="application/json",
        )
        assert response.status_code == 200, response.content
        assert snapshot(MON) == before
        late = EntryHour.objects.get(late=True)
        assert late.day == MON + dt.timedelta(days=1) and late.persons == 1
        notes = run("entries", "gate", late.day, late.day).notes
        assert notes == ["1 scan arrived after its day was closed; it counts when it arrived."]
        assert run("entries", "gate", MON, MON).notes == []  # the closed day keeps its figures
        assert report_problems() == []


# --- exports ----------------------------------------------------------------------------------


@pytest.fixture
def finance_client(demo: None) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(User.objects.get(username="finance"))
    return client


def test_exports_open_and_hold_the_report(world, finance_client):
    params = {"from": WIDE[0].isoformat(), "to": "2027-01-31", "group": "product"}
    result = run("sales", "product", WIDE[0], dt.date(2027, 1, 31))
    response = finance_client.get("/reports/sales.csv", params)
    assert response.status_code == 200 and response["Content-Type"] == "text/csv"
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert len(rows) == 1 + len(result.rows) + 1
    assert [Decimal(r[5]) for r in rows[1:-1]] == [r[5] for r in result.rows]

    response = finance_client.get("/reports/sales.xlsx", params)
    assert response.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    sheet = book.active
    values = list(sheet.iter_rows(min_row=5, values_only=True))
    assert len(values) >= len(result.rows) + 1
    assert [Decimal(str(v[5])) for v in values[: len(result.rows)]] == [r[5] for r in result.rows]
    assert sheet.cell(row=5, column=6).number_format == "#,##0.00"


# --- the pages ----------------------------------------------------------------------------------


def test_pages_need_the_right(demo, finance_client):
    assert Client().get("/reports/").status_code == 302
    cashier = Client()
    cashier.force_login(User.objects.get(username="cashier"))
    assert cashier.get("/reports/").status_code == 403
    assert cashier.get("/reports/sales.csv").status_code == 403
    page = finance_client.get("/reports/")
    assert page.status_code == 200
    for code in REPORTS:
        assert f'data-report="{code}"'.encode() in page.content


def test_every_report_page_renders_in_both_languages(world, finance_client):
    for language in ("en", "zh-hans"):
        finance_client.cookies["django_language"] = language
        for code in REPORTS:
            response = finance_client.get(
                f"/reports/{code}/", {"from": "2026-11-01", "to": "2027-01-31"}
            )
            assert response.status_code == 200, (code, response.content[:500])


def test_an_empty_range_says_so(demo, finance_client):
    response = finance_client.get("/reports/sales/", {"from": "2020-01-01", "to": "2020-01-31"})
    assert response.status_code == 200
    assert b'data-testid="empty"' in response.content


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"from": "2026-13-01"}, "bad_date"),
        ({"from": "2027-01-10", "to": "2027-01-01"}, "bad_range"),
        ({"from": "2020-01-01", "to": "2027-01-01"}, "bad_range"),
        ({"group": "nonsense"}, "bad_group"),
        ({"site": "elsewhere"}, "unknown_site"),
    ],
)
def test_bad_filters_get_a_clear_error(demo, finance_client, params, code):
    response = finance_client.get("/reports/sales/", params)
    assert response.status_code == 400
    assert f'data-code="{code}"'.encode() in response.content
    assert finance_client.get("/reports/no-such-report/").status_code == 404


def test_finance_closes_a_day_from_the_page(demo, clock, finance_client):
    yesterday = local_day(timezone.now()) - dt.timedelta(days=1)
    response = finance_client.post(
        "/reports/close-day", {"site": "yunling", "day": yesterday.isoformat()}
    )
    assert response.status_code == 302
    assert DayClose.objects.filter(day=yesterday).exists()
    again = finance_client.post(
        "/reports/close-day", {"site": "yunling", "day": yesterday.isoformat()}, follow=True
    )
    assert b"already closed" in again.content
    assert DayClose.objects.count() == 1
    marketing = Client()
    marketing.force_login(User.objects.get(username="marketing"))
    assert (
        marketing.post("/reports/close-day", {"site": "yunling", "day": "2026-11-01"}).status_code
        == 403
    )


# --- the API ----------------------------------------------------------------------------------


def test_reports_over_the_api(world, api, cashier_api):
    listed = api.get("/api/v1/reports")
    assert listed.status_code == 200
    assert {r["code"] for r in listed.json()} == set(REPORTS)
    assert cashier_api.get("/api/v1/reports").status_code == 403
    response = api.get("/api/v1/reports/sales", {"from": "2026-11-01", "to": "2027-01-31"})
    assert response.status_code == 200, response.content
    body = response.json()
    result = run("sales", "product", dt.date(2026, 11, 1), dt.date(2027, 1, 31))
    net = [c.key for c in result.columns].index("net")
    assert [r[net] for r in body["rows"]] == [str(r[net]) for r in result.rows]
    assert body["totals"][net] == str(result.totals[net]) and body["currency"] == "CNY"
    bad = api.get("/api/v1/reports/sales", {"from": "2027-02-01", "to": "2027-01-01"})
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "bad_range"
    assert api.get("/api/v1/reports/nothing").status_code == 404


# --- the commands -------------------------------------------------------------------------------


def test_check_reports_finds_a_tampered_aggregate_and_close_day_closes(demo, clock, api):
    import io

    from django.core.management import CommandError, call_command

    from admit.reports.models import SalesDay

    pay_cash(api, place(api, [line(api, "adult", 2)])["code"])
    out = io.StringIO()
    call_command("check-reports", stdout=out)
    assert "OK" in out.getvalue()
    SalesDay.objects.filter(sold__gt=0).update(sold=99)  # as a bad manual fix would
    with pytest.raises(SystemExit) as failed:
        call_command("check-reports", stdout=(out := io.StringIO()))
    assert failed.value.code == 1 and "SalesDay" in out.getvalue()

    yesterday = local_day(timezone.now()) - dt.timedelta(days=1)
    call_command("close-day", yesterday.isoformat(), site="yunling", stdout=io.StringIO())
    assert DayClose.objects.filter(day=yesterday).count() == 1
    with pytest.raises(CommandError):
        call_command("close-day", yesterday.isoformat(), site="yunling", stdout=io.StringIO())
