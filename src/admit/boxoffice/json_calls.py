"""What the point of sale's and the kiosk's JSON calls share: reading the body and its
numbers and dates, and answering a refusal with the uniform error body."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

from django.http import HttpRequest, JsonResponse
from django.utils.translation import gettext as _

from admit.core.errors import DomainError, ValidationFailed
from admit.core.text import NulCharacter, has_nul

INT_LOW, INT_HIGH = -(2**31), 2**31 - 1


def error_response(exc: DomainError) -> JsonResponse:
    return JsonResponse({"error": exc.as_dict()}, status=exc.status)


def json_body(request: HttpRequest) -> dict[str, Any]:
    """The JSON object sent; numbers with a fraction as ``Decimal`` (money), never float."""
    try:
        data = json.loads(request.body or b"{}", parse_float=Decimal)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise ValidationFailed(_("The request is not valid JSON."), code="invalid_json") from exc
    if not isinstance(data, dict):
        raise ValidationFailed(_("The request is not valid JSON."), code="invalid_json")
    if has_nul(data):
        raise NulCharacter()
    return data


def date_in(value: Any) -> dt.date:
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except ValueError as exc:
        raise ValidationFailed(code="invalid_date", details={"date": str(value)[:20]}) from exc


def int_in(value: Any, field: str, *, low: int = INT_LOW, high: int = INT_HIGH) -> int:
    """A whole number given as a JSON number or a string (not true/false, not 1.5)."""
    if isinstance(value, Decimal) and value == value.to_integral_value():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValidationFailed(code="invalid_number", details={"field": field})
    try:
        number = int(value)
    except ValueError as exc:
        raise ValidationFailed(code="invalid_number", details={"field": field}) from exc
    if not low <= number <= high:
        raise ValidationFailed(code="invalid_number", details={"field": field})
    return number
