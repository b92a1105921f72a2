"""Writes of customers. Every save is validated and audited; money and points move through
append-only ledgers, each movement one conditional UPDATE of the running figure plus its row,
in the caller's transaction."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, F, Q, Sum
from django.utils import timezone

from admit.core import hooks, prc_id
from admit.core.codes import random_code
from admit.core.errors import ValidationFailed
from admit.core.idempotency import IdempotencyKeyReused
from admit.core.services import actor_label, audit_record, model_save

from . import errors
from .models import (
    ZERO,
    Account,
    AccountMember,
    Book,
    Contract,
    Guide,
    GuideCredit,
    GuideRule,
    LedgerEntry,
    Member,
    MemberLevel,
    PointsEntry,
    RebatePayment,
    RebateStatement,
    Statement,
)
from .origin import normalize_phone, origin_of

Kind = LedgerEntry.Kind


def account_save(
    *, instance: Account, actor: Any, m2m: Mapping[str, Iterable[Any]] | None = None
) -> Account:
    return model_save(instance=instance, actor=actor, m2m=m2m)


def account_member_save(
    *, instance: AccountMember, actor: Any, m2m: Mapping[str, Iterable[Any]] | None = None
) -> AccountMember:
    return model_save(instance=instance, actor=actor, m2m=m2m)


def contract_save(
    *, instance: Contract, actor: Any, m2m: Mapping[str, Iterable[Any]] | None = None
) -> Contract:
    return model_save(instance=instance, actor=actor, m2m=m2m)


# --- Ledgers ------------------------------------------------------------------------------------


def _move(
    *,
    account_id: int,
    book: str,
    kind: str,
    amount: Decimal,
    actor: Any,
    order_id: int | None = None,
    statement_id: int | None = None,
    reference: str = "",
) -> LedgerEntry:
    """Change one book's figure by ``amount`` with one conditional UPDATE (never below zero,
    credit never beyond the limit), then append the ledger row. The caller's transaction holds
    the account row from the UPDATE to its end, so ``balance_after`` is exact."""
    rows = Account.objects.filter(pk=account_id)
    if book == Book.PREPAID:
        if amount < 0:
            rows = rows.filter(prepaid_balance__gte=-amount)
        changed = rows.update(prepaid_balance=F("prepaid_balance") + amount)
        if not changed:
            raise errors.PrepaidInsufficient(details={"amount": str(-amount)})
    else:
        if amount > 0 and kind == Kind.CHARGE:
            rows = rows.filter(credit_used__lte=F("credit_limit") - amount)
        elif amount < 0:
            rows = rows.filter(credit_used__gte=-amount)
        changed = rows.update(credit_used=F("credit_used") + amount)
        if not changed:
            if kind == Kind.CHARGE:
                raise errors.CreditLimitExceeded(details={"amount": str(amount)})
            raise errors.StatementOverpaid(details={"amount": str(-amount)})
    field = "prepaid_balance" if book == Book.PREPAID else "credit_used"
    after = Account.objects.filter(pk=account_id).values_list(field, flat=True).get()
    entry = LedgerEntry.objects.create(
        account_id=account_id,
        book=book,
        kind=kind,
        amount=amount,
        balance_after=after,
        order_id=order_id,
        statement_id=statement_id,
        reference=reference[:100],
        actor_label=actor_label(actor)[:150],
    )
    hooks.publish(hooks.LEDGER_RECORDED, entry=entry)
    return entry


def _positive(amount: Decimal) -> Decimal:
    if not isinstance(amount, Decimal) or amount <= 0 or amount > Decimal("99999999.99"):
        raise ValidationFailed(code="invalid_amount", details={"amount": str(amount)[:40]})
    if amount != amount.quantize(Decimal("0.01")):
        raise ValidationFailed(code="invalid_amount", details={"amount": str(amount)[:40]})
    return amount


@transaction.atomic
def account_topup(
    *, account: Account, amount: Decimal, reference: str = "", actor: Any
) -> LedgerEntry:
    """Money received into an account's prepaid balance (预存款充值)."""
    entry = _move(
        account_id=account.pk,
        book=Book.PREPAID,
        kind=Kind.TOPUP,
        amount=_positive(amount),
        actor=actor,
        reference=reference,
    )
    audit_record(
        actor=actor,
        action="action",
        obj=account,
        verb="prepaid_topup",
        after={"amount": str(amount), "balance": str(entry.balance_after), "ref": reference},
    )
    return entry


