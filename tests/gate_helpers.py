"""Helpers for gate tests: sell real tickets through the API, scan them at demo lanes."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.test import Client

from admit.accounts.models import Device
from admit.accounts.services import token_create
from tests.sales_helpers import IDS, MON, line, pay_cash, place

# 09:40 on the Monday the tickets are for, in the site's zone: within the 09:30 slot.
AT_GATE = "2027-01-11 09:40 +0800"
SCAN_TIME = dt.datetime.fromisoformat("2027-01-11T09:40:00+08:00")


def sell(
    api: Client,
    code: str = "adult",
    quantity: int = 1,
    day: dt.date = MON,
    start: str | None = "09:30",
    **extra: Any,
) -> list[dict[str, Any]]:
    """Place and pay an order; return its tickets (with their signed codes)."""
    order = place(api, [line(api, code, quantity, day=day, start=start, **extra)])
    pay_cash(api, order["code"])
    response = api.get(f"/api/v1/orders/{order['code']}/tickets")
    assert response.status_code == 200, response.content
    tickets: list[dict[str, Any]] = response.json()["tickets"]
    for t in tickets:
        t["order"] = order["code"]
    return tickets


def device_client(lane: str, language: str = "en") -> Client:
    device = Device.objects.get(lane__code=lane)
    _token, secret = token_create(actor=None, device=device, name="test", days=3650)
    return Client(HTTP_AUTHORIZATION=f"Bearer {secret}", HTTP_ACCEPT_LANGUAGE=language)


def scan(client: Client, lane: str, status: int = 200, **body: Any) -> dict[str, Any]:
    response = client.post(f"/api/v1/gates/{lane}/scans", body, content_type="application/json")
    assert response.status_code == status, response.content
    data: dict[str, Any] = response.json()
    return data


def sell_annual_pass(api: Client, id_number: str = IDS[0]) -> dict[str, Any]:
    """An annual pass (real-name, cards allowed) for 李雷."""
    visitor = {"name": "李雷", "id_type": "resident_id", "id_number": id_number, "phone": ""}
    return sell(api, "annual", start=None, visitors=[visitor])[0]


def bind_card(api: Client, serial: str, uid: str) -> dict[str, Any]:
    response = api.post(
        f"/api/v1/tickets/{serial}/media",
        {"type": "card", "value": uid},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    data: dict[str, Any] = response.json()
    return data
