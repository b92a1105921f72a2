"""Property-based requests to the OCTO API (in the spirit of schemathesis): whatever a reseller
sends, the answer is a 200 or an OCTO error that validates against the specification, never a
500, and a refused booking leaves no order behind."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from admit.catalog.models import Product
from admit.partners.models import PartnerBooking
from admit.sales.models import Order
from tests.octo_contract import check

KEY = "prt_demo_klook_key"

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 10**6),
    st.text(max_size=30),
    st.floats(allow_nan=False),
)
dates = st.sampled_from(["2027-01-11", "2027-01-12", "2026-01-01", "2030-12-31", "2027-02-30", ""])
availability_ids = st.sampled_from(
    [
        "2027-01-11T09:30:00+08:00",
        "2027-01-11T07:30:00+08:00",
        "2027-01-11T09:31:00+08:00",
        "2027-01-11T01:30:00Z",
        "2027-01-11",
        "yesterday",
        "",
    ]
)


def product_ids() -> st.SearchStrategy[Any]:
    return st.one_of(st.sampled_from(["1", "2", "3", "999", "", "x"]), scalars)


bodies = st.fixed_dictionaries(
    {},
    optional={
        "productId": product_ids(),
        "optionId": st.one_of(st.just("DEFAULT"), scalars),
        "localDate": dates,
        "localDateStart": dates,
        "localDateEnd": dates,
        "availabilityIds": st.one_of(st.lists(availability_ids, max_size=3), scalars),
        "units": st.one_of(
            st.lists(
                st.fixed_dictionaries(
                    {"id": st.sampled_from(["adult", "child", "x"]), "quantity": scalars}
                ),
                max_size=3,
            ),
            scalars,
        ),
    },
)
booking_bodies = st.fixed_dictionaries(
    {},
    optional={
        "uuid": st.one_of(st.uuids().map(str), scalars),
        "productId": product_ids(),
        "optionId": st.one_of(st.just("DEFAULT"), scalars),
        "availabilityId": st.one_of(availability_ids, scalars),
        "expirationMinutes": scalars,
        "unitItems": st.one_of(
            st.lists(
                st.one_of(
                    st.fixed_dictionaries({"unitId": st.sampled_from(["adult", "x"])}), scalars
                ),
                max_size=4,
            ),
            scalars,
        ),
        "contact": st.one_of(st.dictionaries(st.text(max_size=10), scalars, max_size=3), scalars),
        "notes": scalars,
    },
)

fuzz = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture
def octo(demo, clock) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {KEY}", HTTP_OCTO_CAPABILITIES="octo/pricing")


@fuzz
@given(body=bodies, calendar=st.booleans())
def test_any_availability_request_gets_a_valid_answer(octo, body, calendar):
    path = "/availability/calendar" if calendar else "/availability/"
    response = octo.post(f"/octo{path.rstrip('/')}", body, content_type="application/json")
    assert response.status_code in (200, 400), response.content
    check(response, "POST", path)


@fuzz
@given(body=booking_bodies)
def test_any_booking_request_gets_a_valid_answer_and_refusals_write_nothing(octo, body):
    orders = Order.objects.count()
    response = octo.post("/octo/bookings", body, content_type="application/json")
    assert response.status_code in (200, 400), response.content
    answer = check(response, "POST", "/bookings/")
    if response.status_code == 200:
        assert answer["status"] == "ON_HOLD"
        assert PartnerBooking.objects.filter(reference=answer["uuid"]).exists()
    else:
        assert Order.objects.count() == orders
        assert set(Product.objects.values_list("pk", flat=True))  # the catalogue is untouched