def account_draw(
    *, account_id: int, book: str, amount: Decimal, order_id: int, actor: Any
) -> LedgerEntry:
    """A booking paid from the prepaid balance or charged to credit (in the caller's
    transaction, which also records the payment)."""
    if not Account.objects.filter(pk=account_id, is_active=True).exists():
        raise errors.AccountInactive(details={"account": account_id})
    if book == Book.PREPAID:
        return _move(
            account_id=account_id,
            book=book,
            kind=Kind.DRAW,
            amount=-_positive(amount),
            actor=actor,
            order_id=order_id,
        )
    return _move(
        account_id=account_id,
        book=Book.CREDIT,
        kind=Kind.CHARGE,
        amount=_positive(amount),
        actor=actor,
        order_id=order_id,
    )


def account_refund(
    *, account_id: int, book: str, amount: Decimal, order_id: int, actor: Any
) -> list[LedgerEntry]:
    """Money of a refunded booking goes back where it came from. A credit charge refunded after
    the account has already settled it (it owes less than the refund) lowers what it owes to
    zero, and the rest becomes prepaid money of the account: nothing is lost, no figure goes
    negative. In the caller's transaction."""
    amount = _positive(amount)
    if book == Book.PREPAID:
        back, rest = ZERO, amount
    else:
        owed = (
            Account.objects.select_for_update()
            .filter(pk=account_id)
            .values_list("credit_used", flat=True)
            .get()
        )
        back = min(amount, owed)
        rest = amount - back
    entries = []
    if back > 0:
        entries.append(
            _move(
                account_id=account_id,
                book=Book.CREDIT,
                kind=Kind.REFUND,
                amount=-back,
                actor=actor,
                order_id=order_id,
            )
        )
    if rest > 0:
        entries.append(
            _move(
                account_id=account_id,
                book=Book.PREPAID,
                kind=Kind.REFUND,
                amount=rest,
                actor=actor,
                order_id=order_id,
                reference="" if book == Book.PREPAID else "credit already settled",
            )
        )
    return entries


def _local_bounds(start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    tz = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    return (
        dt.datetime.combine(start, dt.time.min, tzinfo=tz),
        dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, tzinfo=tz),
    )


def statement_figures(
    *, account_id: int, period_start: dt.date, period_end: dt.date
) -> dict[str, Any]:
    """What an account's credit ledger says for a period: orders, charged, refunded, due."""
    lo, hi = _local_bounds(period_start, period_end)
    rows = LedgerEntry.objects.filter(
        account_id=account_id, book=Book.CREDIT, at__gte=lo, at__lt=hi
    )
    sums = rows.aggregate(
        charged=Sum("amount", filter=Q(kind=Kind.CHARGE)),
        refunded=Sum("amount", filter=Q(kind=Kind.REFUND)),
        orders=Count("order", distinct=True, filter=Q(kind__in=[Kind.CHARGE, Kind.REFUND])),
    )
    charged = sums["charged"] or ZERO
    refunded = -(sums["refunded"] or ZERO)
    return {
        "orders": sums["orders"] or 0,
        "charged": charged,
        "refunded": refunded,
        "due": charged - refunded,
    }


@transaction.atomic
def statement_issue(
    *,
    account: Account,
    period_start: dt.date,
    period_end: dt.date,
    actor: Any,
    today: dt.date | None = None,
) -> Statement:
    """Fix an account's credit statement for a period that has ended (结算单)."""
    today = today or timezone.localdate()
    if period_end < period_start or period_end >= today:
        raise errors.PeriodInvalid(
            details={"from": period_start.isoformat(), "until": period_end.isoformat()}
        )
    Account.objects.select_for_update().filter(pk=account.pk).get()  # statements queue here
    if Statement.objects.filter(
        account=account, period_start__lte=period_end, period_end__gte=period_start
    ).exists():
        raise errors.StatementOverlap(details={"from": period_start.isoformat()})
    figures = statement_figures(
        account_id=account.pk, period_start=period_start, period_end=period_end
    )
    statement = Statement.objects.create(
        account=account,
        number=f"ST{period_start:%Y%m%d}-{account.code.upper()[:12]}-{random_code(4)}",
        period_start=period_start,
        period_end=period_end,
        issued_by=actor_label(actor)[:150],
        **figures,
    )
    if statement.due == 0:
        Statement.objects.filter(pk=statement.pk).update(status=Statement.Status.SETTLED)
        statement.status = Statement.Status.SETTLED
    audit_record(
        actor=actor,
        action="create",
        obj=statement,
        verb="statement_issued",
        after={k: str(v) for k, v in figures.items()},
    )
    return statement


