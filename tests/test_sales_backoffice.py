"""The back office for sales: find orders, read their timeline, see capacity as a grid."""

from __future__ import annotations

import pytest
from django.test import Client

from admit.accounts.models import User
from admit.sales.models import Order
from tests.sales_helpers import IDS, MON, line, pay_cash, place

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(clock, cashier_api):
    return cashier_api


@pytest.fixture
def office(demo):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(User.objects.get(username="supervisor"))
    return client


@pytest.fixture
def orders(api):
    visitor = [{"name": "张三", "id_type": "resident_id", "id_number": IDS[0]}]
    a = pay_cash(
        api,
        place(api, [line(api, "senior", 1, visitors=visitor)], contact_phone="13912345678")["code"],
    )["order"]
    b = place(api, [line(api, "adult", 2)], contact_phone="13700000000")
    return a, b


@pytest.mark.parametrize("term", ["code", "13912345678", IDS[0].lower(), "serial"])
def test_orders_are_found_by_code_phone_id_number_and_ticket(office, orders, term):
    a, _b = orders
    term = {"code": a["code"].lower(), "serial": a["tickets"][0]["serial"]}.get(term, term)
    response = office.get("/admin/sales/order/", {"q": term})
    text = response.content.decode()
    assert a["code"] in text
    assert orders[1]["code"] not in text


def test_orders_filter_by_visit_date_and_status(office, orders):
    response = office.get("/admin/sales/order/", {"status__exact": "pending"})
    text = response.content.decode()
    assert orders[1]["code"] in text and orders[0]["code"] not in text
    response = office.get(
        "/admin/sales/order/",
        {"lines__date__gte": MON.isoformat(), "lines__date__lt": "2027-01-12"},
    )
    assert orders[0]["code"] in response.content.decode()


def test_order_detail_shows_lines_tickets_money_and_timeline(office, orders):
    order = Order.objects.get(code=orders[0]["code"])
    response = office.get(f"/admin/sales/order/{order.pk}/change/")
    assert response.status_code == 200
    text = response.content.decode()
    for expected in (
        "order-timeline",
        "placed",
        "payment",
        "paid",
        orders[0]["tickets"][0]["serial"],
        "张三",
        "cashier",
    ):
        assert expected in text, expected


def test_orders_cannot_be_edited_or_deleted_in_the_back_office(office, orders):
    order = Order.objects.get(code=orders[0]["code"])
    response = office.post(f"/admin/sales/order/{order.pk}/delete/", {"post": "yes"})
    assert response.status_code == 403
    assert Order.objects.filter(pk=order.pk).exists()


def test_capacity_calendar(office, orders):
    response = office.get(
        "/admin/inventory/pool/calendar/", {"start": MON.isoformat(), "days": "7"}
    )
    assert response.status_code == 200
    text = response.content.decode()
    assert 'id="capacity-calendar"' in text
    assert "09:30–11:30" in text
    assert 'class="free"' in text


def test_capacity_calendar_empty_state_and_generation(office, demo):
    response = office.get("/admin/inventory/pool/calendar/", {"start": "2027-03-01", "days": "3"})
    assert 'id="calendar-empty"' in response.content.decode()
    response = office.get(
        "/admin/inventory/pool/calendar/", {"start": "2027-03-01", "days": "3", "generate": "1"}
    )
    assert 'id="capacity-calendar"' in response.content.decode()


def test_capacity_cannot_go_below_what_is_sold(office, orders):
    from admit.inventory.models import Pool

    pool = Pool.objects.filter(sold__gt=0).first()
    response = office.post(
        f"/admin/inventory/pool/{pool.pk}/change/",
        {
            "capacity": "0",
            "returns_on_refund": "on",
            "allocations-TOTAL_FORMS": "0",
            "allocations-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 200
    assert "cannot go below" in response.content.decode()
    pool.refresh_from_db()
    assert pool.capacity > 0
