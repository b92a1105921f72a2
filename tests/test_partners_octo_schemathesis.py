"""Schemathesis over the OCTO specification (``tests/octo_openapi.yaml``) against ``/octo/``:
a reseller with a valid key sends generated requests to every operation of the standard, and
every answer is documented by the specification (status, content type, headers, body schema),
never a server error. Half of the requests are steered onto real ids (the product, its start
times, bookings held and confirmed) so that they reach the sales engine, not only validation."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import schemathesis
from django.test import Client
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from admit.catalog.models import Product
from tests.octo_contract import SPEC
from tests.schemathesis_helpers import fuzz, in_test_transaction
from tests.test_partners_octo import KEY, octo_reseller, post, reserve

schema = schemathesis.openapi.from_path(SPEC)
BASE_URL = "http://localhost/octo"
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
STARTS = ["07:30", "09:30", "11:30", "13:30", "10:00"]
DAYS = ["2027-01-11", "2027-01-12", "2026-11-21", "2026-11-23"]
HELD = "5d1f3a52-0c1e-4f0e-9a57-00000000001d"
PAID = "5d1f3a52-0c1e-4f0e-9a57-0000000000a1"
UUIDS = [HELD, PAID, "5d1f3a52-0c1e-4f0e-9a57-000000000000"]


def _steer(case: Any, data: st.DataObject, product: str) -> None:
    """Put real ids where the generated request has ids (keeping everything else it made)."""
    if "uuid" in (case.path_parameters or {}):
        case.path_parameters["uuid"] = data.draw(st.sampled_from(UUIDS))
    if "id" in (case.path_parameters or {}):
        case.path_parameters["id"] = product
    body = case.body
    if isinstance(body, dict):
        if "productId" in body or data.draw(st.booleans()):
            body["productId"] = product
        body["optionId"] = "DEFAULT"
        if "availabilityId" in body:
            day, start = data.draw(st.sampled_from(DAYS)), data.draw(st.sampled_from(STARTS))
            body["availabilityId"] = f"{day}T{start}:00+08:00"
        if isinstance(body.get("unitItems"), list):
            for item in body["unitItems"]:
                if isinstance(item, dict):
                    item["unitId"] = "adult"
                    item.pop("uuid", None) if data.draw(st.booleans()) else None
        if isinstance(body.get("units"), list):
            for item in body["units"]:
                if isinstance(item, dict):
                    item["id"] = "adult"
        if "localDateStart" in body or "localDateEnd" in body:
            first = dt.date.fromisoformat(data.draw(st.sampled_from(DAYS)))
            body["localDateStart"] = first.isoformat()
            last = first + dt.timedelta(days=data.draw(st.integers(0, 3)))
            body["localDateEnd"] = last.isoformat()


@pytest.fixture
def reseller(demo, clock) -> Client:
    return octo_reseller()


def test_every_answer_follows_the_octo_specification(reseller: Client):
    reserve(reseller, uuid=HELD, units=2)
    reserve(reseller, uuid=PAID, units=2)
    body = {"contact": {"fullName": "Li"}}
    post(reseller, f"/bookings/{PAID}/confirm", body, "/bookings/{uuid}/confirm")
    product = str(Product.objects.get(code="adult").pk)

    def send(case: Any, data: st.DataObject) -> None:
        if data.draw(st.booleans()):
            _steer(case, data, product)
        headers = {"Authorization": f"Bearer {KEY}"}
        if data.draw(st.booleans()):
            headers["Octo-Capabilities"] = data.draw(
                st.sampled_from(["octo/pricing", "octo/pricing, octo/webhooks", ""])
            )
        case.headers = {**(case.headers or {}), **headers}
        response = case.call(app=app, base_url=BASE_URL)
        case.validate_response(response, checks=CHECKS)

    with in_test_transaction() as app:
        operations = fuzz(schema, send, modes=(GenerationMode.POSITIVE,), max_examples=30)
    assert "PATCH /bookings/{uuid}" in operations


def test_bad_input_to_the_octo_api_gets_documented_errors(reseller: Client):
    def send(case: Any, _data: st.DataObject) -> None:
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {KEY}"}
        response = case.call(app=app, base_url=BASE_URL)
        checks = [not_a_server_error, status_code_conformance, response_schema_conformance]
        case.validate_response(response, checks=checks)

    with in_test_transaction() as app:
        fuzz(schema, send, modes=(GenerationMode.NEGATIVE,), max_examples=20)
