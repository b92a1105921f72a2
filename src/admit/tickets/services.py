"""Issuing and ending tickets. Sales tells this app what to issue or end; nothing else does."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from admit.catalog.models import Product
from admit.core import prc_id
from admit.core.codes import random_code
from admit.core.errors import Conflict, NotFound, ValidationFailed
from admit.core.services import audit_record
from admit.core.sql import insert, table
from admit.core.versions import version_bump

from . import codec
from .keys import signer
from .models import Revocation, Ticket, TicketMedium

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
    insert(tickets)
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
    # One plain statement per ticket (pipelined by the driver): the ORM's bulk_update builds a
    # CASE over every id, which costs more to compile than the update itself on the sales path.
    with connection.cursor() as cursor:
        cursor.executemany(
            f"UPDATE {table(Ticket)} SET code = %s WHERE id = %s",
            [(t.code, t.pk) for t in tickets],
        )


def tickets_end(*, tickets: Sequence[Ticket], status: str) -> int:
    """Refund, exchange or void tickets that are still unused. Returns how many changed; the
    caller treats fewer than asked as a conflict (one was used at a gate meanwhile)."""
    ids = [t.pk for t in tickets]
    now = timezone.now()
    changed = Ticket.objects.filter(
        Q(pk__in=ids), status=Ticket.Status.VALID, entries_used=0
    ).update(status=status, changed_at=now)
    if changed:
        # Gates must refuse them from now on, offline gates too: append to the revocation list.
        Revocation.objects.bulk_create(
            Revocation(ticket_id=pk, site_id=site_id, status=status, valid_until=until)
            for pk, site_id, until in Ticket.objects.filter(
                pk__in=ids, status=status, changed_at=now
            ).values_list("pk", "site_id", "valid_until")
        )
    return changed


CARD_BINDS = "card-binds"


class MediumInvalid(ValidationFailed):
    code = "invalid_medium"
    default_message = _("This card, ID number or face token is not valid.")


class MediumNotAllowed(ValidationFailed):
    code = "medium_not_allowed"
    default_message = _("This ticket type cannot be used with this kind of medium.")


class MediumInUse(Conflict):
    code = "medium_in_use"
    default_message = _("This card is already bound to another valid ticket.")


class MediumNotFound(NotFound):
    code = "medium_not_found"
    default_message = _("No such medium on this ticket.")


def medium_normalize(kind: str, value: str) -> str:
    """A medium's value as stored and looked up: card UIDs as upper-case hex, ID numbers upper
    case (a PRC resident ID must pass its checksum), face tokens as given."""
    text = value.strip()
    if kind == TicketMedium.Kind.CARD:
        text = text.replace(":", "").replace(" ", "").upper()
        if not 8 <= len(text) <= 20 or any(c not in "0123456789ABCDEF" for c in text):
            raise MediumInvalid(details={"type": kind})
        return text
    if kind == TicketMedium.Kind.ID_CARD:
        text = prc_id.normalize(text)
        if len(text) == 18 and text[:17].isdigit():
            try:
                prc_id.parse_resident_id(text)
            except ValueError as exc:
                raise MediumInvalid(details={"type": kind}) from exc
        elif not 5 <= len(text) <= 40 or not text.isalnum():
            raise MediumInvalid(details={"type": kind})
        return text
    if kind == TicketMedium.Kind.FACE:
        if not 8 <= len(text) <= 64 or not text.isascii() or not text.isprintable():
            raise MediumInvalid(details={"type": kind})
        return text
    raise MediumInvalid(details={"type": kind})


@transaction.atomic
def medium_bind(*, ticket: Ticket, kind: str, value: str, actor: Any) -> TicketMedium:
    """Bind a card, an ID card or a face token to a ticket, so a gate finds it by that medium.

    A card serves one valid ticket at a time (a lost card is unbound, then a new one bound)."""
    normalized = medium_normalize(kind, value)
    # The ticket row alone: with select_related the product row would be locked too, and every
    # window binding a card to that product would wait on it.
    locked = Ticket.objects.select_for_update().get(pk=ticket.pk)
    if locked.status not in Ticket.LIVE:
        raise MediumNotAllowed(
            _("Only a valid ticket can be bound to a medium."), details={"status": locked.status}
        )
    if kind not in (locked.product.allowed_media or []):
        raise MediumNotAllowed(details={"type": kind, "allowed": locked.product.allowed_media})
    existing = TicketMedium.objects.filter(
        ticket=locked, kind=kind, active_value=normalized
    ).first()
    if existing is not None:
        return existing
    if kind == TicketMedium.Kind.CARD:
        # Card binds queue on one row lock, so two windows binding the same card to two tickets
        # at once cannot both find it free (binding is rare; scans never take this lock).
        version_bump(CARD_BINDS)
    holders = TicketMedium.objects.filter(
        kind=kind, active_value=normalized, ticket__status=Ticket.Status.VALID
    )
    if locked.holder_pass_id is not None:  # the periods of one pass share its card
        holders = holders.exclude(ticket__holder_pass_id=locked.holder_pass_id)
    if kind == TicketMedium.Kind.CARD and holders.exists():
        raise MediumInUse(details={"type": kind})
    medium = TicketMedium.objects.create(
        ticket=locked, kind=kind, value=normalized, active_value=normalized
    )
    if locked.holder_pass_id is not None and kind == TicketMedium.Kind.CARD:
        from admit.customers.models import Pass

        Pass.objects.filter(pk=locked.holder_pass_id).update(card_uid=normalized)
    audit_record(
        actor=actor,
        action="create",
        obj=medium,
        verb="medium_bound",
        after={"ticket": locked.serial, "kind": kind, "value": medium.masked},
    )
    return medium


@transaction.atomic
def medium_unbind(*, ticket: Ticket, medium_id: int, actor: Any) -> TicketMedium:
    """Unbind a medium (a lost card): gates stop finding the ticket by it at once."""
    medium = (
        TicketMedium.objects.select_for_update().filter(pk=medium_id, ticket_id=ticket.pk).first()
    )
    if medium is None:
        raise MediumNotFound(details={"medium": medium_id})
    if medium.active_value is not None:
        medium.active_value = None
        medium.unbound_at = timezone.now()
        medium.save(update_fields=["active_value", "unbound_at"])
        audit_record(
            actor=actor,
            action="update",
            obj=medium,
            verb="medium_unbound",
            after={"ticket": ticket.serial, "kind": medium.kind, "value": medium.masked},
        )
    return medium


# --- Passes: the tickets of one member's pass ---------------------------------------------------


def pass_period_refresh(*, pass_ids: set[int]) -> None:
    """A pass's period is that of its live tickets (after a sale, a renewal or a refund)."""
    from django.db.models import Max, Min

    from admit.customers.models import Pass

    for pid in sorted(pass_ids):
        span = Ticket.objects.filter(holder_pass_id=pid, status__in=Ticket.LIVE).aggregate(
            start=Min("valid_from"), end=Max("valid_until")
        )
        if span["start"] is not None and span["end"] is not None:
            Pass.objects.filter(pk=pid).update(valid_from=span["start"], valid_until=span["end"])


