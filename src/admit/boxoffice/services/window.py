"""Selling at the window (售票窗口): one checkout, voids, refunds and payments of a shift.

Every function here takes the cashier's open shift. The sales engine does the selling
(``order_place``, ``order_pay``, ``order_refund``); what the window adds is who may sell what
(the terminal's and the cashier's products), that a checkout is all or nothing (the order and
all its payments, or nothing), the record of a supervisor's approval, and voids.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from admit.accounts.rights import has
from admit.catalog.models import Product
from admit.core.errors import Conflict, PermissionDenied, ValidationFailed
from admit.core.services import audit_record
from admit.customers.models import Account, Member
from admit.sales.errors import AccountNotAllowed, TenderedTooLittle
from admit.sales.models import Order, PaymentMethod, Refund
from admit.sales.pricing import ManualDiscount
from admit.sales.services import (
    LineRequest,
    amount_in,
    order_pay,
    order_place,
    order_refund,
)
from admit.sales.services.common import ZERO, due, passes_register
from admit.tickets.models import Ticket

from ..errors import NotYourShift, ProductNotAllowed, VoidNotAllowed
from ..models import CashierRights, Shift, ShiftAction, Terminal

WINDOW_METHODS = (PaymentMethod.CASH, PaymentMethod.CARD, PaymentMethod.ACCOUNT)
MAX_TENDERS = 6


class PaymentShort(ValidationFailed):
    code = "payment_short"
    default_message = _("The payments do not cover what is due.")


class PaymentTooMuch(ValidationFailed):
    code = "payment_too_much"
    default_message = _("The payments are more than what is due; give change in cash instead.")


class OrderOfAnotherShift(PermissionDenied):
    code = "order_of_another_shift"
    default_message = _("This sale belongs to another cashier's shift.")


class RefundNotAllowed(PermissionDenied):
    code = "refund_not_allowed"
    default_message = _("You do not have the right to refund.")


class NothingDue(Conflict):
    code = "nothing_due"
    default_message = _("Nothing is due on this order.")


@dataclass(frozen=True)
class Tender:
    """One part of a payment at the window: cash (with what the visitor handed over), a bank
    card (with the terminal's reference) or a charge to the order's B2B account. ``amount``
    None: all that is still due."""

    method: str
    amount: Decimal | None = None
    tendered: Decimal | None = None
    reference: str = ""


def _own_open(shift: Shift, actor: Any) -> Shift:
    """The shift, freshly read: open and the actor's own."""
    fresh = Shift.objects.select_related("terminal", "terminal__site").filter(pk=shift.pk).first()
    if fresh is None or fresh.status != Shift.Status.OPEN or fresh.cashier_id != actor.pk:
        raise NotYourShift(details={"shift": shift.pk})
    return fresh


def sellable_products(*, terminal: Terminal, cashier: Any) -> list[Product]:
    """The products this cashier may sell at this terminal: on sale at the terminal's site
    and channel, narrowed by the terminal's list and the cashier's rights (empty lists: all)."""
    qs = (
        Product.objects.filter(
            site_id=terminal.site_id, is_active=True, channels__code=terminal.channel_code
        )
        .select_related("category")
        .order_by("sort_order", "code")
        .distinct()
    )
    allowed = set(terminal.products.values_list("pk", flat=True))
    if allowed:
        qs = qs.filter(pk__in=allowed)
    rights = CashierRights.objects.filter(user_id=cashier.pk).first()
    if rights is not None:
        mine = set(rights.products.values_list("pk", flat=True))
        if mine:
            qs = qs.filter(pk__in=mine)
    return list(qs)


def discount_needs_approval(*, actor: Any, percent: Decimal | None) -> bool:
    """Whether a manual discount of ``percent`` is beyond what ``actor`` may give alone."""
    if not percent or getattr(actor, "is_superuser", False):
        return False
    return percent > (getattr(actor, "discount_limit_percent", None) or 0)


def _check_products(shift: Shift, actor: Any, lines: Sequence[LineRequest]) -> None:
    allowed = {p.pk for p in sellable_products(terminal=shift.terminal, cashier=actor)}
    for index, line in enumerate(lines):
        if line.product not in allowed:
            raise ProductNotAllowed(details={"line": index, "product": line.product})


def _check_tenders(tenders: Sequence[Tender], due: Decimal) -> list[Tender]:
    """Parts that add up to exactly what is due (the last part may be "the rest")."""
    if len(tenders) > MAX_TENDERS:
        raise ValidationFailed(code="too_many_payments", details={"max": MAX_TENDERS})
    out: list[Tender] = []
    left = due
    for index, t in enumerate(tenders):
        if t.method not in WINDOW_METHODS:
            raise ValidationFailed(
                code="payment_method_not_allowed", details={"part": index, "method": t.method}
            )
        amount = left if t.amount is None else amount_in(t.amount)
        if amount <= 0:
            raise PaymentTooMuch(details={"part": index, "due": str(due)})
        if amount > left:
            raise PaymentTooMuch(details={"part": index, "due": str(due), "left": str(left)})
        tendered = None
        if t.method == PaymentMethod.CASH and t.tendered is not None:
            tendered = amount_in(t.tendered, "tendered")
            if tendered < amount:
                raise TenderedTooLittle(
                    details={"part": index, "amount": str(amount), "tendered": str(tendered)}
                )
        out.append(Tender(t.method, amount, tendered, t.reference.strip()[:100]))
        left -= amount
    if left != 0:
        raise PaymentShort(details={"due": str(due), "left": str(left)})
    return out


def _pay(order: Order, tenders: Sequence[Tender], actor: Any, now: dt.datetime) -> None:
    for t in tenders:
        order = order_pay(
            order=order,
            method=t.method,
            amount=t.amount,
            tendered=t.tendered,
            reference=t.reference,
            actor=actor,
            now=now,
        ).order


def window_sell(
    *,
    shift: Shift,
    actor: Any,
    lines: Sequence[LineRequest],
    tenders: Sequence[Tender],
    discount_percent: Decimal | None = None,
    discount_reason: str = "",
    approver: Any = None,
    account: Account | None = None,
    member: Member | None = None,
    contact_name: str = "",
    contact_phone: str = "",
    leave_pending: bool = False,
    now: dt.datetime | None = None,
) -> Order:
    """One checkout at the window: place the order and take every payment, or write nothing.

    The products must be ones the terminal and the cashier may sell. A discount beyond the
    cashier's limit needs ``approver``, a supervisor whose PIN ``approval_check`` has checked
    (outside this transaction, so that refusals stay recorded); the approval is recorded with
    the order. ``tenders`` must add up to the order's total exactly, unless ``leave_pending``
    (the rest is paid online by QR code afterwards)."""
    now = now or timezone.now()
    shift = _own_open(shift, actor)
    _check_products(shift, actor, lines)
    manual = None
    if discount_percent is not None and discount_percent != 0:
        manual = ManualDiscount(percent=discount_percent, reason=discount_reason.strip()[:200])
    if account is not None and not account.is_active:
        raise AccountNotAllowed(details={"account": account.code})
    if any(t.method == PaymentMethod.ACCOUNT for t in tenders) and account is None:
        raise ValidationFailed(code="account_required", details={"method": "account"})
    with transaction.atomic():
        order = order_place(
            channel=shift.terminal.channel_code,
            lines=lines,
            actor=actor,
            contact_name=contact_name,
            contact_phone=contact_phone,
            manual_discount=manual,
            discount_approver=approver,
            account=account,
            member=member,
            now=now,
        )
        if approver is not None and manual is not None:
            ShiftAction.objects.create(
                shift=shift,
                kind=ShiftAction.Kind.APPROVAL,
                order=order,
                approver=approver,
                percent=discount_percent,
                amount=order.discount,
                reason=manual.reason,
            )
        if order.status == Order.Status.PENDING:
            if leave_pending and not tenders:
                return order
            checked = _check_tenders(tenders, order.total)
            _pay(order, checked, actor, now)
        elif tenders:
            raise PaymentTooMuch(details={"due": "0.00"})
        passes_register(order=order)  # paid now: a pass sold to a member is theirs
    order.refresh_from_db()
    return order


def window_order(*, shift: Shift, actor: Any, order: Order) -> Order:
    """An order the window may act on: the own shift's sales, and orders booked elsewhere
    (online, by an agency) that the visitor comes to collect; not another cashier's sales."""
    if order.site_id != shift.terminal.site_id:
        raise OrderOfAnotherShift(details={"order": order.code})
    if order.shift_id is not None and order.shift_id != shift.pk:
        other = Shift.objects.filter(pk=order.shift_id).values_list("cashier_id", flat=True).first()
        if other != actor.pk:
            raise OrderOfAnotherShift(details={"order": order.code})
    return order


def window_pay(
    *,
    shift: Shift,
    actor: Any,
    order: Order,
    tenders: Sequence[Tender],
    now: dt.datetime | None = None,
) -> Order:
    """Take what is still due on an order awaiting payment (a booking collected at the window,
    a sale whose QR payment was given up), all parts or none."""
    now = now or timezone.now()
    shift = _own_open(shift, actor)
    window_order(shift=shift, actor=actor, order=order)
    if any(t.method == PaymentMethod.ACCOUNT for t in tenders) and order.account_id is None:
        raise ValidationFailed(code="account_required", details={"method": "account"})
    with transaction.atomic():
        locked = Order.objects.select_for_update().get(pk=order.pk)
        if locked.status != Order.Status.PENDING:
            raise NothingDue(details={"order": locked.code, "status": locked.status})
        still_due = due(locked)
        if still_due <= 0:
            raise NothingDue(details={"order": locked.code})
        _pay(locked, _check_tenders(tenders, still_due), actor, now)
        passes_register(order=locked)  # e.g. a member's pass whose QR payment was given up
    order.refresh_from_db()
    return order


def window_refund(
    *,
    shift: Shift,
    actor: Any,
    order: Order,
    ticket_ids: Sequence[int] | None = None,
    reason: str = "",
    now: dt.datetime | None = None,
) -> list[Refund]:
    """Refund unused tickets of an order at the window, by the product's rules; the money paid
    back belongs to the shift. Needs the right to refund."""
    if not has(actor, "sales.refund_order"):
        raise RefundNotAllowed(details={"needs": ["sales.refund_order"]})
    shift = _own_open(shift, actor)
    window_order(shift=shift, actor=actor, order=order)
    return order_refund(
        order=order, actor=actor, ticket_ids=ticket_ids, reason=reason.strip()[:200], now=now
    )


def window_void(
    *, shift: Shift, actor: Any, order: Order, reason: str = "", now: dt.datetime | None = None
) -> Decimal:
    """Void a sale of the open shift (a mistake at the window): every ticket unused, all money
    paid back without the product's refund rules or fees; recorded as a void of the shift.
    Returns the amount paid back."""
    if not has(actor, "boxoffice.void_sale"):
        raise PermissionDenied(details={"needs": ["boxoffice.void_sale"]})
    shift = _own_open(shift, actor)
    with transaction.atomic():
        locked = Order.objects.select_for_update().get(pk=order.pk)
        tickets = list(Ticket.objects.filter(order=locked))
        if (
            locked.shift_id != shift.pk
            or locked.status != Order.Status.PAID
            or not tickets
            or any(t.status != Ticket.Status.VALID or t.entries_used for t in tickets)
        ):
            raise VoidNotAllowed(details={"order": locked.code})
        rows = order_refund(order=locked, actor=actor, reason="void", apply_rules=False, now=now)
        amount = sum((r.amount for r in rows), ZERO)
        ShiftAction.objects.create(
            shift=shift,
            kind=ShiftAction.Kind.VOID,
            order=locked,
            amount=amount,
            reason=reason.strip()[:200] or "void",
        )
        audit_record(actor=actor, action="action", obj=locked, verb="window_void", note=reason)
    return amount
