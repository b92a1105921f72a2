"""Group bookings by a B2B account's own users (the agency portal at /agency/).

The price comes from the sales engine (``prepare``: channel price, the contract's discount);
the booking is placed and paid from the account's prepaid balance or charged to its credit in
one transaction, so that a refused payment (``prepaid_insufficient``,
``credit_limit_exceeded``) leaves no order behind and holds no places.
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

from admit.catalog.models import Product
from admit.customers.errors import AccountInactive, GuideNotFound
from admit.customers.models import Account, Guide
from admit.customers.selectors import account_id_of
from admit.inventory.models import Pool

from .. import errors
from ..models import Order, PaymentMethod
from ..pricing import Adjustment
from .orders import LineRequest, order_place, prepare
from .payments import order_pay

AGENCY_CHANNEL = "agency"
PAY_FROM = {"prepaid": PaymentMethod.PREPAID, "credit": PaymentMethod.ACCOUNT}


@dataclass(frozen=True)
class QuotedLine:
    product: Product
    date: dt.date
    slot: Pool | None
    quantity: int
    persons: int
    unit_price: Decimal
    base: Decimal
    adjustments: tuple[Adjustment, ...]
    total: Decimal


@dataclass(frozen=True)
class AgencyQuote:
    lines: tuple[QuotedLine, ...]
    subtotal: Decimal
    discount: Decimal
    total: Decimal


def agency_account(actor: Any) -> Account:
    """The active account whose user ``actor`` is, or a refusal."""
    account_id = account_id_of(actor)
    if account_id is None:
        raise errors.AccountNotAllowed(
            _("This login does not book for a travel agency or corporate account."),
            details={"reason": "not_an_account_user"},
        )
    account = Account.objects.get(pk=account_id)
    if not account.is_active:
        raise AccountInactive(details={"account": account.code})
    return account


def agency_quote(
    *,
    actor: Any,
    lines: Sequence[LineRequest],
    contact_name: str | None = None,
    contact_phone: str | None = None,
    guide_licence: str = "",
    now: dt.datetime | None = None,
) -> AgencyQuote:
    """What the account would pay for ``lines`` on the agency channel: checked and priced by
    the sales engine (the contract's products, channels and discount), nothing booked. The
    contact (when given) and the guide are checked as the booking will check them."""
    account = agency_account(actor)
    if contact_name is not None or contact_phone is not None:
        _contact(contact_name or "", contact_phone or "")
    agency_guide(guide_licence)
    prepared = prepare(
        channel=AGENCY_CHANNEL,
        lines=lines,
        actor=actor,
        account_id=account.pk,
        now=now or timezone.now(),
    )
    q = prepared.quote
    return AgencyQuote(
        lines=tuple(
            QuotedLine(
                product=ln.product,
                date=ln.request.date,
                slot=ln.slot if ln.slot is not None and ln.slot.start else None,
                quantity=ln.request.quantity,
                persons=ln.persons,
                unit_price=lq.unit_price,
                base=lq.base,
                adjustments=tuple(lq.adjustments),
                total=lq.total,
            )
            for ln, lq in zip(prepared.lines, q.lines, strict=True)
        ),
        subtotal=q.subtotal,
        discount=q.discount,
        total=q.total,
    )


def _contact(contact_name: str, contact_phone: str) -> tuple[str, str]:
    name, phone = contact_name.strip(), contact_phone.strip()
    if not name or not phone:
        raise errors.ContactRequired(
            details={"missing": [f for f, v in (("name", name), ("phone", phone)) if not v]},
        )
    return name, phone


def agency_guide(licence_number: str) -> Guide | None:
    """The active guide or driver with this licence number (none asked: None)."""
    licence = licence_number.strip().upper()
    if not licence:
        return None
    guide = Guide.objects.filter(licence_number__iexact=licence[:40], is_active=True).first()
    if guide is None:
        raise GuideNotFound(details={"licence": licence[:40]})
    return guide


@transaction.atomic
def agency_book(
    *,
    actor: Any,
    lines: Sequence[LineRequest],
    pay_from: str,
    contact_name: str,
    contact_phone: str,
    guide_licence: str = "",
    expected_total: Decimal | None = None,
    now: dt.datetime | None = None,
) -> Order:
    """Book for the actor's account and pay at once from its prepaid balance (``prepaid``) or
    charge its credit (``credit``). ``expected_total`` is the total the user was shown: if the
    price differs now, nothing is booked (``price_changed``). Any refusal rolls back the whole
    booking."""
    if pay_from not in PAY_FROM:
        raise errors.MethodNotAllowed(details={"method": pay_from[:20]})
    name, phone = _contact(contact_name, contact_phone)
    agency_account(actor)
    guide = agency_guide(guide_licence)
    now = now or timezone.now()
    order = order_place(
        channel=AGENCY_CHANNEL,
        lines=lines,
        actor=actor,
        contact_name=name,
        contact_phone=phone,
        guide=guide,
        now=now,
    )
    if expected_total is not None and order.total != expected_total:
        raise errors.PriceChanged(
            details={"quoted": str(expected_total), "total": str(order.total)},
        )
    if order.status == Order.Status.PENDING:  # a free booking is confirmed when placed
        order_pay(order=order, method=PAY_FROM[pay_from], amount=None, actor=actor, now=now)
        order.status = Order.Status.PAID
    return order
