"""Validate OCTO responses against the schemas of the OCTO specification (``octo_openapi.yaml``,
a copy of the OpenAPI 3.0 document), converted to JSON Schema (``nullable`` → ``null``)."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import jsonschema
import yaml

SPEC = Path(__file__).with_name("octo_openapi.yaml")
# The formats are part of the contract too (a booking's uuid is a UUID, an email an email).
FORMATS = jsonschema.Draft202012Validator.FORMAT_CHECKER


def _convert(node: Any) -> Any:
    if isinstance(node, list):
        return [_convert(x) for x in node]
    if not isinstance(node, dict):
        return node
    out = {k: _convert(v) for k, v in node.items() if k not in ("nullable", "example")}
    if node.get("nullable"):
        return {"anyOf": [out, {"type": "null"}]}
    return out


@functools.cache
def spec() -> dict[str, Any]:
    return _convert(yaml.safe_load(SPEC.read_text("utf-8")))


def schema_for(method: str, path: str, status: int) -> dict[str, Any]:
    op = spec()["paths"][path][method.lower()]
    key = "200" if status == 200 else "400"  # the spec documents every error under 400
    return op["responses"][key]["content"]["application/json"]["schema"]


def check(response: Any, method: str, path: str) -> Any:
    """The response's JSON, after validating it against the spec's schema for its status."""
    body = json.loads(response.content)
    schema = {
        "allOf": [schema_for(method, path, response.status_code)],
        "components": spec()["components"],
    }
    jsonschema.Draft202012Validator(schema, format_checker=FORMATS).validate(body)
    return body


def validate(instance: Any, schema_name: str) -> None:
    """Validate a value against one of the spec's component schemas."""
    schema = {"$ref": f"#/components/schemas/{schema_name}", "components": spec()["components"]}
    jsonschema.Draft202012Validator(schema, format_checker=FORMATS).validate(instance)


# The ``octo/webhooks`` capability's shapes. The OpenAPI rendering names the capability but has
# no paths for it; these follow the standard's published types (``Webhook``, ``BookingUpdate``:
# octotravel/octo-types): a webhook object, and what a ``booking_update`` delivery carries.
WEBHOOK = {
    "type": "object",
    "required": [
        "id",
        "event",
        "url",
        "retryOnError",
        "useContactLanguage",
        "headers",
        "capabilities",
    ],
    "properties": {
        "id": {"type": "string"},
        "event": {"enum": ["booking_update", "availability_update"]},
        "url": {"type": "string"},
        "retryOnError": {"type": "boolean"},
        "useContactLanguage": {"type": "boolean"},
        "headers": {"type": "object", "additionalProperties": {"type": "string"}},
        "capabilities": {"type": "array", "items": {"$ref": "#/components/schemas/CapabilityId"}},
    },
}
BOOKING_UPDATE = {
    "type": "object",
    "required": ["webhook", "booking"],
    "properties": {"webhook": WEBHOOK, "booking": {"$ref": "#/components/schemas/Booking"}},
}


def validate_webhook(instance: Any, shape: dict[str, Any] = WEBHOOK) -> None:
    """Validate a webhook object (or, with ``BOOKING_UPDATE``, a delivery's body)."""
    schema = {**shape, "components": spec()["components"]}
    jsonschema.Draft202012Validator(schema, format_checker=FORMATS).validate(instance)
