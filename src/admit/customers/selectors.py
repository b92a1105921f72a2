"""Reads of customers that other apps need."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Sum

from admit.core.versions import RIGHTS, remember

from .errors import ContractMissing
from .models import (
    ZERO,
    Account,
    AccountMember,
    Book,
    Contract,
    LedgerEntry,
    Member,
    PointsEntry,
    RebatePayment,
    RebateStatement,
    Statement,
)


def _account_id(user_id: int) -> int | None:
    return (
        AccountMember.objects.filter(user_id=user_id).values_list("account_id", flat=True).first()
    )


def account_id_of(user: Any) -> int | None:
    """The B2B account a staff user books for, or None for the venue's own staff. Kept in
    memory until staff, rights or accounts change."""
    if user is None or not getattr(user, "pk", None):
        return None
    return remember(RIGHTS, ("account", user.pk), lambda: _account_id(user.pk))


@dataclass(frozen=True)
class Terms:
    """What an account's contract allows on a day, and at which discount."""

    contract: str
    default_percent: Decimal
    products: dict[int, Decimal | None]  # empty: every product
    channels: frozenset[int]  # empty: every channel

    def percent(self, product_id: int) -> Decimal:
        own = self.products.get(product_id)
        return self.default_percent if own is None else own

    def allows(self, *, product_id: int, channel_id: int) -> bool:
        return (not self.products or product_id in self.products) and (
            not self.channels or channel_id in self.channels
        )


def contract_terms(account_id: int, day: dt.date) -> Terms | None:
    """The terms of the account's contract valid on ``day``; None for an account without any
    contract (booked at list prices, as before contracts existed). An account whose contracts
    all ended, or begin later, books nothing (``no_valid_contract``)."""
    contracts = Contract.objects.filter(account_id=account_id, is_active=True)
    if not contracts.exists():
        return None
    contract = (
        contracts.filter(valid_from__lte=day, valid_until__gte=day)
        .order_by("-valid_from")
        .prefetch_related("products", "channels")
        .first()
    )
    if contract is None:
        raise ContractMissing(details={"date": day.isoformat()})
    return Terms(
        contract=contract.number,
        default_percent=contract.discount_percent,
        products={p.product_id: p.discount_percent for p in contract.products.all()},
        channels=frozenset(c.pk for c in contract.channels.all()),
    )


def member_of(*, phone: str = "", number: str = "") -> Member | None:
    """An active member by phone or member number."""
    from .origin import normalize_phone

    if number:
        return Member.objects.select_related("level").filter(number=number, is_active=True).first()
    normalized = normalize_phone(phone or "")
    if normalized is None:
        return None
    return Member.objects.select_related("level").filter(phone=normalized, is_active=True).first()


def ledger_problems() -> list[str]:
    """Accounts, members and statements (settlement and rebate) whose running figures differ
    from their ledgers."""
    problems: list[str] = []
    # Quantized: SQLite sums decimals as floats, so a long ledger that nets to 0 can sum to
    # 2e-13 there.
    sums = {
        (row["account"], row["book"]): Decimal(row["s"] or 0).quantize(Decimal("0.01"))
        for row in LedgerEntry.objects.values("account", "book").annotate(s=Sum("amount"))
    }
    for a in Account.objects.all():
        prepaid = sums.get((a.pk, Book.PREPAID)) or ZERO
        credit = sums.get((a.pk, Book.CREDIT)) or ZERO
        if prepaid != a.prepaid_balance:
            problems.append(f"account {a.code}: prepaid {a.prepaid_balance}, ledger {prepaid}")
        if credit != a.credit_used:
            problems.append(f"account {a.code}: credit used {a.credit_used}, ledger {credit}")
        if a.prepaid_balance < 0 or a.credit_used < 0:
            problems.append(f"account {a.code}: negative figure")
    points = dict(PointsEntry.objects.values_list("member").annotate(s=Sum("points")))
    for m in Member.objects.all():
        if (points.get(m.pk) or 0) != m.points:
            problems.append(f"member {m.number}: points {m.points}, ledger {points.get(m.pk)}")
    paid = dict(
        LedgerEntry.objects.exclude(statement=None)
        .values_list("statement")
        .annotate(s=Sum("amount"))
    )
    for s in Statement.objects.all():
        if -(paid.get(s.pk) or ZERO) != s.paid:
            problems.append(f"statement {s.number}: paid {s.paid}, ledger {-(paid.get(s.pk) or 0)}")
        if s.charged - s.refunded != s.due:
            problems.append(f"statement {s.number}: charged − refunded ≠ due")
    paid_out = dict(RebatePayment.objects.values_list("statement").annotate(s=Sum("amount")))
    for r in RebateStatement.objects.all():
        if (paid_out.get(r.pk) or ZERO) != r.paid:
            problems.append(
                f"rebate statement {r.pk}: paid {r.paid}, payments {paid_out.get(r.pk)}"
            )
        if r.paid > max(r.rebate, ZERO) or (r.status == r.Status.PAID) != (r.paid_at is not None):
            problems.append(f"rebate statement {r.pk}: paid {r.paid} of {r.rebate}, {r.status}")
    return problems
