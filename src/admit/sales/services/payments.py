"""Taking payments: cash and card at the window, online through a provider."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from admit.core.money import to_money
from admit.core.services import actor_label
from admit.core.sql import insert
from admit.customers.models import Book
from admit.customers.selectors import account_id_of
from admit.customers.services import account_draw

from .. import errors, sql, window
from ..models import Order, Payment, PaymentIntent, PaymentMethod, Refund
from ..providers import Notification
from ..providers import provider as get_provider
from ..selectors import with_details
from .common import ZERO, due, event, event_row, money_record, order_lock, passes_register
from .orders import order_confirm

WINDOW_METHODS = (PaymentMethod.CASH, PaymentMethod.CARD)
ACCOUNT_METHODS = (PaymentMethod.ACCOUNT, PaymentMethod.PREPAID)


def amount_in(value: Decimal | str, field: str = "amount") -> Decimal:
    """A positive amount of money as a person typed or a client sent it, or invalid_amount."""
    try:
        amount = to_money(value)
    except (ValueError, TypeError, InvalidOperation) as exc:
        raise errors.AmountInvalid(details={field: str(value)[:40]}) from exc
    if amount <= 0 or amount > Decimal("99999999.99"):
        raise errors.AmountInvalid(details={field: str(value)[:40]})
    return amount


def order_pay(
    *,
    order: Order,
    method: str,
    amount: Decimal | str | None,
    actor: Any,
    tendered: Decimal | str | None = None,
    reference: str = "",
    now: dt.datetime | None = None,
) -> Payment:
    """Record cash or card money taken at the window, or a charge to the order's B2B account
    (all that is due when ``amount`` is None); confirm the order once fully paid. The money
    belongs to the cashier's open shift."""
    if method not in (*WINDOW_METHODS, *ACCOUNT_METHODS):
        raise errors.MethodNotAllowed(details={"method": method})
    now = now or timezone.now()
    shift_id = window.shift_of(actor)
    with transaction.atomic():
        order = order_lock(order.pk, "channel", known=order)
        if order.status != Order.Status.PENDING:
            raise errors.OrderNotPending(details={"order": order.code, "status": order.status})
        own = account_id_of(actor)
        if method in ACCOUNT_METHODS and order.account_id is None:
            raise errors.MethodNotAllowed(details={"method": method, "reason": "no_account"})
        if own is not None and (method not in ACCOUNT_METHODS or own != order.account_id):
            # an account's own users pay their bookings from its credit or prepaid money
            raise errors.MethodNotAllowed(details={"method": method})
        if shift_id is not None and order.shift_id is None:  # a booking picked up at the window
            Order.objects.filter(pk=order.pk).update(shift_id=shift_id)
            order.shift_id = shift_id
        payments = sql.payments_of(order.pk)
        still_due = max(order.total - sum((p.amount for p in payments), ZERO), ZERO)
        value = amount_in(still_due if amount is None else amount)
        if value > still_due:
            raise errors.AmountExceedsBalance(details={"due": str(still_due)})
        if method in ACCOUNT_METHODS:
            assert order.account_id is not None
            account_draw(
                account_id=order.account_id,
                book=Book.PREPAID if method == PaymentMethod.PREPAID else Book.CREDIT,
                amount=value,
                order_id=order.pk,
                actor=actor,
            )
        cash_in, change = None, None
        if method == PaymentMethod.CASH:
            cash_in = amount_in(tendered, "tendered") if tendered is not None else value
            if cash_in < value:
                raise errors.TenderedTooLittle(
                    details={"amount": str(value), "tendered": str(cash_in)}
                )
            change = cash_in - value
        payment = Payment(
            order=order,
            method=method,
            amount=value,
            tendered=cash_in,
            change=change,
            reference=reference[:100],
            actor_label=actor_label(actor)[:150],
            shift_id=shift_id,
        )
        money_record(order, payment)
        paid = event_row(order, "payment", actor, method=method, amount=value, change=change)
        payments.append(payment)
        with_details(order, payments=payments, refunds=[])
        if value == still_due:
            order_confirm(order=order, actor=actor, now=now, paid=order.total, events=[paid])
        else:
            insert([paid])
        payment.order = order
    return payment


