"""Partners' bookings: reserve → confirm → cancel, and extending a reservation.

A booking is an order of the sales engine on the partner's own channel (its allocation, its net
prices), held until ``expires_at`` like any unpaid order, and paid at confirmation by a charge to
the partner's B2B account (挂账, settled later). The partner's reference (OCTO ``uuid`` or the
OTA's order number) is unique per partner and written in the order's transaction, so a retried
create finds the same order and never takes places twice.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from admit.catalog.models import Product
from admit.core.idempotency import fingerprint
from admit.inventory.selectors import availability
from admit.inventory.services import pools_ensure
from admit.sales import errors as sales_errors
from admit.sales import services as sales
from admit.sales.models import Order, PaymentMethod
from admit.tickets.models import Ticket

from ..errors import BookingNotChangeable, BookingNotFound, ReferenceReused, UnknownAvailability
from ..models import Partner, PartnerBooking
from .notices import notify

MAX_HOLD_MINUTES = 24 * 60


class PartnerActor:
    """Who acts when a partner's system calls: shown as ``partner:<code>`` in the audit trail
    and the order's timeline. It takes no money at a window and belongs to no account's staff."""

    def __init__(self, partner: Partner) -> None:
        self.partner = partner

    def __str__(self) -> str:
        return f"partner:{self.partner.code}"


@dataclass(frozen=True)
class BookingRequest:
    reference: str
    product: int
    day: dt.date
    quantity: int
    start: dt.time | None = None  # the time slot; None: the day (or the only slot)
    unit_uuids: tuple[str, ...] = ()
    reseller_reference: str = ""
    contact_name: str = ""
    contact_phone: str = ""
    contact: dict[str, Any] = field(default_factory=dict)
    notes: str = ""
    hold_minutes: int | None = None
    visitors: tuple[sales.VisitorIn, ...] = ()

    def fingerprint(self) -> str:
        return fingerprint(
            self.product,
            self.day,
            self.quantity,
            self.start,
            [(v.name, v.id_number) for v in self.visitors],
        )


def _slot(partner: Partner, product: Product, day: dt.date, start: dt.time | None) -> int | None:
    """The pool id of the time slot starting at ``start`` (None for a whole-day product)."""
    if not product.takes_capacity:
        if start is not None:
            raise UnknownAvailability(details={"start": start.isoformat()})
        return None
    pools_ensure(site=product.site, day=day, zones=product.capacity_zones)
    slots = availability(product=product, day=day, channel=partner.channel)
    for s in slots:
        if s.start == start or (start is None and s.start is None):
            return s.pool.pk if s.pool is not None and s.start is not None else None
    if start is None and len(slots) == 1:
        return None
    raise UnknownAvailability(details={"start": start.isoformat() if start else None})


def _booking(partner: Partner, reference: str) -> PartnerBooking:
    booking = (
        PartnerBooking.objects.filter(partner=partner, reference=reference[:64])
        .select_related("order", "partner")
        .first()
    )
    if booking is None:
        raise BookingNotFound(details={"reference": reference[:64]})
    return booking


def booking_reserve(
    *, partner: Partner, request: BookingRequest, now: dt.datetime | None = None
) -> tuple[PartnerBooking, bool]:
    """Hold places for a partner's booking. Returns the booking and whether it is new: the
    same reference with the same request returns the first booking; with another request it
    is refused with ``reference_reused`` and changes nothing."""
    now = now or timezone.now()
    reference = request.reference.strip()
    if not reference or len(reference) > 64:
        raise ReferenceReused(code="invalid_reference", details={"reference": reference[:64]})
    fp = request.fingerprint()
    existing = PartnerBooking.objects.filter(partner=partner, reference=reference).first()
    if existing is not None:
        return _same(existing, fp), False
    product = (
        Product.objects.filter(pk=request.product, is_active=True)
        .select_related("site")
        .prefetch_related("zones", "components__zone")
        .first()
    )
    if product is None:
        raise sales_errors.UnknownProduct(details={"product": request.product})
    slot = _slot(partner, product, request.day, request.start)
    actor = PartnerActor(partner)
    try:
        with transaction.atomic():
            order = sales.order_place(
                channel=partner.channel.code,
                lines=[
                    sales.LineRequest(
                        product=product.pk,
                        date=request.day,
                        quantity=request.quantity,
                        slot=slot,
                        visitors=request.visitors,
                    )
                ],
                actor=actor,
                contact_name=request.contact_name,
                contact_phone=request.contact_phone,
                account=partner.account,
                now=now,
            )
            if request.hold_minutes is not None and order.status == Order.Status.PENDING:
                minutes = max(1, min(request.hold_minutes, MAX_HOLD_MINUTES))
                sales.order_hold_extend(
                    order=order, until=now + dt.timedelta(minutes=minutes), actor=actor, now=now
                )
            booking = PartnerBooking.objects.create(
                partner=partner,
                reference=reference,
                reseller_reference=request.reseller_reference[:100],
                fingerprint=fp,
                order=order,
                unit_uuids=list(request.unit_uuids),
                contact=request.contact,
                notes=request.notes[:500],
            )
    except IntegrityError:
        # The same reference, created meanwhile by a concurrent retry: this order rolled back.
        existing = PartnerBooking.objects.filter(partner=partner, reference=reference).first()
        if existing is None:
            raise
        return _same(existing, fp), False
    booking.order = order
    return booking, True


def _same(booking: PartnerBooking, fp: str) -> PartnerBooking:
    if booking.fingerprint != fp:
        raise ReferenceReused(details={"reference": booking.reference})
    return PartnerBooking.objects.select_related("order", "partner").get(pk=booking.pk)


def booking_confirm(
    *,
    partner: Partner,
    reference: str,
    contact: dict[str, Any] | None = None,
    reseller_reference: str | None = None,
    now: dt.datetime | None = None,
) -> PartnerBooking:
    """Pay the held booking by a charge to the partner's account: the tickets are issued.
    Confirming a confirmed booking again changes nothing and returns it."""
    now = now or timezone.now()
    booking = _booking(partner, reference)
    order = booking.order
    if order.status == Order.Status.PENDING and order.expires_at and order.expires_at < now:
        sales.order_expire(order_id=order.pk, now=now)
        raise BookingNotChangeable(code="booking_expired", details={"reference": booking.reference})
    if order.status == Order.Status.PAID:
        return booking
    if order.status != Order.Status.PENDING:
        raise BookingNotChangeable(details={"reference": booking.reference, "status": order.status})
    try:
        with transaction.atomic():
            if contact is not None or reseller_reference is not None:
                fields = ["updated_at"]
                if contact is not None:
                    booking.contact = contact
                    fields.append("contact")
                if reseller_reference is not None:
                    booking.reseller_reference = reseller_reference[:100]
                    fields.append("reseller_reference")
                booking.save(update_fields=fields)
            sales.order_pay(
                order=order, method=PaymentMethod.ACCOUNT, amount=None, actor=PartnerActor(partner)
            )
            notify(_booking(partner, reference), "confirmed")
    except sales_errors.OrderNotPending:
        order.refresh_from_db()
        if order.status != Order.Status.PAID:  # expired or cancelled meanwhile
            raise BookingNotChangeable(
                details={"reference": booking.reference, "status": order.status}
            ) from None
    return _booking(partner, reference)


def booking_cancel(
    *, partner: Partner, reference: str, reason: str = "", now: dt.datetime | None = None
) -> PartnerBooking:
    """Cancel a held booking (its places go back) or refund a confirmed one whole, within the
    products' refund rules. A booking with a ticket already used cannot be cancelled."""
    now = now or timezone.now()
    booking = _booking(partner, reference)
    order = booking.order
    actor = PartnerActor(partner)
    if booking.cancelled_at is not None:
        return booking
    held = False
    with transaction.atomic():
        if order.status == Order.Status.PENDING:
            sales.order_cancel(order=order, actor=actor, now=now)
            held = True
        elif order.status == Order.Status.PAID:
            tickets = list(Ticket.objects.filter(order=order))
            if any(t.entries_used or t.status == Ticket.Status.USED for t in tickets):
                raise BookingNotChangeable(code="booking_used", details={"reference": reference})
            if any(t.status == Ticket.Status.VALID for t in tickets):
                sales.order_refund(
                    order=order, actor=actor, reason=(reason or "partner cancellation"), now=now
                )
        elif order.status != Order.Status.EXPIRED:
            raise BookingNotChangeable(details={"reference": reference, "status": order.status})
        updated = PartnerBooking.objects.filter(pk=booking.pk, cancelled_at__isnull=True).update(
            cancelled_at=now, cancel_reason=reason[:200], updated_at=now
        )
        if not updated:  # a concurrent cancel got there first; this one rolls back
            transaction.set_rollback(True)
        elif held:  # a refund tells the partner itself
            notify(_booking(partner, reference), "cancelled")
    return _booking(partner, reference)