@transaction.atomic
def statement_pay(
    *, statement: Statement, amount: Decimal, reference: str = "", actor: Any
) -> LedgerEntry:
    """Money received against a statement: it lowers what the account owes on credit."""
    amount = _positive(amount)
    changed = Statement.objects.filter(pk=statement.pk, paid__lte=F("due") - amount).update(
        paid=F("paid") + amount
    )
    if not changed:
        raise errors.StatementOverpaid(details={"outstanding": str(statement.outstanding)})
    Statement.objects.filter(pk=statement.pk, paid=F("due")).update(status=Statement.Status.SETTLED)
    entry = _move(
        account_id=statement.account_id,
        book=Book.CREDIT,
        kind=Kind.REPAY,
        amount=-amount,
        actor=actor,
        statement_id=statement.pk,
        reference=reference,
    )
    statement.refresh_from_db()
    audit_record(
        actor=actor,
        action="action",
        obj=statement,
        verb="statement_paid",
        after={"amount": str(amount), "paid": str(statement.paid), "ref": reference},
    )
    return entry


# --- Members ------------------------------------------------------------------------------------


def _phone(value: str) -> str:
    phone = normalize_phone(value or "")
    if phone is None:
        raise errors.PhoneInvalid(details={"phone": (value or "")[:32]})
    return phone


def _resident_id(value: str) -> str | None:
    if not (value or "").strip():
        return None
    text = prc_id.normalize(value)
    try:
        prc_id.parse_resident_id(text)
    except ValueError as exc:
        raise errors.IdNumberInvalid(details={"id_number": text[:4] + "…"}) from exc
    return text


@transaction.atomic
def member_register(
    *,
    name: str,
    phone: str,
    id_number: str = "",
    level: MemberLevel | None = None,
    photo: str = "",
    actor: Any,
) -> Member:
    """Register a member (会员): a valid phone, optionally a resident ID; where they come from is
    derived from the ID, or from the phone without one."""
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise ValidationFailed(code="invalid_name", details={"name": name[:20]})
    phone_n = _phone(phone)
    id_n = _resident_id(id_number)
    if Member.objects.filter(
        Q(phone=phone_n) | (Q(id_number=id_n) if id_n else Q(pk=None))
    ).exists():
        raise errors.MemberExists()
    where = origin_of(id_numbers=[id_n] if id_n else [], phone=phone_n)
    member = Member(
        number="M" + random_code(9),
        name=name,
        phone=phone_n,
        id_number=id_n,
        level=level,
        photo=photo,
        province=where.province,
        city=where.city,
    )
    try:
        with transaction.atomic():
            return model_save(instance=member, actor=actor, verb="member_registered")
    except IntegrityError as exc:  # registered by someone else meanwhile
        raise errors.MemberExists() from exc


def member_save(*, instance: Member, actor: Any) -> Member:
    instance.phone = _phone(instance.phone)
    instance.id_number = _resident_id(instance.id_number or "")
    where = origin_of(
        id_numbers=[instance.id_number] if instance.id_number else [], phone=instance.phone
    )
    instance.province, instance.city = where.province, where.city
    return model_save(instance=instance, actor=actor)


def member_level_save(*, instance: MemberLevel, actor: Any) -> MemberLevel:
    return model_save(instance=instance, actor=actor)


def _points(
    *, member_id: int, kind: str, points: int, order_id: int | None, reason: str, actor: Any
) -> PointsEntry:
    rows = Member.objects.filter(pk=member_id)
    if points < 0:
        rows = rows.filter(points__gte=-points)
    if not rows.update(points=F("points") + points):
        raise errors.PointsInsufficient(details={"points": -points})
    after = Member.objects.filter(pk=member_id).values_list("points", flat=True).get()
    return PointsEntry.objects.create(
        member_id=member_id,
        kind=kind,
        points=points,
        balance_after=after,
        order_id=order_id,
        reason=reason[:200],
        actor_label=actor_label(actor)[:150],
    )


