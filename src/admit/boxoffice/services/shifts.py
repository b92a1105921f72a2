"""Opening, closing and confirming shifts; supervisors' approvals at the window."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import check_password, make_password
from django.db import IntegrityError, transaction
from django.utils import timezone

from admit.accounts.rights import has
from admit.core.audit import snapshot
from admit.core.errors import PermissionDenied
from admit.core.money import to_money
from admit.core.services import audit_record

from .. import handover
from ..errors import (
    AmountInvalid,
    ApprovalLocked,
    ApprovalRefused,
    NotYourShift,
    OwnShift,
    PinInvalid,
    ShiftAlreadyOpen,
    ShiftNotClosed,
    ShiftNotOpen,
    TerminalInactive,
)
from ..models import CashierRights, Shift, ShiftAction, Terminal

MAX_FLOAT = Decimal("1000000.00")
APPROVAL_TRIES = 5
APPROVAL_WINDOW = dt.timedelta(minutes=10)


def _cash(value: Decimal | str | int | None, field: str) -> Decimal:
    try:
        amount = to_money(value)  # type: ignore[arg-type]
        exact = Decimal(str(value).strip()) == amount  # no fractions of a fen
    except (ValueError, TypeError, InvalidOperation) as exc:
        raise AmountInvalid(details={field: str(value)[:40]}) from exc
    if not exact or amount < 0 or amount > MAX_FLOAT:
        raise AmountInvalid(details={field: str(value)[:40]})
    return amount


def shift_open(
    *,
    terminal: Terminal,
    cashier: Any,
    opening_float: Decimal | str,
    actor: Any,
    now: dt.datetime | None = None,
) -> Shift:
    """Open a shift for ``cashier`` at ``terminal`` with a cash float. A terminal and a cashier
    each have at most one open shift (unique columns, so on every database)."""
    if not has(actor, "boxoffice.add_shift") or (
        actor.pk != cashier.pk and not has(actor, "boxoffice.confirm_shift")
    ):
        raise PermissionDenied(details={"needs": ["boxoffice.add_shift"]})
    if not has(cashier, "boxoffice.sell_at_window"):
        raise PermissionDenied(details={"needs": ["boxoffice.sell_at_window"]})
    if not terminal.is_active or terminal.kind != Terminal.Kind.WINDOW:
        raise TerminalInactive(details={"terminal": terminal.code})
    amount = _cash(opening_float, "opening_float")
    now = now or timezone.now()
    try:
        with transaction.atomic():
            shift = Shift.objects.create(
                terminal=terminal,
                cashier=cashier,
                open_terminal=terminal.pk,
                open_cashier=cashier.pk,
                opening_float=amount,
                opened_at=now,
            )
            audit_record(
                actor=actor, action="action", obj=shift, verb="shift_open", after=snapshot(shift)
            )
    except IntegrityError as exc:
        raise ShiftAlreadyOpen(details={"terminal": terminal.code}) from exc
    return shift


def shift_close(
    *,
    shift: Shift,
    counted_cash: Decimal | str,
    actor: Any,
    note: str = "",
    now: dt.datetime | None = None,
) -> Shift:
    """Close with the cash counted in the drawer: the handover report is computed and kept as
    it is now, with the expected cash (float + cash in − cash out) and the difference."""
    counted = _cash(counted_cash, "counted_cash")
    now = now or timezone.now()
    with transaction.atomic():
        shift = (
            Shift.objects.select_for_update().select_related("terminal", "cashier").get(pk=shift.pk)
        )
        if shift.status != Shift.Status.OPEN:
            raise ShiftNotOpen(details={"shift": shift.pk, "status": shift.status})
        if shift.cashier_id != actor.pk and not has(actor, "boxoffice.confirm_shift"):
            raise NotYourShift(details={"shift": shift.pk})
        before = snapshot(shift)
        shift.closed_at = now
        report = handover.compute(shift, counted_cash=counted)
        shift.status = Shift.Status.CLOSED
        shift.open_terminal = None
        shift.open_cashier = None
        shift.counted_cash = counted
        shift.expected_cash = Decimal(report["cash"]["expected"])
        shift.difference = counted - shift.expected_cash
        shift.close_note = note[:300]
        shift.report = report
        shift.save()
        audit_record(
            actor=actor,
            action="action",
            obj=shift,
            verb="shift_close",
            before=before,
            after=snapshot(shift),
        )
    return shift


def shift_confirm(
    *, shift: Shift, actor: Any, note: str = "", now: dt.datetime | None = None
) -> Shift:
    """A supervisor (not the cashier) confirms a closed shift's handover."""
    if shift.cashier_id == actor.pk:
        raise OwnShift(details={"shift": shift.pk})
    if not has(actor, "boxoffice.confirm_shift"):
        raise PermissionDenied(details={"needs": ["boxoffice.confirm_shift"]})
    with transaction.atomic():
        shift = Shift.objects.select_for_update().get(pk=shift.pk)
        if shift.status != Shift.Status.CLOSED:
            raise ShiftNotClosed(details={"shift": shift.pk, "status": shift.status})
        before = snapshot(shift)
        shift.status = Shift.Status.CONFIRMED
        shift.confirmed_by = actor
        shift.confirmed_at = now or timezone.now()
        shift.confirm_note = note[:300]
        shift.save()
        audit_record(
            actor=actor,
            action="action",
            obj=shift,
            verb="shift_confirm",
            before=before,
            after=snapshot(shift),
        )
    return shift


