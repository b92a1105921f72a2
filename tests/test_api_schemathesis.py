"""Schemathesis over Admit's own OpenAPI document (``/api/v1/openapi.json``): whatever a client
sends to any operation, valid or not, the answer is never a server error."""

from __future__ import annotations

import json
from typing import Any

import schemathesis
from django.test import Client
from schemathesis.checks import not_a_server_error

from admit.api import api
from tests.conftest import bearer_client
from tests.schemathesis_helpers import fuzz, in_test_transaction

# The document the application serves (checked below), built without a database so that the
# schema is known when tests are collected.
schema = schemathesis.openapi.from_dict(json.loads(json.dumps(api.get_openapi_schema())))


def test_the_fuzzed_document_is_the_served_one(db):
    served = Client().get("/api/v1/openapi.json")
    assert served.status_code == 200
    assert json.loads(served.content) == schema.raw_schema


def test_no_operation_answers_bad_input_with_a_server_error(demo, supervisor, clock):
    token = bearer_client(supervisor).defaults["HTTP_AUTHORIZATION"]

    def send(case: Any, _data: Any) -> None:
        bearer = token
        if case.operation.label == "DELETE /api/v1/auth/token":  # log out: revokes the token
            bearer = bearer_client(supervisor).defaults["HTTP_AUTHORIZATION"]
        case.headers = {**(case.headers or {}), "Authorization": bearer}
        response = case.call(app=app)
        case.validate_response(response, checks=[not_a_server_error])

    with in_test_transaction() as app:
        operations = fuzz(schema, send, max_examples=15)
    assert len(operations) > 30