def booking_extend(
    *, partner: Partner, reference: str, minutes: int, now: dt.datetime | None = None
) -> PartnerBooking:
    """Hold a reservation ``minutes`` from now (at most a day)."""
    now = now or timezone.now()
    booking = _booking(partner, reference)
    minutes = max(1, min(minutes, MAX_HOLD_MINUTES))
    try:
        sales.order_hold_extend(
            order=booking.order,
            until=now + dt.timedelta(minutes=minutes),
            actor=PartnerActor(partner),
            now=now,
        )
    except sales_errors.OrderNotPending as exc:
        raise BookingNotChangeable(details={"reference": reference}) from exc
    PartnerBooking.objects.filter(pk=booking.pk).update(updated_at=now)
    return _booking(partner, reference)


def bookings_of(partner: Partner, references: Sequence[str]) -> list[PartnerBooking]:
    return list(
        PartnerBooking.objects.filter(partner=partner, reference__in=references).select_related(
            "order"
        )
    )


@dataclass(frozen=True)
class BookingChange:
    """What a partner changes in its booking (OCTO's ``PATCH /bookings/{uuid}``); None: keep.

    ``units`` lists the booking's units after the change by their uuids: those of units it has
    are kept, others are new; a unit left out is removed."""

    day: dt.date | None = None
    start: dt.time | None = None  # with ``day``: the new time slot (None: the day)
    units: tuple[str, ...] | None = None
    contact: dict[str, Any] | None = None
    notes: str | None = None
    reseller_reference: str | None = None
    hold_minutes: int | None = None


