"""Connectors: the protocols of OTA platforms (each Chinese OTA has its own).

A connector turns a platform's HTTP call into a verified ``SignedCall`` and then into the
partners' booking services, and their results (or refusals) into the platform's answer. It never
writes itself: capacity, prices and money go through the sales engine like every other channel.

``SandboxOTA`` follows the common shape of those platforms, so a real one (Ctrip, Meituan, Fliggy)
is a variation of it: a JSON body; headers naming the account, the service and a Unix timestamp;
a signature ``hex(HMAC-SHA256(secret, account|service|timestamp|body))``; requests older or newer
than five minutes refused; the same signed request twice refused (``SeenRequest``); order
creation idempotent on the platform's order number; answers ``{"code": 0, "message": "ok",
"data": {…}}``, refusals ``{"code": <http status>, "error": "<code>", "message": "…"}``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import uuid
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from admit.catalog.models import Product
from admit.core.errors import DomainError, ValidationFailed
from admit.core.text import NulCharacter, has_nul
from admit.sales.models import Order
from admit.sales.services import VisitorIn
from admit.tickets.models import Ticket

from . import errors
from .models import Partner, PartnerBooking, SeenRequest
from .services import BookingRequest, booking_cancel, booking_confirm, booking_reserve

WINDOW = dt.timedelta(minutes=5)


@dataclass(frozen=True)
class SignedCall:
    partner: Partner
    service: str
    payload: dict[str, Any]


class Connector(ABC):
    """One platform's protocol."""

    name: str

    @abstractmethod
    def verify(
        self, *, service: str, headers: Mapping[str, str], body: bytes, now: dt.datetime
    ) -> SignedCall:
        """Check who signed the call, its freshness and that it is not a replay; before any
        write of the call itself."""

    @abstractmethod
    def handle(self, call: SignedCall) -> dict[str, Any]:
        """Carry the call out; the platform's answer."""

    @abstractmethod
    def refusal(self, exc: DomainError) -> tuple[int, dict[str, Any]]:
        """A domain error in the platform's shape: status and body."""


def signature(secret: str, account: str, service: str, timestamp: str, body: bytes) -> str:
    message = f"{account}|{service}|{timestamp}|".encode() + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def seen_requests_purge(*, now: dt.datetime | None = None) -> int:
    """Forget signatures older than the window: such requests are refused as stale anyway."""
    now = now or timezone.now()
    deleted, _ = SeenRequest.objects.filter(signed_at__lt=now - 2 * WINDOW).delete()
    return deleted


