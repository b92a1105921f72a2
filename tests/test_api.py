"""The API skeleton: catalog reads, the uniform error body, OpenAPI, query counts."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from admit.catalog import services
from admit.catalog.models import CalendarDay, Channel, Price, Product, Site

pytestmark = pytest.mark.django_db

SAT = dt.date(2027, 1, 9)
MON = dt.date(2027, 1, 11)
NEW_YEAR = dt.date(2027, 1, 1)  # a Friday, marked a holiday in the demo calendar


@pytest.fixture
def site(demo):
    return Site.objects.get(code="yunling")


def products(api, site, day, channel, lang="en"):
    response = api.get(
        "/api/v1/products",
        {"site": site.pk, "date": day.isoformat(), "channel": channel},
        HTTP_ACCEPT_LANGUAGE=lang,
    )
    assert response.status_code == 200, response.content
    return {p["code"]: p for p in response.json()}


def assert_error(response, status, code):
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"}
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    assert isinstance(body["error"]["details"], dict)
    return body["error"]


def test_sites(api, site):
    body = api.get("/api/v1/sites").json()
    assert [s["code"] for s in body] == ["yunling"]
    assert body[0]["name"] == "Yunling Mountain Scenic Area"
    assert body[0]["time_zone"] == "Asia/Shanghai"
    zh = api.get("/api/v1/sites", HTTP_ACCEPT_LANGUAGE="zh-hans").json()
    assert zh[0]["name"] == "云岭山风景区"


def test_products_are_priced_by_channel_and_day_type(api, site):
    window_weekday = products(api, site, MON, "window")
    assert window_weekday["adult"]["price"] == "120.00"
    assert window_weekday["adult"]["currency"] == "CNY"
    assert products(api, site, SAT, "window")["adult"]["price"] == "150.00"
    assert products(api, site, NEW_YEAR, "window")["adult"]["price"] == "180.00"
    assert products(api, site, MON, "online")["adult"]["price"] == "110.00"
    assert products(api, site, SAT, "agency")["adult"]["price"] == "110.00"
    # The annual pass has one price for every day.
    assert products(api, site, NEW_YEAR, "window")["annual"]["price"] == "398.00"


def test_product_fields(api, site):
    listed = products(api, site, MON, "window")
    adult, family, group, show = (listed[c] for c in ("adult", "family", "group", "show"))
    assert set(adult) >= {"id", "name", "kind", "persons", "real_name_required", "price"}
    assert adult["name"] == "Adult ticket" and adult["kind"] == "admission"
    assert family["persons"] == 3
    assert group["kind"] == "group" and group["persons"] == 10 and group["max_persons"] == 60
    assert show["real_name_required"] is True and show["slot_required"] is True
    assert products(api, site, MON, "window", lang="zh-hans")["adult"]["name"] == "成人票"


def test_products_follow_channels_and_on_sale_flags(api, site, supervisor):
    assert "annual" not in products(api, site, MON, "ota")
    assert "group" not in products(api, site, MON, "online")
    adult = Product.objects.get(code="adult")
    adult.is_active = False
    services.product_save(instance=adult, actor=supervisor)
    assert "adult" not in products(api, site, MON, "window")


def test_products_without_a_price_on_that_date_are_not_on_sale(api, site):
    before_prices = min(Price.objects.values_list("valid_from", flat=True)) - dt.timedelta(days=1)
    assert products(api, site, before_prices, "window") == {}


def test_closed_day_has_nothing_on_sale(api, site, supervisor):
    services.calendar_day_save(
        instance=CalendarDay(site=site, date=MON, closed=True), actor=supervisor
    )
    assert products(api, site, MON, "window") == {}


def test_product_list_costs_a_fixed_number_of_queries(api, site, django_assert_max_num_queries):
    # token lookup, site, channel, calendar day, products, their prices (+ last_used write)
    with django_assert_max_num_queries(8):
        assert len(products(api, site, MON, "window")) >= 8


@pytest.mark.parametrize(
    ("params", "status", "code"),
    [
        ({"site": 999999, "date": "2027-01-11", "channel": "window"}, 404, "site_not_found"),
        ({"site": "{site}", "date": "2027-01-11", "channel": "nope"}, 400, "unknown_channel"),
        ({"site": "{site}", "date": "2027-13-45", "channel": "window"}, 400, "invalid"),
        ({"site": "{site}", "date": "yesterday", "channel": "window"}, 400, "invalid"),
        ({"site": "abc", "date": "2027-01-11", "channel": "window"}, 400, "invalid"),
        ({"site": "{site}", "channel": "window"}, 400, "invalid"),
        ({"site": "{site}", "date": "2027-01-11", "channel": "x" * 500}, 400, "invalid"),
        ({"site": -1, "date": "2027-01-11", "channel": "window"}, 400, "invalid"),
        ({"site": 10**30, "date": "2027-01-11", "channel": "window"}, 400, "invalid"),
    ],
)
def test_bad_queries_get_clear_errors(api, site, params, status, code):
    params = {k: (site.pk if v == "{site}" else v) for k, v in params.items()}
    error = assert_error(api.get("/api/v1/products", params), status, code)
    if code == "invalid":
        assert error["details"]["fields"]


def test_errors_are_translated(api, site):
    error = assert_error(
        api.get(
            "/api/v1/products",
            {"site": 999999, "date": "2027-01-11", "channel": "window"},
            HTTP_ACCEPT_LANGUAGE="zh-hans",
        ),
        404,
        "site_not_found",
    )
    assert error["message"] == "没有这个景区。"


def test_unauthenticated_and_unknown_endpoints(db):
    assert_error(Client().get("/api/v1/sites"), 401, "not_authenticated")
    assert_error(Client().get("/api/v1/nothing-here"), 404, "not_found")
    assert_error(Client().get("/api/v9/sites"), 404, "not_found")


def test_malformed_json_body(db):
    response = Client().post("/api/v1/auth/token", "{not json", content_type="application/json")
    assert_error(response, 400, "malformed_request")
    response = Client().post(
        "/api/v1/auth/token", {"username": "x"}, content_type="application/json"
    )
    assert_error(response, 400, "invalid")


def test_openapi_and_docs(db):
    spec = Client().get("/api/v1/openapi.json").json()
    assert spec["info"]["title"] == "Admit API"
    assert "/api/v1/products" in spec["paths"]
    assert "/api/v1/auth/token" in spec["paths"]
    assert any(
        "Bearer" in str(v) or "bearer" in str(v)
        for v in spec["components"]["securitySchemes"].values()
    )
    assert Client().get("/api/v1/docs").status_code == 200


def test_healthz(db):
    body = Client().get("/healthz").json()
    assert body["status"] == "ok"


def test_channel_filter_ignores_inactive_channels(api, site, supervisor):
    ota = Channel.objects.get(code="ota")
    ota.is_active = False
    services.channel_save(instance=ota, actor=supervisor)
    assert_error(
        api.get("/api/v1/products", {"site": site.pk, "date": "2027-01-11", "channel": "ota"}),
        400,
        "unknown_channel",
    )
