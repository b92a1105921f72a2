"""A small reference client of Admit's partner interfaces, for resellers and platforms.

It needs only the standard library: copy this file into a partner's system. ``OctoClient`` calls
the OCTO API with a bearer key; ``SandboxOTAClient`` signs calls to the sandbox OTA connector
(``hex(HMAC-SHA256(secret, account|service|timestamp|body))``); ``verify_notice`` checks the
signature of a notice Admit sends (``Admit-Signature: v1=hex(HMAC-SHA256(secret,
"<Admit-Timestamp>." + body))``). ``transport`` can be replaced (tests pass Django's client).

    octo = OctoClient("http://127.0.0.1:8000", key="prt_demo_klook_key")
    product = octo.products()[0]
    slots = octo.availability(product["id"], "2027-01-11")
    booking = octo.reserve(product["id"], slots[0]["id"], units=2)  # a uuid4 is made
    booking = octo.confirm(booking["uuid"], {"fullName": "Li Lei"})
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request
import uuid as uuid_lib
from collections.abc import Callable, Mapping
from typing import Any

Transport = Callable[[str, str, dict[str, str], bytes], tuple[int, Any]]


def urllib_transport(
    method: str, url: str, headers: dict[str, str], body: bytes
) -> tuple[int, Any]:
    request = urllib.request.Request(url, data=body or None, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return int(response.status), json.loads(response.read() or b"null")
    except urllib.error.HTTPError as exc:
        return int(exc.code), json.loads(exc.read() or b"null")


class PartnerError(Exception):
    def __init__(self, status: int, body: Any) -> None:
        super().__init__(f"HTTP {status}: {body}")
        self.status, self.body = status, body


class OctoClient:
    def __init__(
        self,
        base_url: str,
        key: str,
        *,
        pricing: bool = True,
        transport: Transport = urllib_transport,
    ) -> None:
        self.base = base_url.rstrip("/") + "/octo"
        self.headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
        if pricing:
            self.headers["Octo-Capabilities"] = "octo/pricing"
        self.transport = transport

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        raw = json.dumps(body).encode() if body is not None else b""
        status, data = self.transport(method, self.base + path, dict(self.headers), raw)
        if status != 200:
            raise PartnerError(status, data)
        return data

    def supplier(self) -> Any:
        return self._call("GET", "/supplier")

    def products(self) -> Any:
        return self._call("GET", "/products")

    def availability(self, product_id: str, day: str, option_id: str = "DEFAULT") -> Any:
        body = {"productId": product_id, "optionId": option_id, "localDate": day}
        return self._call("POST", "/availability", body)

    def reserve(
        self,
        product_id: str,
        availability_id: str,
        *,
        units: int,
        uuid: str | None = None,
        unit_id: str = "adult",
        expiration_minutes: int | None = None,
    ) -> Any:
        body: dict[str, Any] = {
            "uuid": uuid or str(uuid_lib.uuid4()),  # the idempotency key: keep it for retries
            "productId": product_id,
            "optionId": "DEFAULT",
            "availabilityId": availability_id,
            "unitItems": [{"unitId": unit_id} for _ in range(units)],
        }
        if expiration_minutes is not None:
            body["expirationMinutes"] = expiration_minutes
        return self._call("POST", "/bookings", body)

    def update(self, uuid: str, changes: dict[str, Any]) -> Any:
        """``PATCH /bookings/{uuid}``: e.g. ``{"availabilityId": …}`` or ``{"unitItems": …}``."""
        return self._call("PATCH", f"/bookings/{uuid}", changes)

    def confirm(self, uuid: str, contact: dict[str, Any]) -> Any:
        return self._call("POST", f"/bookings/{uuid}/confirm", {"contact": contact})

    def cancel(self, uuid: str, reason: str = "") -> Any:
        return self._call("POST", f"/bookings/{uuid}/cancel", {"reason": reason})

    def booking(self, uuid: str) -> Any:
        return self._call("GET", f"/bookings/{uuid}")


def ota_signature(secret: str, account: str, service: str, timestamp: str, body: bytes) -> str:
    message = f"{account}|{service}|{timestamp}|".encode() + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


class SandboxOTAClient:
    def __init__(
        self,
        base_url: str,
        account: str,
        secret: str,
        *,
        transport: Transport = urllib_transport,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.base = base_url.rstrip("/") + "/ota/sandbox"
        self.account, self.secret = account, secret
        self.transport, self.clock = transport, clock

    def signed(self, service: str, payload: Mapping[str, Any]) -> tuple[dict[str, str], bytes]:
        """Headers and body of one call; a fresh ``requestId`` makes every call unique, so a
        retry is a new request while a captured one cannot be replayed."""
        payload = {"requestId": uuid_lib.uuid4().hex, **payload}
        body = json.dumps(payload, ensure_ascii=False, sort_keys=True).encode()
        stamp = str(int(self.clock()))
        headers = {
            "Content-Type": "application/json",
            "X-Account": self.account,
            "X-Timestamp": stamp,
            "X-Signature": ota_signature(self.secret, self.account, service, stamp, body),
        }
        return headers, body

    def send(self, service: str, headers: dict[str, str], body: bytes) -> tuple[int, Any]:
        return self.transport("POST", f"{self.base}/{service}", headers, body)

    def call(self, service: str, payload: Mapping[str, Any]) -> Any:
        headers, body = self.signed(service, payload)
        status, data = self.send(service, headers, body)
        if status != 200:
            raise PartnerError(status, data)
        return data["data"]

    def create(self, ota_order_id: str, product: str, day: str, quantity: int, **more: Any) -> Any:
        payload = {
            "otaOrderId": ota_order_id,
            "productId": product,
            "date": day,
            "quantity": quantity,
            **more,
        }
        return self.call("create", payload)

    def query(self, ota_order_id: str) -> Any:
        return self.call("query", {"otaOrderId": ota_order_id})

    def cancel(self, ota_order_id: str, reason: str = "") -> Any:
        return self.call("cancel", {"otaOrderId": ota_order_id, "reason": reason})


def verify_notice(
    secret: str, headers: Mapping[str, str], body: bytes, *, max_age: int = 300
) -> bool:
    """Whether a notice from Admit is genuine and fresh."""
    stamp = headers.get("Admit-Timestamp", "")
    signed = headers.get("Admit-Signature", "")
    if not stamp.isdigit() or abs(time.time() - int(stamp)) > max_age:
        return False
    expected = hmac.new(secret.encode(), stamp.encode() + b"." + body, hashlib.sha256)
    return hmac.compare_digest("v1=" + expected.hexdigest(), signed)