def points_earn(*, member_id: int, spent: Decimal, order_id: int, actor: Any) -> PointsEntry | None:
    """Points for money spent, at the member's level's rate (whole points, rounded down)."""
    rate = (
        Member.objects.filter(pk=member_id).values_list("level__points_per_yuan", flat=True).get()
    )
    points = int(spent * (rate if rate is not None else Decimal(1)))
    if points <= 0:
        return None
    return _points(
        member_id=member_id,
        kind=PointsEntry.Kind.EARN,
        points=points,
        order_id=order_id,
        reason="",
        actor=actor,
    )


def points_reverse(
    *, member_id: int, refunded: Decimal, order_id: int, actor: Any
) -> PointsEntry | None:
    """A refund takes back the points its money earned, as far as the member still has them."""
    earned = (
        PointsEntry.objects.filter(member_id=member_id, order_id=order_id).aggregate(
            s=Sum("points")
        )["s"]
        or 0
    )
    rate = (
        Member.objects.filter(pk=member_id).values_list("level__points_per_yuan", flat=True).get()
    )
    points = min(int(refunded * (rate if rate is not None else Decimal(1))), earned)
    held = Member.objects.filter(pk=member_id).values_list("points", flat=True).get()
    points = min(points, held)
    if points <= 0:
        return None
    return _points(
        member_id=member_id,
        kind=PointsEntry.Kind.REVERSE,
        points=-points,
        order_id=order_id,
        reason="refund",
        actor=actor,
    )


@transaction.atomic
def points_redeem(*, member: Member, points: int, reason: str, actor: Any) -> PointsEntry:
    """Redeem points (for a gift or a service at the venue); never below zero."""
    if not isinstance(points, int) or isinstance(points, bool) or not 0 < points <= 10**8:
        raise ValidationFailed(code="invalid_points", details={"points": str(points)[:20]})
    return _points(
        member_id=member.pk,
        kind=PointsEntry.Kind.REDEEM,
        points=-points,
        order_id=None,
        reason=reason,
        actor=actor,
    )


# --- Guides -------------------------------------------------------------------------------------


@transaction.atomic
def guide_register(
    *,
    name: str,
    licence_number: str,
    phone: str = "",
    kind: str = Guide.Kind.GUIDE,
    account: Account | None = None,
    actor: Any,
) -> Guide:
    licence = (licence_number or "").strip().upper()
    if not 4 <= len(licence) <= 40 or not all(c.isalnum() or c == "-" for c in licence):
        raise ValidationFailed(code="invalid_licence", details={"licence": licence[:40]})
    if kind not in Guide.Kind.values:
        raise ValidationFailed(code="invalid_kind", details={"kind": str(kind)[:20]})
    if Guide.objects.filter(licence_number=licence).exists():
        raise errors.GuideExists(details={"licence": licence})
    guide = Guide(
        kind=kind,
        licence_number=licence,
        name=(name or "").strip()[:100],
        phone=_phone(phone) if phone else "",
        account=account,
    )
    return model_save(instance=guide, actor=actor, verb="guide_registered")


def guide_save(*, instance: Guide, actor: Any) -> Guide:
    return model_save(instance=instance, actor=actor)


def guide_rule_save(*, instance: GuideRule, actor: Any) -> GuideRule:
    return model_save(instance=instance, actor=actor)


def guide_credit(
    *, guide_id: int, site_id: int, order_id: int, visitors: int
) -> GuideCredit | None:
    """Points and rebate for visitors a guide brought (negative visitors: given back on a
    refund). In the caller's transaction."""
    kind = Guide.objects.filter(pk=guide_id).values_list("kind", flat=True).get()
    rule = GuideRule.objects.filter(site_id=site_id, kind=kind).first()
    if rule is None or visitors == 0:
        return None
    points = rule.points_per_visitor * visitors
    credit = GuideCredit.objects.create(
        guide_id=guide_id,
        order_id=order_id,
        visitors=visitors,
        points=points,
        rebate=rule.rebate_per_visitor * visitors,
    )
    if points:
        Guide.objects.filter(pk=guide_id).update(points=F("points") + points)
    return credit


