"""Payment providers.

Cash and bank-card payments are recorded by staff at the window. Online payments (WeChat Pay,
Alipay, UnionPay, …) go through an ``OnlineProvider``: create a payment, show its QR code, get a
signed asynchronous notification, query it, refund through it. ``SandboxProvider`` is a complete
stand-in that behaves like those providers (its own records, a pay page, HMAC-SHA256 signed
notifications with a timestamp window) so that a real provider plugs into the same interface.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
import threading
import time
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from .errors import InvalidSignature, ProviderFailed, UnknownPayment
from .models import SandboxPayment

log = logging.getLogger(__name__)

SIGNATURE_WINDOW_SECONDS = 300


@dataclass(frozen=True)
class ProviderSession:
    ref: str
    pay_url: str
    qr_text: str


@dataclass(frozen=True)
class Notification:
    ref: str
    txn_id: str
    amount: Decimal
    paid: bool


class OnlineProvider(Protocol):
    code: str

    def create(
        self, *, merchant_order: str, amount: Decimal, notify_url: str
    ) -> ProviderSession: ...

    def query(self, *, ref: str) -> Notification | None: ...

    def refund(self, *, ref: str, amount: Decimal, refund_id: str) -> str: ...

    def verify(self, *, headers: Mapping[str, str], body: bytes) -> Notification: ...


class SandboxProvider:
    """A payment provider that lives inside Admit, for demos and tests (say so to visitors)."""

    code = "sandbox"

    @property
    def key(self) -> bytes:
        configured = getattr(settings, "ADMIT_SANDBOX_PAY_KEY", "")
        if configured:
            return configured.encode()
        return hmac.new(settings.SECRET_KEY.encode(), b"admit-sandbox-pay", "sha256").digest()

    def sign(self, *, body: bytes, timestamp: str, nonce: str) -> str:
        message = timestamp.encode() + b"\n" + nonce.encode() + b"\n" + body
        return hmac.new(self.key, message, hashlib.sha256).hexdigest()

    # -- the merchant's side of the interface --

    def create(self, *, merchant_order: str, amount: Decimal, notify_url: str) -> ProviderSession:
        ref = "SBX" + secrets.token_hex(8).upper()
        SandboxPayment.objects.create(
            ref=ref, merchant_order=merchant_order, amount=amount, notify_url=notify_url
        )
        url = f"/sandbox-pay/{ref}"
        return ProviderSession(ref=ref, pay_url=url, qr_text=url)

    def query(self, *, ref: str) -> Notification | None:
        p = SandboxPayment.objects.filter(ref=ref).first()
        if p is None:
            raise UnknownPayment(details={"ref": ref})
        if p.status != SandboxPayment.Status.PAID:
            return None
        return Notification(ref=p.ref, txn_id=p.txn_id, amount=p.amount, paid=True)

    def refund(self, *, ref: str, amount: Decimal, refund_id: str) -> str:
        updated = SandboxPayment.objects.filter(
            ref=ref, status=SandboxPayment.Status.PAID, amount__gte=F("refunded") + amount
        ).update(refunded=F("refunded") + amount)
        if not updated:
            raise ProviderFailed(details={"ref": ref, "amount": str(amount)})
        return f"SBXR-{refund_id}"

    def verify(self, *, headers: Mapping[str, str], body: bytes) -> Notification:
        timestamp = headers.get("X-Sandbox-Timestamp", "")
        nonce = headers.get("X-Sandbox-Nonce", "")
        signature = headers.get("X-Sandbox-Signature", "")
        if not (timestamp.isdigit() and nonce and signature):
            raise InvalidSignature()
        if abs(time.time() - int(timestamp)) > SIGNATURE_WINDOW_SECONDS:
            raise InvalidSignature(code="stale_notification")
        expected = self.sign(body=body, timestamp=timestamp, nonce=nonce)
        if not hmac.compare_digest(expected, signature):
            raise InvalidSignature()
        try:
            data = json.loads(body)
            return Notification(
                ref=str(data["ref"]),
                txn_id=str(data["txn_id"]),
                amount=Decimal(str(data["amount"])),
                paid=data["status"] == "paid",
            )
        except (ValueError, KeyError, TypeError, ArithmeticError, RecursionError) as exc:
            raise InvalidSignature(code="malformed_notification") from exc

    # -- the provider's own side: the customer pays, the provider notifies --

    def customer_pays(self, *, ref: str) -> tuple[bytes, dict[str, str]]:
        """The customer confirms on the pay page; returns the signed notification to send."""
        with transaction.atomic():
            p = SandboxPayment.objects.select_for_update().filter(ref=ref).first()
            if p is None:
                raise UnknownPayment(details={"ref": ref})
            if p.status == SandboxPayment.Status.WAITING:
                p.status = SandboxPayment.Status.PAID
                p.txn_id = "SBXT" + secrets.token_hex(10).upper()
                p.paid_at = timezone.now()
                p.save(update_fields=["status", "txn_id", "paid_at"])
        return self.notification(p)

    def notification(self, p: SandboxPayment) -> tuple[bytes, dict[str, str]]:
        body = json.dumps(
            {
                "ref": p.ref,
                "txn_id": p.txn_id,
                "amount": str(p.amount),
                "status": "paid" if p.status == SandboxPayment.Status.PAID else p.status,
                "merchant_order": p.merchant_order,
            }
        ).encode()
        timestamp, nonce = str(int(time.time())), secrets.token_hex(8)
        return body, {
            "X-Sandbox-Timestamp": timestamp,
            "X-Sandbox-Nonce": nonce,
            "X-Sandbox-Signature": self.sign(body=body, timestamp=timestamp, nonce=nonce),
        }

    def deliver(self, *, ref: str, base_url: str, attempts: int = 5) -> None:
        """Send the notification to the merchant's callback in the background, with retries,
        the way a real provider calls back asynchronously."""
        p = SandboxPayment.objects.get(ref=ref)
        body, headers = self.notification(p)
        url = p.notify_url if p.notify_url.startswith("http") else base_url + p.notify_url

        def send() -> None:
            for attempt in range(attempts):
                try:
                    request = urllib.request.Request(
                        url,
                        data=body,
                        method="POST",
                        headers={"Content-Type": "application/json", **headers},
                    )
                    with urllib.request.urlopen(request, timeout=10) as response:
                        if response.status < 300:
                            return
                except OSError as exc:
                    log.warning("sandbox notification to %s failed: %s", url, exc)
                time.sleep(min(2**attempt, 10))

        threading.Thread(target=send, daemon=True).start()


PROVIDERS: dict[str, OnlineProvider] = {"sandbox": SandboxProvider()}


def provider(code: str) -> OnlineProvider:
    try:
        return PROVIDERS[code]
    except KeyError as exc:
        raise UnknownPayment(details={"provider": code}) from exc