def pass_tickets_freeze(*, pass_id: int, frozen: bool) -> int:
    """Freeze (or thaw) the valid tickets of a pass: gates refuse a frozen pass at once, offline
    lanes through the revocation list, which also carries the thaw. Returns how many changed."""
    now = timezone.now()
    old, new = (
        (Ticket.Status.VALID, Ticket.Status.FROZEN)
        if frozen
        else (Ticket.Status.FROZEN, Ticket.Status.VALID)
    )
    ids = list(
        Ticket.objects.filter(holder_pass_id=pass_id, status=old).values_list("pk", flat=True)
    )
    changed = Ticket.objects.filter(pk__in=ids, status=old).update(status=new, changed_at=now)
    Revocation.objects.bulk_create(
        Revocation(
            ticket_id=pk,
            site_id=site_id,
            status=Ticket.Status.FROZEN if frozen else Ticket.Status.REINSTATED,
            valid_until=until,
        )
        for pk, site_id, until in Ticket.objects.filter(pk__in=ids).values_list(
            "pk", "site_id", "valid_until"
        )
    )
    return changed


def pass_media_move(
    *, pass_id: int, kind: str, value: str | None, actor: Any, today: dt.date
) -> int:
    """Unbind the pass's current medium of ``kind`` from every ticket of the pass (a lost card
    stops working at once) and bind ``value`` (if any) to each ticket usable today or later."""
    normalized = medium_normalize(kind, value) if value else None
    if normalized and kind == TicketMedium.Kind.CARD:
        version_bump(CARD_BINDS)
        if (
            TicketMedium.objects.filter(
                kind=kind, active_value=normalized, ticket__status=Ticket.Status.VALID
            )
            .exclude(ticket__holder_pass_id=pass_id)
            .exists()
        ):
            raise MediumInUse(details={"type": kind})
    tickets = list(
        Ticket.objects.select_for_update()
        .filter(holder_pass_id=pass_id, status__in=Ticket.LIVE)
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gte=today))
        .order_by("pk")
    )
    stamp = timezone.now()
    gone = TicketMedium.objects.filter(
        ticket__holder_pass_id=pass_id, kind=kind, active_value__isnull=False
    )
    if normalized:
        gone = gone.exclude(active_value=normalized)
    removed = [m.masked for m in gone]
    gone.update(active_value=None, unbound_at=stamp)
    bound = 0
    if normalized:
        have = set(
            TicketMedium.objects.filter(
                ticket__in=tickets, kind=kind, active_value=normalized
            ).values_list("ticket_id", flat=True)
        )
        for t in tickets:
            if t.pk not in have:
                TicketMedium.objects.create(
                    ticket=t, kind=kind, value=normalized, active_value=normalized
                )
                bound += 1
    audit_record(
        actor=actor,
        action="update",
        verb="pass_medium_moved",
        after={
            "pass": pass_id,
            "kind": kind,
            "unbound": removed,
            "bound": TicketMedium(value=normalized).masked if normalized else "",
            "tickets": bound,
        },
    )
    return bound
