"""Helpers for sales tests: a frozen clock, the demo products, and short API calls."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from admit.catalog.models import Product
from admit.inventory.models import Pool

MON = dt.date(2027, 1, 11)
SAT = dt.date(2027, 1, 16)
MAINTENANCE = dt.date(2026, 12, 7)  # the demo's closed Monday, as of the demo day

# Valid PRC resident ID numbers (checksums computed, not real people).
IDS = [
    "11010519491231002X",
    "110105194912310038",
    "440524198001010013",
    "110101198001010010",
    "310101197001010013",
    "320102195512120037",
    "51010420000229002X",
    "610113201010100059",
]


def product(code: str) -> Product:
    return Product.objects.get(code=code)


def slots(api: Any, code: str, day: dt.date, channel: str = "window") -> list[dict[str, Any]]:
    response = api.get(
        "/api/v1/availability",
        {"product": product(code).pk, "date": day.isoformat(), "channel": channel},
    )
    assert response.status_code == 200, response.content
    return response.json()


def slot_id(
    api: Any, code: str, day: dt.date, start: str = "09:30", channel: str = "window"
) -> int:
    for s in slots(api, code, day, channel):
        if s["start"] and s["start"].startswith(start):
            return s["slot"]
    raise AssertionError(f"no slot at {start}")


def line(
    api: Any,
    code: str,
    quantity: int = 1,
    day: dt.date = MON,
    start: str | None = "09:30",
    **extra: Any,
) -> dict[str, Any]:
    out = {"product": product(code).pk, "date": day.isoformat(), "quantity": quantity, **extra}
    if start:
        out["slot"] = slot_id(api, code, day, start)
    return out


def place(
    api: Any, lines: list[dict[str, Any]], channel: str = "window", status: int = 201, **extra: Any
) -> dict[str, Any]:
    headers = extra.pop("headers", {})
    response = api.post(
        "/api/v1/orders",
        {"channel": channel, "lines": lines, **extra},
        content_type="application/json",
        **headers,
    )
    assert response.status_code == status, response.content
    return response.json()


def pay_cash(
    api: Any, code: str, amount: str | None = None, tendered: str | None = None, status: int = 201
) -> dict[str, Any]:
    body: dict[str, Any] = {"method": "cash"}
    if amount is not None:
        body["amount"] = amount
    if tendered is not None:
        body["tendered"] = tendered
    response = api.post(f"/api/v1/orders/{code}/payments", body, content_type="application/json")
    assert response.status_code == status, response.content
    return response.json()


def pool_at(code: str, day: dt.date, start: str | None) -> Pool:
    p = product(code)
    zone = p.capacity_zones[0]
    qs = Pool.objects.filter(zone=zone, date=day)
    if start is None:
        return qs.get(start__isnull=True)
    return qs.get(start=dt.time.fromisoformat(start))


def money(value: str) -> Decimal:
    return Decimal(value)