def current_tickets(order: Order) -> list[Ticket]:
    """The order's tickets as the partner's units, in their order: a date change's old tickets
    (exchanged) are replaced by the new ones, which keep their units."""
    return [
        t
        for t in Ticket.objects.filter(order=order).select_related("line__slot").order_by("pk")
        if t.status != Ticket.Status.EXCHANGED
    ]


def unit_uuids(booking: PartnerBooking, count: int) -> list[str]:
    """The uuids of the booking's ``count`` units (made up for units that came without one)."""
    known = [str(u) for u in booking.unit_uuids or []]
    return [
        known[i] if i < len(known) and known[i] else f"{booking.reference}-{i + 1}"
        for i in range(count)
    ]


def booking_update(
    *, partner: Partner, reference: str, change: BookingChange, now: dt.datetime | None = None
) -> PartnerBooking:
    """Change a booking that can still be cancelled (held, or confirmed and not used): its time
    slot or date, its units, its contact, notes or reseller reference, how long it is held.

    Held: a new time or number of units re-places the order (the new one is held first, then
    the old one cancelled, in one transaction: if the new places are not there nothing
    changes). Confirmed: a new time is a date change (改签) of the unused tickets, any price
    difference charged to or paid back to the partner's account; units left out are refunded
    (product refund rules); units cannot be added (book again). Refused: nothing changes."""
    now = now or timezone.now()
    booking = _booking(partner, reference)
    order = booking.order
    if order.status == Order.Status.PENDING and order.expires_at and order.expires_at < now:
        sales.order_expire(order_id=order.pk, now=now)
        raise BookingNotChangeable(code="booking_expired", details={"reference": booking.reference})
    if booking.cancelled_at is not None or order.status not in (
        Order.Status.PENDING,
        Order.Status.PAID,
    ):
        raise BookingNotChangeable(details={"reference": booking.reference, "status": order.status})
    if change.units is not None and not change.units:
        raise BookingNotChangeable(code="no_units", details={"reference": booking.reference})
    actor = PartnerActor(partner)
    told = False
    with transaction.atomic():
        if order.status == Order.Status.PENDING:
            _update_held(booking, change, actor, now)
        else:
            told = _update_confirmed(booking, change, actor, now)
        fields: dict[str, Any] = {"updated_at": now}
        if change.contact is not None:
            fields["contact"] = change.contact
        if change.notes is not None:
            fields["notes"] = change.notes[:500]
        if change.reseller_reference is not None:
            fields["reseller_reference"] = change.reseller_reference[:100]
        PartnerBooking.objects.filter(pk=booking.pk).update(**fields)
        booking = _booking(partner, reference)
        if not told:  # a date change or a refund has told the partner already
            notify(booking, "updated")
    return booking


