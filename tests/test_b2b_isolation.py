"""Objects of one B2B account are invisible to another: orders, their tickets and PDFs."""

from __future__ import annotations

import pytest
from django.test import Client

from admit.accounts.models import User
from admit.accounts.services import user_create
from admit.customers.models import Account, AccountMember
from admit.customers.services import account_member_save, account_save
from admit.sales.models import Order
from tests.conftest import bearer_client
from tests.sales_helpers import line, pay_cash, place

pytestmark = pytest.mark.django_db


def agency(code: str, name: str, actor: User) -> tuple[Account, User, Client]:
    account = account_save(instance=Account(code=code, name=name), actor=actor)
    user = user_create(username=f"{code}-clerk", password="x" * 12, roles=["agent"], actor=actor)
    account_member_save(instance=AccountMember(account=account, user=user), actor=actor)
    return account, user, bearer_client(user)


@pytest.fixture
def world(demo, clock, supervisor):
    a = agency("lotus", "莲花旅行社", supervisor)
    b = agency("pine", "青松旅行社", supervisor)
    return a, b


def test_an_agency_order_belongs_to_the_agency_and_only_it_sees_it(world, cashier_api):
    (account_a, _user_a, api_a), (_account_b, _user_b, api_b) = world
    order = place(api_a, [line(api_a, "adult", 2)], channel="agency")
    assert Order.objects.get(code=order["code"]).account == account_a
    assert api_a.get(f"/api/v1/orders/{order['code']}").status_code == 200
    assert cashier_api.get(f"/api/v1/orders/{order['code']}").status_code == 200  # venue staff
    pay_cash(cashier_api, order["code"])
    code = order["code"]
    for method, path, body in [
        ("get", f"/api/v1/orders/{code}", None),
        ("get", f"/api/v1/orders/{code}/tickets", None),
        ("get", f"/api/v1/orders/{code}/tickets.pdf", None),
        ("post", f"/api/v1/orders/{code}/payments", {"method": "cash"}),
        ("post", f"/api/v1/orders/{code}/cancel", {}),
        ("post", f"/api/v1/orders/{code}/refunds", {}),
        ("post", f"/api/v1/orders/{code}/reschedule", {"date": "2027-01-12"}),
    ]:
        if method == "get":
            response = api_b.get(path)
        else:
            response = api_b.post(path, body, content_type="application/json")
        assert response.status_code in (403, 404), (path, response.content)
        if response.status_code == 404:
            assert response.json()["error"]["code"] == "order_not_found", path
    # Nothing changed for the order.
    assert Order.objects.get(code=code).status == "paid"


def test_a_venue_order_is_invisible_to_an_agency(world, cashier_api):
    (_a, _ua, api_a), _b = world
    order = place(cashier_api, [line(cashier_api, "adult", 1)])
    assert Order.objects.get(code=order["code"]).account is None
    response = api_a.get(f"/api/v1/orders/{order['code']}")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "order_not_found"


def test_moving_a_clerk_to_another_agency_takes_effect_at_once(world, supervisor):
    (_account_a, user_a, api_a), (account_b, _user_b, api_b) = world
    order = place(api_b, [line(api_b, "adult", 1)], channel="agency")
    assert api_a.get(f"/api/v1/orders/{order['code']}").status_code == 404
    member = AccountMember.objects.get(user=user_a)
    member.account = account_b
    account_member_save(instance=member, actor=supervisor)
    assert api_a.get(f"/api/v1/orders/{order['code']}").status_code == 200


def test_the_back_office_lists_an_agency_only_its_orders(world, cashier_api):
    (_a, user_a, api_a), (_b, _ub, api_b) = world
    mine = place(api_a, [line(api_a, "adult", 1)], channel="agency")
    theirs = place(api_b, [line(api_b, "adult", 1)], channel="agency")
    User.objects.filter(pk=user_a.pk).update(is_staff=True)
    browser = Client()
    browser.force_login(User.objects.get(pk=user_a.pk))
    page = browser.get("/admin/sales/order/").content.decode()
    assert mine["code"] in page and theirs["code"] not in page
    other = Order.objects.get(code=theirs["code"])
    response = browser.get(f"/admin/sales/order/{other.pk}/change/")
    assert response.status_code in (302, 404)
    assert theirs["code"] not in browser.get(response.get("Location", "/admin/")).content.decode()
