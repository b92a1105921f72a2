"""Issuing and ending tickets. Sales tells this app what to issue or end; nothing else does."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django.db.models import Q
from django.utils import timezone

from admit.catalog.models import Product
from admit.core.codes import random_code

from . import codec
from .keys import signer
from .models import Ticket

SERIAL_LENGTH = 12


def validity_window(*, product: Product, day: dt.date) -> tuple[dt.date, dt.date | None]:
    """The dates a ticket for ``day`` may be used on."""
    if product.validity == Product.Validity.OPEN_DATED:
        return day, day + dt.timedelta(days=(product.validity_days or 1) - 1)
    if product.validity == Product.Validity.FROM_FIRST_USE:
        # Fixed when first used; until then usable from the chosen day within its validity.
        return day, day + dt.timedelta(days=(product.validity_days or 1) - 1)
    if product.validity == Product.Validity.PASS_PERIOD:
        return day, add_months(day, product.validity_months or 12) - dt.timedelta(days=1)
    return day, day


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day ``months`` later; a day the month lacks (31st, 29 Feb) rolls to the 1st of
    the month after, so a pass bought on 29 Feb 2024 for 12 months runs until 28 Feb 2025."""
    year = day.year + (day.month - 1 + months) // 12
    month = (day.month - 1 + months) % 12 + 1
    nxt = dt.date(year + month // 12, month % 12 + 1, 1)
    if day.day > (nxt - dt.timedelta(days=1)).day:
        return nxt
    return dt.date(year, month, day.day)


def tickets_issue(
    *,
    line: Any,
    prices: Sequence[Decimal],
    holders: Sequence[tuple[str, str]] = (),
) -> list[Ticket]:
    """One ticket per unit of the line (a group ticket is one ticket for all its persons)."""
    product: Product = line.product
    valid_from, valid_until = validity_window(product=product, day=line.date)
    slot = line.slot
    tickets = [
        Ticket(
            serial=random_code(SERIAL_LENGTH),
            order_id=line.order_id,
            line=line,
            site_id=product.site_id,
            product=product,
            persons=line.persons,
            price=price,
            valid_from=valid_from,
            valid_until=valid_until,
            slot_start=slot.start if slot else None,
            slot_end=slot.end if slot else None,
            entries_allowed=product.entries,
            holder_name=holders[i][0] if i < len(holders) else "",
            holder_id_number=holders[i][1] if i < len(holders) else "",
        )
        for i, price in enumerate(prices)
    ]
    Ticket.objects.bulk_create(tickets)
    if not all(t.pk for t in tickets):  # databases that do not return ids from bulk inserts
        tickets = list(Ticket.objects.filter(line=line).order_by("id"))
    tickets_sign(tickets=tickets)
    return tickets


def ticket_claims(ticket: Ticket, key_id: int) -> codec.TicketClaims:
    return codec.TicketClaims(
        key_id=key_id,
        ticket_id=ticket.pk,
        site_id=ticket.site_id,
        product_id=ticket.product_id,
        valid_from=ticket.valid_from or ticket.issued_at.date(),
        valid_until=ticket.valid_until,
        slot_start=ticket.slot_start,
        slot_end=ticket.slot_end,
        persons=ticket.persons,
        entries=ticket.entries_allowed,
        real_name=bool(ticket.holder_id_number),
    )


def tickets_sign(*, tickets: Sequence[Ticket]) -> None:
    """Give each ticket its signed code (the current key signs)."""
    key_id, private = signer()
    for t in tickets:
        t.code = codec.encode(ticket_claims(t, key_id), private)
    Ticket.objects.bulk_update(list(tickets), ["code"])


def tickets_end(*, tickets: Sequence[Ticket], status: str) -> int:
    """Refund, exchange or void tickets that are still unused. Returns how many changed; the
    caller treats fewer than asked as a conflict (one was used at a gate meanwhile)."""
    return Ticket.objects.filter(
        Q(pk__in=[t.pk for t in tickets]), status=Ticket.Status.VALID, entries_used=0
    ).update(status=status, changed_at=timezone.now())