def pin_set(*, user: Any, pin: str, actor: Any) -> None:
    """Set the approval PIN of a supervisor (by themselves or by whoever manages staff)."""
    if actor.pk != user.pk and not has(actor, "accounts.change_user"):
        raise PermissionDenied(details={"needs": ["accounts.change_user"]})
    if not (pin.isascii() and pin.isdigit() and 4 <= len(pin) <= 8):
        raise PinInvalid()
    with transaction.atomic():
        rights, _created = CashierRights.objects.get_or_create(user=user)
        rights.pin_hash = make_password(pin)
        rights.save(update_fields=["pin_hash"])
        audit_record(actor=actor, action="action", obj=rights, verb="pin_set")


def approval_check(
    *,
    shift: Shift,
    approver_username: str,
    pin: str,
    percent: Decimal,
    actor: Any,
    now: dt.datetime | None = None,
) -> Any:
    """A supervisor approves a discount beyond the cashier's limit with their PIN, at the
    window. Returns the approver (the sale records the approval with its order); a wrong name
    or PIN, or a limit below ``percent``, is refused and recorded, and five refusals in ten
    minutes lock approvals of the shift."""
    now = now or timezone.now()
    if shift.status != Shift.Status.OPEN or shift.cashier_id != actor.pk:
        raise NotYourShift(details={"shift": shift.pk})
    refused = ShiftAction.objects.filter(
        shift=shift, kind=ShiftAction.Kind.APPROVAL_REFUSED, at__gte=now - APPROVAL_WINDOW
    ).count()
    if refused >= APPROVAL_TRIES:
        raise ApprovalLocked(details={"shift": shift.pk})
    approver = (
        get_user_model()
        .objects.filter(username=approver_username[:150], is_active=True)
        .select_related("cashier_rights")
        .first()
    )
    rights = getattr(approver, "cashier_rights", None) if approver else None
    ok = (
        approver is not None
        and approver.pk != actor.pk
        and rights is not None
        and bool(rights.pin_hash)
        and check_password(pin[:16], rights.pin_hash)
        and has(approver, "boxoffice.approve_discount")
        and (approver.is_superuser or approver.discount_limit_percent >= percent)
    )
    if not ok:  # call outside the sale's transaction, so that the refusal stays recorded
        ShiftAction.objects.create(
            shift=shift,
            kind=ShiftAction.Kind.APPROVAL_REFUSED,
            percent=percent,
            reason=approver_username[:150],
        )
        raise ApprovalRefused(details={"percent": str(percent)})
    return approver
