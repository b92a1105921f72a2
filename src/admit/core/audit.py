"""Turning model rows into JSON snapshots and diffs for the audit trail (no writes here)."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

from django.db import models

# Values that must never be copied into the audit trail.
MASKED = "••••••"
DEFAULT_SECRET_FIELDS = frozenset({"password", "token_hash", "secret_hash", "pin_hash"})


def _json_value(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, list | tuple):
        return [_json_value(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _json_value(v) for k, v in value.items()}
    if isinstance(value, float):
        return value
    return str(value)


def snapshot(instance: models.Model, *, with_m2m: bool = True) -> dict[str, Any]:
    """Every concrete field (foreign keys as ids, many-to-many as sorted id lists)."""
    secret = DEFAULT_SECRET_FIELDS | set(getattr(instance, "audit_secret_fields", ()))
    data: dict[str, Any] = {}
    for field in instance._meta.concrete_fields:
        if field.name in secret:
            data[field.name] = MASKED if getattr(instance, field.attname) else ""
            continue
        data[field.name] = _json_value(getattr(instance, field.attname))
    if with_m2m and instance.pk is not None:
        for m2m in instance._meta.many_to_many:
            data[m2m.name] = sorted(getattr(instance, m2m.name).values_list("pk", flat=True))
    return data


def diff(before: dict[str, Any] | None, after: dict[str, Any] | None) -> dict[str, list[Any]]:
    """``{field: [before, after]}`` for every field whose value differs."""
    before = before or {}
    after = after or {}
    keys = dict.fromkeys([*after, *before])
    return {k: [before.get(k), after.get(k)] for k in keys if before.get(k) != after.get(k)}
