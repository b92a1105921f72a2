"""The back office: translated, arranged for staff, its saves audited through services."""

from __future__ import annotations

import pytest
from django.test import Client

from admit.accounts.models import User
from admit.catalog.models import Price, Product, Site
from admit.core.models import AuditEntry

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client_for(demo):
    def make(username: str, lang: str = "en") -> Client:
        client = Client(HTTP_ACCEPT_LANGUAGE=lang)
        client.force_login(User.objects.get(username=username))
        return client

    return make


def product_form(site: Site, **extra):
    data = {
        "site": site.pk,
        "code": "sunrise",
        "name": "日出观景票",
        "name_en": "Sunrise ticket",
        "kind": "admission",
        "is_active": "on",
        "sort_order": 20,
        "persons": 1,
        "validity": "fixed_date",
        "entries": 1,
        "allowed_media": ["qr"],
        "channels": [],
        "zones": [],
        "refundable": "on",
        "refund_fee_percent": "0",
        "reschedule_allowed": "on",
        "prices-TOTAL_FORMS": 2,
        "prices-INITIAL_FORMS": 0,
        "prices-MIN_NUM_FORMS": 0,
        "prices-MAX_NUM_FORMS": 1000,
        "prices-0-amount": "88.00",
        "prices-0-valid_from": "2027-01-01",
        "prices-0-day_type": "",
        "prices-1-amount": "99.00",
        "prices-1-valid_from": "2027-01-01",
        "prices-1-day_type": "weekend",
        "components-TOTAL_FORMS": 0,
        "components-INITIAL_FORMS": 0,
        "components-MIN_NUM_FORMS": 0,
        "components-MAX_NUM_FORMS": 1000,
    }
    data.update(extra)
    return data


def test_supervisor_creates_a_product_with_prices_and_it_is_audited(admin_client_for):
    client = admin_client_for("supervisor")
    site = Site.objects.get(code="yunling")
    response = client.post("/admin/catalog/product/add/", product_form(site))
    assert response.status_code == 302, response.content.decode()[:3000]
    product = Product.objects.get(code="sunrise")
    assert product.allowed_media == ["qr"]
    assert sorted(product.prices.values_list("amount", flat=True)) == [88, 99]
    entries = AuditEntry.objects.filter(actor__username="supervisor")
    assert entries.filter(
        content_type__model="product", object_id=str(product.pk), action="create"
    ).exists()
    assert entries.filter(content_type__model="price", action="create").count() == 2


def test_overlapping_prices_in_one_form_are_refused(admin_client_for):
    client = admin_client_for("supervisor")
    site = Site.objects.get(code="yunling")
    response = client.post(
        "/admin/catalog/product/add/", product_form(site, **{"prices-1-day_type": ""})
    )
    assert response.status_code == 200
    assert "overlap" in response.content.decode()
    assert not Product.objects.filter(code="sunrise").exists()


def test_negative_price_shows_an_error(admin_client_for):
    client = admin_client_for("supervisor")
    site = Site.objects.get(code="yunling")
    response = client.post(
        "/admin/catalog/product/add/", product_form(site, **{"prices-0-amount": "-5"})
    )
    assert response.status_code == 200
    assert not Product.objects.filter(code="sunrise").exists()
    assert not Price.objects.filter(amount=-5).exists()


def test_cashier_cannot_change_products_or_read_the_audit_trail(admin_client_for):
    client = admin_client_for("cashier")
    product = Product.objects.get(code="adult")
    assert client.get(f"/admin/catalog/product/{product.pk}/change/").status_code == 200
    response = client.post(f"/admin/catalog/product/{product.pk}/change/", {"name": "hacked"})
    assert response.status_code == 403
    assert client.get("/admin/core/auditentry/").status_code == 403
    assert Product.objects.get(pk=product.pk).name == "成人票"


def test_audit_trail_is_browsable_filterable_and_read_only(admin_client_for):
    client = admin_client_for("auditor")
    response = client.get("/admin/core/auditentry/", {"action__exact": "create", "q": "成人票"})
    assert response.status_code == 200
    assert "成人票" in response.content.decode()
    entry = AuditEntry.objects.first()
    detail = client.get(f"/admin/core/auditentry/{entry.pk}/change/")
    assert detail.status_code == 200
    assert (
        client.post(f"/admin/core/auditentry/{entry.pk}/delete/", {"post": "yes"}).status_code
        == 403
    )
    assert AuditEntry.objects.filter(pk=entry.pk).exists()
    assert client.get("/admin/core/auditentry/add/").status_code == 403


@pytest.mark.parametrize("lang,text", [("en", "Admit back office"), ("zh-hans", "票务管理后台")])
def test_back_office_speaks_chinese_and_english(admin_client_for, lang, text):
    client = admin_client_for("supervisor", lang=lang)
    assert text in client.get("/admin/").content.decode()


@pytest.mark.parametrize(
    "url",
    [
        "/admin/",
        "/admin/catalog/product/",
        "/admin/catalog/price/",
        "/admin/catalog/site/",
        "/admin/catalog/zone/",
        "/admin/catalog/gate/",
        "/admin/catalog/lane/",
        "/admin/catalog/calendarday/",
        "/admin/catalog/visitorcategory/",
        "/admin/catalog/channel/",
        "/admin/accounts/user/",
        "/admin/accounts/apitoken/",
        "/admin/accounts/device/",
        "/admin/core/auditentry/",
        "/admin/sales/order/",
        "/admin/sales/payment/",
        "/admin/sales/refund/",
        "/admin/sales/coupon/",
        "/admin/tickets/ticket/",
        "/admin/tickets/signingkey/",
        "/admin/inventory/pool/",
        "/admin/inventory/capacitytemplate/",
        "/admin/inventory/pool/calendar/",
    ],
)
def test_every_back_office_list_renders(admin_client_for, url):
    client = admin_client_for("admin")
    assert client.get(url).status_code == 200
    assert client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans").status_code == 200


def test_deleting_through_the_admin_is_audited(admin_client_for):
    client = admin_client_for("supervisor")
    price = Price.objects.filter(product__code="garden").first()
    response = client.post(f"/admin/catalog/price/{price.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert AuditEntry.objects.filter(
        content_type__model="price",
        object_id=str(price.pk),
        action="delete",
        actor__username="supervisor",
    ).exists()


def test_device_credential_action_shows_the_secret_once(admin_client_for):
    client = admin_client_for("supervisor")
    from admit.accounts.models import Device

    device = Device.objects.get(code="dev-east-1")
    response = client.post(
        "/admin/accounts/device/",
        {"action": "issue_credential", "_selected_action": [device.pk]},
        follow=True,
    )
    assert "adm_" in response.content.decode()
    assert device.api_tokens.count() == 1