class SandboxOTA(Connector):
    name = "sandbox"
    services = ("verify", "create", "query", "cancel")

    def verify(
        self, *, service: str, headers: Mapping[str, str], body: bytes, now: dt.datetime
    ) -> SignedCall:
        account = headers.get("X-Account", "")
        stamp = headers.get("X-Timestamp", "")
        signed = headers.get("X-Signature", "").lower()
        partner = (
            Partner.objects.filter(
                code=account[:40], kind=Partner.Kind.OTA, connector=self.name, is_active=True
            )
            .select_related("channel", "account", "retail_channel")
            .first()
        )
        if partner is None or not partner.secret:
            raise errors.PartnerUnauthorized(details={"account": account[:40]})
        expected = signature(partner.secret, account, service, stamp, body)
        if not signed or not hmac.compare_digest(expected, signed):
            raise errors.BadSignature()
        try:
            at = dt.datetime.fromtimestamp(int(stamp), tz=dt.UTC)
        except (ValueError, OverflowError, OSError):
            raise errors.StaleRequest(details={"timestamp": stamp[:20]}) from None
        if abs(now - at) > WINDOW:
            raise errors.StaleRequest(details={"timestamp": stamp[:20]})
        try:
            with transaction.atomic():
                SeenRequest.objects.create(partner=partner, signature=expected, signed_at=at)
        except IntegrityError:
            raise errors.ReplayedRequest() from None
        if service not in self.services:
            raise ValidationFailed(code="unknown_service", details={"service": service[:40]})
        try:
            payload = json.loads(body or b"{}")
        except (ValueError, UnicodeDecodeError, RecursionError):
            raise ValidationFailed(code="invalid_json") from None
        if has_nul(payload):
            raise NulCharacter()
        if not isinstance(payload, dict):
            raise ValidationFailed(code="invalid_json")
        return SignedCall(partner, service, payload)

    def handle(self, call: SignedCall) -> dict[str, Any]:
        handler = getattr(self, f"_{call.service}")
        data: dict[str, Any] = handler(call.partner, call.payload)
        return {"code": 0, "message": "ok", "data": data}

    def refusal(self, exc: DomainError) -> tuple[int, dict[str, Any]]:
        body = {
            "code": exc.status,
            "error": exc.code,
            "message": str(exc.message),
            "details": exc.details,
        }
        return exc.status, body

    # --- services ---

    def _order_no(self, payload: dict[str, Any]) -> str:
        value = payload.get("otaOrderId")
        if not isinstance(value, str) or not value.strip() or len(value) > 64:
            raise ValidationFailed(code="invalid_ota_order_id", details={"field": "otaOrderId"})
        return value.strip()

    def _request(self, partner: Partner, payload: dict[str, Any], order_no: str) -> BookingRequest:
        product = Product.objects.filter(
            code=str(payload.get("productId", ""))[:40], channels=partner.channel, is_active=True
        ).first()
        if product is None:
            raise errors.UnknownUnit(
                code="unknown_product", details={"productId": payload.get("productId")}
            )
        try:
            day = dt.date.fromisoformat(str(payload.get("date")))
            start = dt.time.fromisoformat(payload["slot"]) if payload.get("slot") else None
            quantity = int(payload.get("quantity", 0))
        except (TypeError, ValueError):
            raise ValidationFailed(
                code="invalid_field", details={"fields": "date slot quantity"}
            ) from None
        given = payload.get("contact")
        contact: dict[str, Any] = given if isinstance(given, dict) else {}
        visitors = tuple(
            VisitorIn(
                name=str(v.get("name", ""))[:100],
                id_type=str(v.get("idType", "resident_id"))[:20],
                id_number=str(v.get("idNumber", ""))[:40],
                phone=str(v.get("phone", ""))[:32],
            )
            for v in payload.get("visitors") or []
            if isinstance(v, dict)
        )
        return BookingRequest(
            reference=order_no,
            product=product.pk,
            day=day,
            start=start,
            quantity=quantity,
            contact_name=str(contact.get("name", ""))[:100],
            contact_phone=str(contact.get("phone", ""))[:32],
            contact={k: str(v)[:100] for k, v in contact.items()},
            visitors=visitors,
        )

    def _price_check(self, partner: Partner, payload: dict[str, Any], order: Order) -> None:
        if payload.get("unitPrice") is None:
            return
        try:
            expected = Decimal(str(payload["unitPrice"]))
        except InvalidOperation:
            raise ValidationFailed(code="invalid_price") from None
        line = order.lines.first()
        if line is not None and line.unit_price != expected:
            raise errors.BookingNotChangeable(
                code="price_changed",
                details={"unitPrice": str(line.unit_price), "sent": str(expected)},
            )

    def _verify(self, partner: Partner, payload: dict[str, Any]) -> dict[str, Any]:
        """Would this order go through? Checked by placing it in a transaction rolled back."""
        request = self._request(partner, payload, f"verify-{uuid.uuid4().hex}")
        with transaction.atomic():
            booking, _new = booking_reserve(partner=partner, request=request)
            self._price_check(partner, payload, booking.order)
            answer = {"bookable": True, "unitPrice": str(booking.order.lines.get().unit_price)}
            transaction.set_rollback(True)
        return answer

    def _create(self, partner: Partner, payload: dict[str, Any]) -> dict[str, Any]:
        """Create and confirm (the platform has taken the visitor's money): tickets issued and
        charged to the partner's account. The same ``otaOrderId`` again returns the same order."""
        order_no = self._order_no(payload)
        request = self._request(partner, payload, order_no)
        with transaction.atomic():
            booking, new = booking_reserve(partner=partner, request=request)
            if new:
                self._price_check(partner, payload, booking.order)
            if new or booking.order.status == Order.Status.PENDING:
                booking = booking_confirm(partner=partner, reference=order_no)
        return self._order(booking)

    def _query(self, partner: Partner, payload: dict[str, Any]) -> dict[str, Any]:
        return self._order(self._booking(partner, self._order_no(payload)))

    def _cancel(self, partner: Partner, payload: dict[str, Any]) -> dict[str, Any]:
        order_no = self._order_no(payload)
        booking = booking_cancel(
            partner=partner, reference=order_no, reason=str(payload.get("reason", ""))[:200]
        )
        return self._order(booking)

    def _booking(self, partner: Partner, order_no: str) -> PartnerBooking:
        booking = (
            PartnerBooking.objects.filter(partner=partner, reference=order_no)
            .select_related("order")
            .first()
        )
        if booking is None:
            raise errors.BookingNotFound(details={"otaOrderId": order_no})
        return booking

    def _order(self, booking: PartnerBooking) -> dict[str, Any]:
        order = Order.objects.get(pk=booking.order_id)
        tickets = list(Ticket.objects.filter(order=order).order_by("pk"))
        refunded = sum((r.amount for r in order.refunds.all()), Decimal("0.00"))
        return {
            "otaOrderId": booking.reference,
            "orderNo": order.code,
            "status": "cancelled" if booking.cancelled_at else order.status,
            "total": str(order.total),
            "refunded": str(refunded),
            "tickets": [
                {"serial": t.serial, "code": t.code, "status": t.status, "used": t.entries_used}
                for t in tickets
            ],
        }


CONNECTORS: dict[str, Connector] = {SandboxOTA.name: SandboxOTA()}


def connector(name: str) -> Connector:
    found = CONNECTORS.get(name)
    if found is None:
        raise errors.UnknownConnector(details={"connector": name[:40]})
    return found
