"""Printing tickets at a window or a kiosk: every print is recorded, reprints are marked."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import transaction
from django.db.models import prefetch_related_objects
from django.utils import translation

from admit.accounts.rights import permissions_of
from admit.core.errors import Conflict, PermissionDenied
from admit.core.services import actor_label, audit_record
from admit.tickets.models import Ticket
from admit.tickets.pdf import tickets_pdf

from ..models import Shift, ShiftAction, Terminal, TicketPrint


class NothingToPrint(Conflict):
    code = "no_printable_tickets"


def tickets_print(
    *,
    tickets: Sequence[Ticket],
    actor: Any,
    shift: Shift | None = None,
    terminal: Terminal | None = None,
    page: str | None = None,
    reason: str = "",
) -> bytes:
    """The PDF of ``tickets`` for the terminal's printer. A ticket printed before is a reprint:
    it needs the right to reprint, is recorded with the shift and marked on the paper."""
    valid = [t for t in tickets if t.status == Ticket.Status.VALID and t.code]
    if not valid:
        raise NothingToPrint(details={"tickets": [t.pk for t in tickets]})
    terminal = terminal or (shift.terminal if shift is not None else None)
    page = page or (terminal.paper if terminal is not None else "80mm")
    printed = set(TicketPrint.objects.filter(ticket__in=valid).values_list("ticket_id", flat=True))
    if printed and actor is not None and getattr(actor, "pk", None):
        held = permissions_of(actor)
        if "*" not in held and "boxoffice.reprint_ticket" not in held:
            raise PermissionDenied(details={"needs": ["boxoffice.reprint_ticket"]})
    elif printed:
        raise PermissionDenied(code="already_printed", details={"tickets": sorted(printed)})
    with transaction.atomic():
        rows = [
            TicketPrint(
                ticket=t,
                kind=TicketPrint.Kind.REPRINT if t.pk in printed else TicketPrint.Kind.FIRST,
                shift=shift,
                terminal=terminal,
                actor_label=actor_label(actor)[:150],
                reason=reason[:200] if t.pk in printed else "",
            )
            for t in valid
        ]
        TicketPrint.objects.bulk_create(rows)
        for t in valid:
            if t.pk in printed:
                if shift is not None:
                    ShiftAction.objects.create(
                        shift=shift, kind=ShiftAction.Kind.REPRINT, ticket=t, reason=reason[:200]
                    )
                audit_record(
                    actor=actor, action="action", obj=t, verb="ticket_reprint", note=reason
                )
    prefetch_related_objects(valid, "product", "site", "order")
    return tickets_pdf(valid, language=translation.get_language() or "zh-hans", page=page)
