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
    key = "200" if status == 200 else "400"
    return op["responses"][key]["content"]["application/json"]["schema"]


def check(response: Any, method: str, path: str) -> Any:
    """The response's JSON, after validating it against the spec's schema for its status."""
    body = json.loads(response.content)
    schema = {
        "allOf": [schema_for(method, path, response.status_code)],
        "components": spec()["components"],
    }
    jsonschema.Draft202012Validator(schema).validate(body)
    return body


def validate(instance: Any, schema_name: str) -> None:
    """Validate a value against one of the spec's component schemas."""
    schema = {"$ref": f"#/components/schemas/{schema_name}", "components": spec()["components"]}
    jsonschema.Draft202012Validator(schema).validate(instance)
