"""B2B accounts (balances, ledger, top-ups, statements), members and points, guides, and
visitor origin over the HTTP API. An account's own users see only their own account."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema, Status
from pydantic import Field

from admit.accounts.rights import require
from admit.core.idempotency import fingerprint, run_idempotent
from admit.core.money import CURRENCY, money_str

from . import errors, services
from .models import (
    Account,
    Guide,
    LedgerEntry,
    Member,
    MemberLevel,
    RebatePayment,
    RebateStatement,
    Statement,
)
from .origin import origin_of
from .selectors import account_id_of

router = Router(tags=["customers"])


class AmountIn(Schema):
    amount: Decimal = Field(max_digits=12, decimal_places=2)
    reference: str = Field("", max_length=100)


class RebatePaymentIn(AmountIn):
    method: str = Field(max_length=16, examples=["transfer", "cash", "wechat", "alipay"])


class PeriodIn(Schema):
    period_start: dt.date
    period_end: dt.date


class MemberIn(Schema):
    name: str = Field(max_length=100)
    phone: str = Field(max_length=32)
    id_number: str = Field("", max_length=40)
    level: str | None = Field(None, max_length=40, description="Level code")


class RedeemIn(Schema):
    points: int = Field(ge=-(2**31), le=2**31)
    reason: str = Field("", max_length=200)


class GuideIn(Schema):
    name: str = Field(max_length=100)
    licence_number: str = Field(max_length=40)
    phone: str = Field("", max_length=32)
    kind: str = Field("guide", max_length=16, examples=["guide", "driver"])
    account: str | None = Field(None, max_length=40, description="Agency code")


def once(
    request: HttpRequest,
    user: Any,
    what: str,
    payload: Any,
    fn: Callable[[], Any],
    status: int = 201,
) -> Any:
    """Answer a write once per ``Idempotency-Key``: a repeat gets the first answer."""
    code, body = run_idempotent(
        scope=f"user:{user.pk}",
        key=request.headers.get("Idempotency-Key"),
        fp=fingerprint(what, payload.dict() if payload is not None else {}),
        fn=lambda: (status, fn()),
    )
    return Status(code, body)


def _account(
    request: HttpRequest, code: str, perm: str, *, own_may_read: bool = False
) -> tuple[Any, Account]:
    """The account named by ``code``. The venue's staff need ``perm``; an account's own user
    reaches only their own account, and only to read it (another's is "not found")."""
    user = require(request)
    own = account_id_of(user)
    account = Account.objects.filter(code=code[:40]).first()
    if account is None or (own is not None and (own != account.pk or not own_may_read)):
        raise errors.AccountNotFound(details={"account": code[:40]})
    if own is None:
        require(request, perm)
    return user, account


def account_out(a: Account) -> dict[str, Any]:
    return {
        "code": a.code,
        "name": a.name,
        "kind": a.kind,
        "active": a.is_active,
        "credit_limit": money_str(a.credit_limit),
        "credit_used": money_str(a.credit_used),
        "credit_available": money_str(a.credit_available),
        "prepaid_balance": money_str(a.prepaid_balance),
        "currency": CURRENCY,
    }


def entry_out(e: LedgerEntry) -> dict[str, Any]:
    return {
        "id": e.pk,
        "book": e.book,
        "kind": e.kind,
        "amount": money_str(e.amount),
        "balance_after": money_str(e.balance_after),
        "order": e.order.code if e.order_id and e.order else None,
        "statement": e.statement_id,
        "reference": e.reference,
        "at": e.at.isoformat(),
    }


def statement_out(s: Statement) -> dict[str, Any]:
    return {
        "number": s.number,
        "account": s.account.code,
        "period_start": s.period_start.isoformat(),
        "period_end": s.period_end.isoformat(),
        "orders": s.orders,
        "charged": money_str(s.charged),
        "refunded": money_str(s.refunded),
        "due": money_str(s.due),
        "paid": money_str(s.paid),
        "outstanding": money_str(s.outstanding),
        "status": s.status,
        "currency": CURRENCY,
    }


@router.get("/accounts/{code}", response=dict, summary="A B2B account with its balances")
def account_get(request: HttpRequest, code: str) -> Any:
    _user, account = _account(request, code, "customers.view_account", own_may_read=True)
    return account_out(account)


@router.get("/accounts/{code}/ledger", response=dict, summary="An account's ledger, latest first")
def account_ledger(request: HttpRequest, code: str, book: str = "", limit: int = 100) -> Any:
    _user, account = _account(request, code, "customers.view_account", own_may_read=True)
    rows = LedgerEntry.objects.filter(account=account).select_related("order").order_by("-id")
    if book:
        rows = rows.filter(book=book[:16])
    return {
        "account": account_out(account),
        "entries": [entry_out(e) for e in rows[: max(1, min(limit, 500))]],
    }


@router.post(
    "/accounts/{code}/topups",
    response={201: dict},
    summary="Record money received into an account's prepaid balance",
)
def account_topup(request: HttpRequest, code: str, payload: AmountIn) -> Any:
    user, account = _account(request, code, "customers.record_topup")

    def topup() -> dict[str, Any]:
        entry = services.account_topup(
            account=account, amount=payload.amount, reference=payload.reference, actor=user
        )
        account.refresh_from_db()
        return {"entry": entry_out(entry), "account": account_out(account)}

    return once(request, user, f"topup {account.code}", payload, topup)


@router.get("/accounts/{code}/statements", response=list[dict], summary="Settlement statements")
def statements_list(request: HttpRequest, code: str) -> Any:
    _user, account = _account(request, code, "customers.view_statement", own_may_read=True)
    return [statement_out(s) for s in account.statements.select_related("account")]


@router.post(
    "/accounts/{code}/statements",
    response={201: dict},
    summary="Issue the credit statement of an ended period",
)
def statement_issue(request: HttpRequest, code: str, payload: PeriodIn) -> Any:
    user, account = _account(request, code, "customers.add_statement")

    def issue() -> dict[str, Any]:
        statement = services.statement_issue(
            account=account,
            period_start=payload.period_start,
            period_end=payload.period_end,
            actor=user,
        )
        return statement_out(statement)

    return once(request, user, f"statement {account.code}", payload, issue)


@router.post(
    "/statements/{number}/payments",
    response={201: dict},
    summary="Record a payment received against a statement",
)
def statement_payment(request: HttpRequest, number: str, payload: AmountIn) -> Any:
    user = require(request, "customers.change_statement")
    statement = None
    if account_id_of(user) is None:  # an account's own users record no payments
        statement = Statement.objects.select_related("account").filter(number=number[:40]).first()
    if statement is None:
        raise errors.StatementNotFound(details={"statement": number[:40]})

    def paid() -> dict[str, Any]:
        entry = services.statement_pay(
            statement=statement, amount=payload.amount, reference=payload.reference, actor=user
        )
        statement.refresh_from_db()
        return {"entry": entry_out(entry), "statement": statement_out(statement)}

    return once(request, user, f"statement payment {statement.number}", payload, paid)


# --- Members --------------------------------------------------------------------------------


def member_out(m: Member) -> dict[str, Any]:
    where = origin_of(id_numbers=[m.id_number] if m.id_number else [], phone=m.phone)
    return {
        "number": m.number,
        "name": m.name,
        "phone": m.phone,
        "level": m.level.code if m.level else None,
        "points": m.points,
        "province": where.province_name,
        "city": where.city_name,
        "active": m.is_active,
        "passes": [
            {
                "number": p.number,
                "product": p.product_id,
                "status": p.status,
                "valid_from": p.valid_from.isoformat(),
                "valid_until": p.valid_until.isoformat(),
            }
            for p in m.passes.all()
        ],
    }


def _member(request: HttpRequest, number: str, *perms: str) -> tuple[Any, Member]:
    """The member named by ``number``; to an account's own user, as if there were none."""
    user = require(request, *perms)
    member = None
    if account_id_of(user) is None:
        member = Member.objects.select_related("level").filter(number=number[:20]).first()
    if member is None:
        raise errors.MemberNotFound(details={"member": number[:20]})
    return user, member


@router.post("/members", response={201: dict}, summary="Register a member")
def member_register(request: HttpRequest, payload: MemberIn) -> Any:
    user = require(request, "customers.add_member")
    level = None
    if payload.level:
        level = MemberLevel.objects.filter(code=payload.level).first()
        if level is None:
            raise errors.LevelNotFound(details={"level": payload.level})
    return once(
        request,
        user,
        "member",
        payload,
        lambda: member_out(
            services.member_register(
                name=payload.name,
                phone=payload.phone,
                id_number=payload.id_number,
                level=level,
                actor=user,
            )
        ),
    )


@router.get("/members/{number}", response=dict, summary="A member with points and passes")
def member_get(request: HttpRequest, number: str) -> Any:
    _user, member = _member(request, number, "customers.view_member")
    return member_out(member)


@router.post("/members/{number}/redemptions", response={201: dict}, summary="Redeem points")
def member_redeem(request: HttpRequest, number: str, payload: RedeemIn) -> Any:
    user, member = _member(request, number, "customers.change_member")

    def redeem() -> dict[str, Any]:
        entry = services.points_redeem(
            member=member, points=payload.points, reason=payload.reason, actor=user
        )
        return {"points": entry.points, "balance": entry.balance_after}

    return once(request, user, f"redeem {member.number}", payload, redeem)


# --- Guides ---------------------------------------------------------------------------------


def guide_out(g: Guide) -> dict[str, Any]:
    return {
        "licence_number": g.licence_number,
        "name": g.name,
        "kind": g.kind,
        "phone": g.phone,
        "agency": g.account.code if g.account else None,
        "points": g.points,
        "active": g.is_active,
    }


@router.post("/guides", response={201: dict}, summary="Register a guide or driver")
def guide_register(request: HttpRequest, payload: GuideIn) -> Any:
    user = require(request, "customers.add_guide")
    own = account_id_of(user)
    account = None
    if payload.account:
        account = Account.objects.filter(code=payload.account).first()
        if account is None or (own is not None and account.pk != own):
            raise errors.AccountNotFound(details={"account": payload.account})
    elif own is not None:
        account = Account.objects.get(pk=own)
    return once(
        request,
        user,
        "guide",
        payload,
        lambda: guide_out(
            services.guide_register(
                name=payload.name,
                licence_number=payload.licence_number,
                phone=payload.phone,
                kind=payload.kind,
                account=account,
                actor=user,
            )
        ),
    )


def _guide(request: HttpRequest, licence: str, perm: str) -> Guide:
    """The guide with ``licence``; an agency's own users reach only the agency's guides."""
    user = require(request, perm)
    guide = (
        Guide.objects.select_related("account").filter(licence_number=licence[:40].upper()).first()
    )
    own = account_id_of(user)
    if guide is None or (own is not None and guide.account_id != own):
        raise errors.GuideNotFound(details={"licence": licence[:40]})
    return guide


@router.get("/guides/{licence}", response=dict, summary="A guide or driver with their points")
def guide_get(request: HttpRequest, licence: str) -> Any:
    return guide_out(_guide(request, licence, "customers.view_guide"))


def rebate_statement_out(s: RebateStatement) -> dict[str, Any]:
    return {
        "id": s.pk,
        "guide": s.guide.licence_number,
        "period_start": s.period_start.isoformat(),
        "period_end": s.period_end.isoformat(),
        "orders": s.orders,
        "visitors": s.visitors,
        "rebate": money_str(s.rebate),
        "paid": money_str(s.paid),
        "outstanding": money_str(s.outstanding),
        "status": s.status,
        "paid_at": s.paid_at.isoformat() if s.paid_at else None,
        "currency": CURRENCY,
    }


def rebate_payment_out(p: RebatePayment) -> dict[str, Any]:
    return {
        "id": p.pk,
        "amount": money_str(p.amount),
        "method": p.method,
        "reference": p.reference,
        "at": p.at.isoformat(),
        "currency": CURRENCY,
    }


@router.get(
    "/guides/{licence}/rebate-statements",
    response=list[dict],
    summary="A guide's or driver's rebate statements, latest first",
)
def rebate_statements_list(request: HttpRequest, licence: str) -> Any:
    guide = _guide(request, licence, "customers.view_rebatestatement")
    return [rebate_statement_out(s) for s in guide.statements.select_related("guide")]


@router.post(
    "/rebate-statements/{statement_id}/payments",
    response={201: dict},
    summary="Pay out a rebate statement, wholly or in part",
)
def rebate_statement_payment(
    request: HttpRequest, statement_id: int, payload: RebatePaymentIn
) -> Any:
    user = require(request, "customers.change_rebatestatement")
    statement = None
    if account_id_of(user) is None and 0 < statement_id < 2**63:  # agencies pay out nothing
        statement = RebateStatement.objects.select_related("guide").filter(pk=statement_id).first()
    if statement is None:
        raise errors.RebateStatementNotFound(details={"statement": statement_id})
    key = request.headers.get("Idempotency-Key") or ""

    def paid() -> dict[str, Any]:
        payment = services.rebate_statement_pay(
            statement=statement,
            amount=payload.amount,
            method=payload.method,
            reference=payload.reference,
            key=key,
            actor=user,
        )
        return {
            "payment": rebate_payment_out(payment),
            "statement": rebate_statement_out(statement),
        }

    return once(request, user, f"rebate payment {statement.pk}", payload, paid)


@router.get("/origin", response=dict, summary="Where a visitor comes from (ID number or phone)")
def origin(request: HttpRequest, id_number: str = "", phone: str = "") -> Any:
    require(request, "sales.view_order")
    where = origin_of(id_numbers=[id_number[:40]] if id_number else [], phone=phone[:32])
    return {
        "province": where.province or None,
        "province_name": where.province_name or None,
        "city": where.city or None,
        "city_name": where.city_name or None,
        "source": where.source or None,
    }
