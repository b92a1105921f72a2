"""No channel sells a time slot of today once it has ended (in the site's time zone), and no
ticket is moved onto one: ``slot_ended``. The demo's main park has slots 07:30–09:30,
09:30–11:30, 11:30–13:30 and 13:30–16:30; these tests stand at 10:00 on a Monday."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
import time_machine
from django.test import Client

from admit.accounts.models import User
from admit.agency.selectors import bookable_products
from admit.inventory.models import Pool
from admit.inventory.services import slot_ended
from admit.sales.models import Order
from admit.sales.services.agency import agency_account
from tests.conftest import bearer_client, cashier_on_shift, load_demo
from tests.sales_helpers import MON, line, pay_cash, place, product, slot_id, slots

pytestmark = pytest.mark.django_db

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
TEN = dt.datetime.combine(MON, dt.time(10, 0), tzinfo=SHANGHAI)


@pytest.fixture
def api():
    load_demo()
    with time_machine.travel(TEN, tick=False):
        yield bearer_client(cashier_on_shift())


def test_a_slot_is_over_at_its_end_in_the_sites_time_zone():
    day = MON
    at = dt.datetime.combine(day, dt.time(9, 29, 59), tzinfo=SHANGHAI)
    kw = {"day": day, "start": dt.time(7, 30), "end": dt.time(9, 30), "time_zone": "Asia/Shanghai"}
    assert not slot_ended(now=at, **kw)
    assert slot_ended(now=at + dt.timedelta(seconds=1), **kw)
    # 09:30 in Shanghai is 01:30 UTC: the check is made in the site's zone, not the server's
    assert slot_ended(now=dt.datetime(2027, 1, 11, 1, 30, tzinfo=dt.UTC), **kw)
    assert not slot_ended(now=dt.datetime(2027, 1, 11, 1, 29, tzinfo=dt.UTC), **kw)
    # a night slot runs past midnight: 22:00–01:00 is still on at 23:00 and at 00:30
    night = {**kw, "start": dt.time(22, 0), "end": dt.time(1, 0)}
    late = dt.datetime.combine(day, dt.time(23, 0), tzinfo=SHANGHAI)
    assert not slot_ended(now=late, **night)
    assert not slot_ended(now=late + dt.timedelta(minutes=90), **night)
    assert slot_ended(now=late + dt.timedelta(hours=2), **night)
    # a whole day (no start or end) is not a slot that ends
    assert not slot_ended(now=late, **{**kw, "start": None, "end": None})


def test_an_ended_slot_is_not_sold_and_nothing_is_written(api):
    ended = slot_id(api, "adult", MON, "07:30")
    orders = Order.objects.count()
    body = place(api, [line(api, "adult", 2, day=MON, start=None, slot=ended)], status=400)
    assert body["error"]["code"] == "slot_ended"
    assert body["error"]["details"] == {"line": 0, "slot": ended, "date": MON.isoformat()}
    assert "ended" in body["error"]["message"]
    assert Order.objects.count() == orders
    pool = Pool.objects.get(pk=ended)
    assert (pool.held, pool.sold) == (0, 0)

    # the same refusal in Chinese
    zh = api.post(
        "/api/v1/orders",
        {"channel": "window", "lines": [line(api, "adult", 1, day=MON, start=None, slot=ended)]},
        content_type="application/json",
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )
    assert (
        zh.status_code == 400
        and zh.json()["error"]["message"] == "该时段已结束，请选择较晚的时段。"
    )


def test_a_slot_that_has_started_is_still_sold_and_tomorrow_is_untouched(api):
    running = place(api, [line(api, "adult", 1, day=MON, start="09:30")])
    assert running["status"] == "pending"
    tomorrow = MON + dt.timedelta(days=1)
    early = place(api, [line(api, "adult", 1, day=tomorrow, start="07:30")])
    assert early["status"] == "pending"


def test_availability_says_an_ended_slot_is_not_available(api):
    shown = {s["start"][:5]: s["available"] for s in slots(api, "adult", MON)}
    assert shown == {"07:30": False, "09:30": True, "11:30": True, "13:30": True}


def test_no_ticket_is_moved_onto_an_ended_slot(api):
    order = place(api, [line(api, "adult", 1, day=MON, start="11:30")])
    pay_cash(api, order["code"])
    ended = slot_id(api, "adult", MON, "07:30")
    response = api.post(
        f"/api/v1/orders/{order['code']}/reschedule",
        {"date": MON.isoformat(), "slot": ended},
        content_type="application/json",
    )
    assert response.status_code == 400, response.content
    assert response.json()["error"]["code"] == "slot_ended"
    assert Pool.objects.get(pk=ended).sold == 0


def test_the_box_office_and_agencies_are_not_offered_an_ended_slot(api):
    cashier = Client()
    cashier.force_login(User.objects.get(username="cashier"))
    day = cashier.get("/boxoffice/pos/day", {"date": MON.isoformat()})
    assert day.status_code == 200, day.content
    adult = next(p for p in day.json()["products"] if p["code"] == "adult")
    assert [s["start"] for s in adult["slots"]] == ["09:30", "11:30", "13:30"]

    found, _why = bookable_products(agency_account(User.objects.get(username="agent")), MON)
    adult_slots = [b.slots for b in found if b.product.pk == product("adult").pk]
    assert adult_slots, "the agency is not offered adult tickets"
    assert [s.start.strftime("%H:%M") for s in adult_slots[0]] == ["09:30", "11:30", "13:30"]


def test_a_hold_never_outlasts_its_slot(api):
    """A reservation confirmed after its slot would sell an ended slot: holds end with the
    slot at the latest, also when a partner asks for more time."""
    from admit.sales.services import order_hold_extend

    slot_end = dt.datetime.combine(MON, dt.time(11, 30), tzinfo=SHANGHAI)
    early = place(api, [line(api, "adult", 1, day=MON, start="09:30")])
    order = Order.objects.get(code=early["code"])
    assert order.expires_at == TEN + dt.timedelta(minutes=15)  # the usual hold
    order_hold_extend(order=order, until=TEN + dt.timedelta(hours=3), actor=None)
    order.refresh_from_db()
    assert order.expires_at == slot_end

    with time_machine.travel(slot_end - dt.timedelta(minutes=5), tick=False):
        late = place(api, [line(api, "adult", 1, day=MON, start="09:30")])
    assert Order.objects.get(code=late["code"]).expires_at == slot_end
    later = place(api, [line(api, "adult", 1, day=MON, start="11:30")])  # ends 13:30: usual
    assert Order.objects.get(code=later["code"]).expires_at == TEN + dt.timedelta(minutes=15)


def test_when_every_slot_has_ended_the_product_is_not_offered(api):
    with time_machine.travel(dt.datetime.combine(MON, dt.time(17, 0), tzinfo=SHANGHAI)):
        cashier = Client()
        cashier.force_login(User.objects.get(username="cashier"))
        day = cashier.get("/boxoffice/pos/day", {"date": MON.isoformat()}).json()
        adult = next(p for p in day["products"] if p["code"] == "adult")
        assert adult["price"] is None and adult["slots"] == []
        found, _why = bookable_products(agency_account(User.objects.get(username="agent")), MON)
        assert product("adult").pk not in {b.product.pk for b in found}
        tomorrow, _why = bookable_products(
            agency_account(User.objects.get(username="agent")), MON + dt.timedelta(days=1)
        )
        assert product("adult").pk in {b.product.pk for b in tomorrow}
