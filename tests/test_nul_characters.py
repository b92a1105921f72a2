"""U+0000 in any input is refused with ``nul_character`` and changes nothing.

PostgreSQL cannot store the character at all (psycopg raises before the query is sent), so
before this guard a NUL in a member number made ``POST /api/v1/passes`` answer 500 there; CI's
schemathesis run found it. Each way in is tried: the API's JSON body (nested, in a key), its
query string and path, a back-office and a shop form, OCTO's body and path, the OTA connector.
"""

from __future__ import annotations

import json
from urllib.parse import urlencode

from django.test import Client

from admit.core.models import AuditEntry
from admit.core.text import has_nul
from admit.customers.models import Pass
from admit.partners.client import PartnerError, SandboxOTAClient
from admit.partners.models import PartnerBooking
from admit.sales.models import Order
from tests.conftest import bearer_client
from tests.test_partners_ota import SECRET, django_transport

OCTO = Client(HTTP_AUTHORIZATION="Bearer prt_demo_klook_key")


def counts() -> tuple[int, int, int, int]:
    return (
        Order.objects.count(),
        Pass.objects.count(),
        PartnerBooking.objects.count(),
        AuditEntry.objects.count(),
    )


def test_has_nul_looks_into_keys_values_and_nesting():
    assert not has_nul({"a": [1, 2.5, None, {"b": "c"}], "d": True})
    assert has_nul("a\x00")
    assert has_nul({"a\x00": 1})
    assert has_nul({"a": [{"b": ["ok", "no\x00"]}]})
    assert has_nul(("x", "\x00"))


def test_the_api_refuses_nul_in_the_body_query_and_path(demo, supervisor):
    api = bearer_client(supervisor)
    before = counts()
    for body in (
        # The case schemathesis found (a 500 on PostgreSQL).
        {"member": "\x00\u00b8I", "product": 2786},
        {"member": "M1", "product": 1, "extra": {"deep": ["fine", "bad\x00"]}},
        {"member\x00": "M1", "product": 1},
    ):
        response = api.post("/api/v1/passes", body, content_type="application/json")
        assert response.status_code == 400, response.content
        assert response.json()["error"]["code"] == "nul_character"
        assert "U+0000" in response.json()["error"]["message"]
    response = api.get("/api/v1/origin", {"phone": "138\x000000000"})
    assert (response.status_code, response.json()["error"]["code"]) == (400, "nul_character")
    response = api.get("/api/v1/passes/P%00123")
    assert (response.status_code, response.json()["error"]["code"]) == (400, "nul_character")
    assert counts() == before


def test_the_refusal_is_translated(demo, supervisor):
    api = bearer_client(supervisor)
    response = api.post(
        "/api/v1/passes",
        {"member": "\x00"},
        content_type="application/json",
        headers={"Accept-Language": "zh-hans"},
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "nul_character"
    assert "U+0000" in response.json()["error"]["message"]
    assert "请求" in response.json()["error"]["message"]


def test_pages_refuse_nul_in_forms_and_queries(demo, client):
    before = counts()
    response = client.post(
        "/shop/lookup",
        urlencode({"code": "AB\x00C", "phone": "13800000000"}),
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 400
    assert "U+0000" in response.content.decode()
    assert client.get("/shop/lookup", {"code": "\x00"}).status_code == 400
    # the same as multipart/form-data (the test client's default for a dict)
    response = client.post("/shop/lookup", {"code": "\x00", "phone": "1"})
    assert response.status_code == 400
    assert client.get("/shop/orders/A%00B/").status_code == 400
    # the ordinary page is unaffected
    assert client.get("/shop/lookup").status_code == 200
    assert counts() == before


def test_octo_refuses_nul_in_its_own_error_shape(demo, clock):
    before = counts()
    body = {"productId": "\x00", "optionId": "DEFAULT", "unitItems": []}
    response = OCTO.post("/octo/bookings", json.dumps(body), content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"] == "BAD_REQUEST"
    assert "U+0000" in response.json()["errorMessage"]
    response = OCTO.get("/octo/products/%00")
    assert (response.status_code, response.json()["error"]) == (400, "BAD_REQUEST")
    assert counts() == before


def test_the_ota_connector_refuses_nul_in_a_signed_body(demo, clock):
    ota = SandboxOTAClient(
        "http://testserver", "ctrip", SECRET, transport=django_transport(Client())
    )
    before = counts()
    try:
        ota.create("CT-\x00", "adult", "2026-01-05", 1)
    except PartnerError as exc:
        assert exc.status == 400
        assert exc.body["error"] == "nul_character"
    else:
        raise AssertionError("a NUL in the order number was accepted")
    assert counts() == before


def test_a_multipart_post_to_a_json_endpoint_still_reads_its_body(demo, clock):
    """The middleware reads a multipart form first; an endpoint that reads the raw body (OCTO,
    here) must still be able to, and answers its own 400 for a body that is no JSON."""
    response = OCTO.post("/octo/bookings", {"productId": "x"})  # multipart/form-data
    assert response.status_code == 400, response.content
    assert response.json()["error"] == "BAD_REQUEST"
