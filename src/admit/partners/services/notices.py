"""Notices to partners about their bookings: a ticket used at a gate, refunded, changed.

The lower apps publish ``core.hooks`` topics inside their transactions; these listeners queue an
outbox message in the same transaction when the order is a partner's. A scan of a ticket that
is no partner's costs nothing here (its order's channel comes with the scan's ticket row).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from admit.sales.models import Order
from admit.tickets.models import Ticket

from ..models import Partner, PartnerBooking, PartnerWebhook
from .outbox import outbox_put
from .partners import partner_channels


def _booking_of_order(order_id: int) -> PartnerBooking | None:
    return PartnerBooking.objects.filter(order_id=order_id).select_related("partner").first()


def payload(booking: PartnerBooking, event: str, **data: Any) -> dict[str, Any]:
    """The notice: what happened, to which booking; an OCTO reseller also gets the booking as
    its API shows it now (OCTO webhooks' ``booking_update``)."""
    out = {
        "event": event,
        "partner": booking.partner.code,
        "reference": booking.reference,
        "resellerReference": booking.reseller_reference or None,
        "order": booking.order.code,
        **data,
    }
    if booking.partner.kind == Partner.Kind.OCTO:
        from ..octo import NoticeViewer, booking_json  # the API's renderer, above the services

        out["webhookEvent"] = "booking_update"
        out["booking"] = booking_json(NoticeViewer(booking.partner), booking)
    return out


def notify(booking: PartnerBooking, event: str, **data: Any) -> None:
    """Queue the notice of ``event`` inside the writer's transaction: to the partner's notice
    URL (set in the back office) and, for an OCTO reseller, to each ``booking_update`` webhook it
    registered, in OCTO's shape ``{"webhook": …, "booking": …}``."""
    partner = booking.partner
    outbox_put(topic=f"booking.{event}", partner=partner, payload=payload(booking, event, **data))
    if partner.kind != Partner.Kind.OCTO:
        return
    hooks = list(
        PartnerWebhook.objects.filter(
            partner=partner, event=PartnerWebhook.Event.BOOKING_UPDATE
        ).order_by("pk")
    )
    if not hooks:
        return
    from ..octo import webhook_payload  # the API's renderer, above the services

    for hook in hooks:
        outbox_put(
            topic="octo.booking_update",
            partner=partner,
            url=hook.url,
            payload=webhook_payload(hook, booking),
            headers=hook.headers,
            retry=hook.retry_on_error,
        )


def on_ticket_used(
    *, ticket_id: int, channel_id: int | None, persons: int, at: dt.datetime, **_: Any
) -> None:
    if channel_id not in partner_channels():
        return  # not a partner's ticket: no query at all
    row = Ticket.objects.filter(pk=ticket_id).values("order_id", "serial").first()
    if row is None:
        return
    booking = _booking_of_order(row["order_id"])
    if booking is None:
        return
    notify(booking, "redeemed", ticket=row["serial"], persons=persons, at=at.isoformat())


def _order_notice(order_id: int, event: str, **data: Any) -> None:
    channel = Order.objects.filter(pk=order_id).values_list("channel_id", flat=True).first()
    if channel is None or channel not in partner_channels():
        return
    booking = _booking_of_order(order_id)
    if booking is None:
        return
    notify(booking, event, **data)


def on_order_refunded(*, order_id: int, tickets: Sequence[str], amount: Any, **_: Any) -> None:
    _order_notice(order_id, "refunded", tickets=list(tickets), amount=str(amount))


def on_order_changed(
    *,
    order_id: int,
    tickets: Sequence[str],
    new_tickets: Sequence[str] = (),
    date: dt.date | None = None,
    **_: Any,
) -> None:
    _order_notice(
        order_id,
        "changed",
        tickets=list(tickets),
        new_tickets=list(new_tickets),
        date=date.isoformat() if date else None,
    )