def order_pay_online(
    *, order: Order, actor: Any, notify_url: str, provider: str = "sandbox"
) -> PaymentIntent:
    """Start an online payment of what is still due: the provider's QR code or pay page.
    Started by a cashier, the payment will belong to their open shift."""
    shift_id = window.shift_of(actor)
    with transaction.atomic():
        order = order_lock(order.pk)
        if order.status != Order.Status.PENDING:
            raise errors.OrderNotPending(details={"order": order.code, "status": order.status})
        still_due = due(order)
        if still_due <= 0:
            raise errors.AmountInvalid(details={"due": "0.00"})
        session = get_provider(provider).create(
            merchant_order=order.code, amount=still_due, notify_url=notify_url
        )
        intent = PaymentIntent.objects.create(
            order=order,
            provider=provider,
            provider_ref=session.ref,
            amount=still_due,
            pay_url=session.pay_url,
            shift_id=shift_id,
        )
        event(
            order,
            "online_payment_started",
            actor,
            provider=provider,
            amount=still_due,
            ref=session.ref,
        )
    return intent


def payment_notified(
    *, provider: str, headers: Mapping[str, str], body: bytes, now: dt.datetime | None = None
) -> Payment | None:
    """A provider says a payment succeeded. Verified first; idempotent on its transaction id.

    Money that arrives for an order that can no longer take it (expired, cancelled, already
    paid) is refunded through the provider at once, so it is never lost.
    """
    note = get_provider(provider).verify(headers=headers, body=body)  # before any write
    return _apply(provider=provider, note=note, now=now)


def _apply(*, provider: str, note: Notification, now: dt.datetime | None) -> Payment | None:
    prov = get_provider(provider)
    if not note.paid:
        return None
    intent = PaymentIntent.objects.filter(provider=provider, provider_ref=note.ref).first()
    if intent is None:
        raise errors.UnknownPayment(details={"ref": note.ref})
    if note.amount != intent.amount:
        raise errors.InvalidSignature(
            code="amount_mismatch", details={"expected": str(intent.amount)}
        )
    now = now or timezone.now()
    existing = Payment.objects.filter(provider=provider, provider_txn=note.txn_id).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            order = order_lock(intent.order_id)
            payment = Payment(
                order=order,
                method=PaymentMethod.ONLINE,
                amount=note.amount,
                provider=provider,
                provider_txn=note.txn_id,
                reference=note.ref,
                actor_label=provider,
                shift_id=intent.shift_id,
            )
            money_record(order, payment)
            PaymentIntent.objects.filter(pk=intent.pk).update(status=PaymentIntent.Status.SUCCEEDED)
            event(
                order,
                "payment",
                None,
                method="online",
                provider=provider,
                amount=note.amount,
                txn=note.txn_id,
            )
            still_due = due(order) + note.amount  # what was due before this payment
            if order.status == Order.Status.PENDING and note.amount <= still_due:
                if note.amount == still_due:
                    order_confirm(order=order, actor=None, now=now)
                    passes_register(order=order)  # a pass sold at the window to a member
            else:
                refund_id = f"{order.code}-{payment.pk}"
                ref = prov.refund(ref=note.ref, amount=note.amount, refund_id=refund_id)
                late = Refund(
                    order=order,
                    payment=payment,
                    method=PaymentMethod.ONLINE,
                    amount=note.amount,
                    provider_ref=ref,
                    reason="late_payment",
                    actor_label=provider,
                )
                money_record(order, late)
                event(order, "late_payment_refunded", None, amount=note.amount, status=order.status)
            return payment
    except IntegrityError:
        existing = Payment.objects.filter(provider=provider, provider_txn=note.txn_id).first()
        if existing is None:
            raise
        return existing


def intent_sync(*, intent: PaymentIntent) -> Payment | None:
    """Ask the provider about a payment whose notification may have been lost."""
    note = get_provider(intent.provider).query(ref=intent.provider_ref)
    if note is None:
        return None
    return _apply(provider=intent.provider, note=note, now=None)
