"""Idempotent writes from outside: the first answer to a key is stored and replayed.

The record is inserted in the same transaction as the write. A concurrent repeat of the same key
waits on the unique index until the first commits, then finds its answer; a repeat with another
body is refused with ``idempotency_key_reused``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _

from .errors import Conflict, ValidationFailed
from .models import IdempotencyRecord


class IdempotencyKeyReused(Conflict):
    code = "idempotency_key_reused"
    default_message = _("This Idempotency-Key was already used for a different request.")


def fingerprint(*parts: Any) -> str:
    raw = json.dumps(parts, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(raw.encode()).hexdigest()


def run_idempotent(
    *, scope: str, key: str | None, fp: str, fn: Callable[[], tuple[int, Any]]
) -> tuple[int, Any]:
    """Run ``fn`` (returning status and a JSON-able body) once per (scope, key)."""
    if not key:
        return fn()
    if len(key) > 200:
        raise ValidationFailed(
            _("The Idempotency-Key is too long (200 characters at most)."),
            code="invalid_idempotency_key",
        )
    try:
        with transaction.atomic():
            record = IdempotencyRecord.objects.create(scope=scope, key=key, fingerprint=fp)
            status, body = fn()
            IdempotencyRecord.objects.filter(pk=record.pk).update(status=status, response=body)
            return status, body
    except IntegrityError:
        stored = IdempotencyRecord.objects.filter(scope=scope, key=key).first()
        if stored is None:
            raise
    if stored.fingerprint != fp:
        raise IdempotencyKeyReused(details={"key": key})
    return stored.status, stored.response