@transaction.atomic
def rebate_statement_issue(
    *, guide: Guide, period_start: dt.date, period_end: dt.date, actor: Any
) -> RebateStatement:
    """A guide's rebate statement for an ended period, from their credits."""
    if period_end < period_start or period_end >= timezone.localdate():
        raise errors.PeriodInvalid()
    Guide.objects.select_for_update().filter(pk=guide.pk).get()
    # A void statement covers nothing: its period can be issued again, correctly.
    if (
        RebateStatement.objects.filter(
            guide=guide, period_start__lte=period_end, period_end__gte=period_start
        )
        .exclude(status=RebateStatement.Status.VOID)
        .exists()
    ):
        raise errors.StatementOverlap()
    lo, hi = _local_bounds(period_start, period_end)
    sums = GuideCredit.objects.filter(guide=guide, at__gte=lo, at__lt=hi).aggregate(
        v=Sum("visitors"), r=Sum("rebate"), o=Count("order", distinct=True)
    )
    statement = RebateStatement.objects.create(
        guide=guide,
        period_start=period_start,
        period_end=period_end,
        orders=sums["o"] or 0,
        visitors=sums["v"] or 0,
        rebate=sums["r"] or ZERO,
    )
    if statement.rebate <= 0:  # nothing to pay out
        statement.status, statement.paid_at = RebateStatement.Status.PAID, statement.issued_at
        statement.save(update_fields=["status", "paid_at"])
    audit_record(
        actor=actor,
        action="create",
        obj=statement,
        verb="rebate_statement_issued",
        after={"visitors": statement.visitors, "rebate": str(statement.rebate)},
    )
    return statement


@transaction.atomic
def rebate_statement_pay(
    *,
    statement: RebateStatement,
    amount: Decimal,
    method: str,
    reference: str = "",
    key: str = "",
    actor: Any,
) -> RebatePayment:
    """Pay out a guide's rebate statement (返利支付), at once or in parts: never more than it
    still has to pay out, nothing against a void one; paid in full, it is paid.

    ``key`` makes the payment idempotent: the same key again (a double submit, a retried
    request) returns the first payment and pays nothing more; with another amount, method or
    reference it is refused (``idempotency_key_reused``)."""
    amount = _positive(amount)
    if method not in RebatePayment.Method.values:
        raise ValidationFailed(code="invalid_method", details={"method": str(method)[:16]})
    reference = (reference or "").strip()[:100]
    key = (key or "").strip()
    if len(key) > 200:
        raise ValidationFailed(code="invalid_idempotency_key", details={"max": 200})
    # Payments of one statement queue on its row: each check below sees what the last wrote.
    locked = RebateStatement.objects.select_for_update().get(pk=statement.pk)
    if key:
        earlier = RebatePayment.objects.filter(statement=locked, key=key).first()
        if earlier is not None:
            if (earlier.amount, earlier.method, earlier.reference) != (amount, method, reference):
                raise IdempotencyKeyReused(details={"key": key})
            statement.refresh_from_db()
            return earlier
    if locked.status == RebateStatement.Status.VOID:
        raise errors.RebateStatementVoid(details={"statement": locked.pk})
    if amount > locked.outstanding:
        raise errors.RebateOverpaid(
            details={"amount": str(amount), "outstanding": str(locked.outstanding)}
        )
    paid = locked.paid + amount
    settled = paid == locked.rebate
    RebateStatement.objects.filter(pk=locked.pk).update(
        paid=paid,
        status=RebateStatement.Status.PAID if settled else RebateStatement.Status.OPEN,
        paid_at=timezone.now() if settled else None,
    )
    payment = RebatePayment.objects.create(
        statement=locked,
        amount=amount,
        method=method,
        reference=reference,
        key=key or None,
        actor_label=actor_label(actor)[:150],
    )
    audit_record(
        actor=actor,
        action="action",
        obj=locked,
        verb="rebate_statement_paid",
        after={"amount": str(amount), "method": method, "paid": str(paid), "ref": reference},
    )
    statement.refresh_from_db()
    return payment


@transaction.atomic
def rebate_statement_void(
    *, statement: RebateStatement, reason: str, actor: Any
) -> RebateStatement:
    """Void a rebate statement issued in error, before anything is paid against it. Its period
    is free again: the right statement can then be issued for it. Voiding a void one changes
    nothing."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(code="reason_required", details={"reason": ""})
    locked = RebateStatement.objects.select_for_update().get(pk=statement.pk)
    if locked.status != RebateStatement.Status.VOID:
        if locked.paid > 0:
            raise errors.RebateStatementHasPayments(details={"paid": str(locked.paid)})
        before = locked.status
        RebateStatement.objects.filter(pk=locked.pk).update(status=RebateStatement.Status.VOID)
        audit_record(
            actor=actor,
            action="action",
            obj=locked,
            verb="rebate_statement_voided",
            before={"status": before},
            after={"status": RebateStatement.Status.VOID, "reason": reason[:200]},
        )
    statement.refresh_from_db()
    return statement