def _update_held(
    booking: PartnerBooking, change: BookingChange, actor: Any, now: dt.datetime
) -> None:
    order = booking.order
    line = order.lines.select_related("slot", "product").order_by("-pk").first()
    assert line is not None
    uuids = unit_uuids(booking, line.quantity)
    units = list(change.units) if change.units is not None else uuids
    held_start = line.slot.start if line.slot is not None else None
    day = change.day or line.date
    start = change.start if change.day else held_start
    moved = change.day is not None and (day, start) != (line.date, held_start)
    until = order.expires_at or now
    if change.hold_minutes is not None:
        until = now + dt.timedelta(minutes=max(1, min(change.hold_minutes, MAX_HOLD_MINUTES)))
    if moved or len(units) != line.quantity:
        product = (
            Product.objects.filter(pk=line.product_id)
            .select_related("site")
            .prefetch_related("zones", "components__zone")
            .get()
        )
        slot = _slot(booking.partner, product, day, start) if moved else line.slot_id
        # Let the old hold go first, so that its places count for the new one (a smaller or
        # larger booking on a full slot, a move within the same pools). In this transaction:
        # if the new order cannot be placed, the old hold is back as it was.
        sales.order_cancel(order=order, actor=actor, now=now)
        new_order = sales.order_place(
            channel=booking.partner.channel.code,
            lines=[sales.LineRequest(product=product.pk, date=day, quantity=len(units), slot=slot)],
            actor=actor,
            contact_name=order.contact_name,
            contact_phone=order.contact_phone,
            account=booking.partner.account,
            now=now,
        )
        until = max(until, now + dt.timedelta(minutes=1))
        sales.order_hold_extend(order=new_order, until=until, actor=actor, now=now)
        PartnerBooking.objects.filter(pk=booking.pk).update(order=new_order, unit_uuids=units)
    else:
        PartnerBooking.objects.filter(pk=booking.pk).update(unit_uuids=units)
        if change.hold_minutes is not None:
            sales.order_hold_extend(order=order, until=until, actor=actor, now=now)


def _update_confirmed(
    booking: PartnerBooking, change: BookingChange, actor: Any, now: dt.datetime
) -> bool:
    """Refund the units left out, then move the rest; True when a notice went out already."""
    order = booking.order
    tickets = current_tickets(order)
    uuids = unit_uuids(booking, len(tickets))
    unit_of = {t.pk: u for t, u in zip(tickets, uuids, strict=True)}
    live = [t for t in tickets if t.status == Ticket.Status.VALID]
    used = [t for t in tickets if t.status == Ticket.Status.USED or t.entries_used]
    told = False
    if change.units is not None:
        if set(change.units) - {unit_of[t.pk] for t in live + used}:
            raise BookingNotChangeable(
                code="units_cannot_be_added", details={"reference": booking.reference}
            )
        removed = [t for t in live if unit_of[t.pk] not in change.units]
        if any(unit_of[t.pk] not in change.units for t in used):
            raise BookingNotChangeable(
                code="booking_used", details={"reference": booking.reference}
            )
        if removed:
            sales.order_refund(
                order=order, actor=actor, ticket_ids=[t.pk for t in removed], reason="partner"
            )
            live = [t for t in live if t not in removed]
            told = True
    if change.day is not None and live:
        line = live[0].line
        current = (line.date, line.slot.start if line.slot_id and line.slot else None)
        if (change.day, change.start) != current:
            if used:
                raise BookingNotChangeable(
                    code="booking_used", details={"reference": booking.reference}
                )
            product = (
                Product.objects.filter(pk=line.product_id)
                .select_related("site")
                .prefetch_related("zones", "components__zone")
                .get()
            )
            slot = _slot(booking.partner, product, change.day, change.start)
            issued = sales.order_reschedule(
                order=order,
                actor=actor,
                date=change.day,
                slot=slot,
                ticket_ids=[t.pk for t in live],
                payment={"method": PaymentMethod.ACCOUNT},
                now=now,
            )
            for old, new in zip(live, issued, strict=True):
                unit_of[new.pk] = unit_of[old.pk]
            told = True
    units = [unit_of[t.pk] for t in current_tickets(order)]
    PartnerBooking.objects.filter(pk=booking.pk).update(unit_uuids=units)
    return told
