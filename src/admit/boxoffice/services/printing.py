"""Printing tickets at a window or a kiosk, and the templates they are printed with.

Every print is recorded (``TicketPrint``, with the template used and the paper serial); a ticket
printed before is a reprint: it needs the right to reprint, is recorded with the shift and
carries a "重印 REPRINT" mark with the time.

Which template prints a ticket: the active template of the ticket's site for its product and the
paper, else the site's active default for the paper (a template with no products), else the
built-in layout of tickets/pdf.py.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from django.db import transaction
from django.db.models import Prefetch, prefetch_related_objects
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from admit.accounts.rights import has
from admit.catalog.models import Product
from admit.core.errors import Conflict, PermissionDenied, ValidationFailed
from admit.core.services import actor_label, audit_record, model_save
from admit.tickets.models import Ticket
from admit.tickets.pdf import printable, ticket_face

from ..errors import AlreadyPrinted
from ..models import Shift, ShiftAction, StockSerial, Terminal, TicketPrint, TicketTemplate
from ..printing import (
    PREVIEW,
    PREVIEW_BARCODE,
    PREVIEW_CODE,
    PrintPage,
    layout_clean,
    logo_bytes,
    render,
    reprint_mark,
    ticket_data,
)
from .stock import stock_use


class NothingToPrint(Conflict):
    code = "no_printable_tickets"
    default_message = _("None of these tickets can be printed (only valid tickets are).")


class TemplateOverlap(Conflict):
    code = "template_overlap"
    default_message = _(
        "Another active template of this site already prints these products on this paper."
    )


class TemplateProductElsewhere(ValidationFailed):
    code = "template_product_site"
    default_message = _("A template prints only products of its own site.")


# --- Choosing a template ------------------------------------------------------------------


def templates_for(tickets: Sequence[Ticket], paper: str) -> dict[int, TicketTemplate | None]:
    """The template each ticket prints with on ``paper`` (None: the built-in layout). One query
    for the templates and one for their products, however many tickets."""
    sites = {t.site_id for t in tickets}
    rows = (
        TicketTemplate.objects.filter(site_id__in=sites, paper=paper, is_active=True)
        .prefetch_related(Prefetch("products", queryset=Product.objects.only("pk")))
        .order_by("-updated_at", "-pk")  # should two ever compete, the last changed wins
    )
    by_product: dict[tuple[int, int], TicketTemplate] = {}
    by_site: dict[int, TicketTemplate] = {}
    for template in rows:
        products = [p.pk for p in template.products.all()]
        for product_id in products:
            by_product.setdefault((template.site_id, product_id), template)
        if not products:
            by_site.setdefault(template.site_id, template)
    return {
        t.pk: by_product.get((t.site_id, t.product_id)) or by_site.get(t.site_id) for t in tickets
    }


def _logos(templates: Iterable[TicketTemplate | None]) -> dict[int, bytes]:
    out: dict[int, bytes] = {}
    for template in templates:
        if template is not None and template.logo and template.pk not in out:
            out[template.pk] = logo_bytes(template.logo)
    return out


def _person(actor: Any) -> str:
    if actor is None or not getattr(actor, "pk", None):
        return ""
    return str(getattr(actor, "display_name", "") or actor_label(actor))


def _pages(
    tickets: Sequence[Ticket],
    *,
    paper: str,
    chosen: Mapping[int, TicketTemplate | None],
    serials: Mapping[int, str],
    marks: Mapping[int, str],
    cashier: str,
    now: dt.datetime,
    preview: bool = False,
) -> list[PrintPage]:
    """What each ticket's page shows, in the active language. A preview's QR code and barcode
    admit nobody."""
    english = (translation.get_language() or "").startswith("en")
    logos = _logos(chosen.values())
    pages = []
    for t in tickets:
        template = chosen.get(t.pk)
        mark = marks.get(t.pk, "")
        if template is None or not template.layout:
            face = ticket_face(t, english=english)
            if preview:
                face = replace(face, code=PREVIEW_CODE)
            pages.append(PrintPage(face=face, mark=mark))
            continue
        data = ticket_data(
            t,
            english=english,
            printed_at=now,
            stock_serial=serials.get(t.pk, ""),
            cashier=cashier,
            terms=template.terms,
        )
        if preview:
            data = replace(data, code=PREVIEW_CODE, barcode=PREVIEW_BARCODE)
        pages.append(
            PrintPage(
                data=data, layout=template.layout, logo=logos.get(template.pk, b""), mark=mark
            )
        )
    return pages


# --- Printing -----------------------------------------------------------------------------


def _take_paper(shift: Shift, tickets: Sequence[Ticket], actor: Any) -> None:
    """At a window whose cashier holds numbered paper, a first print uses it: each ticket not
    yet bound to paper takes the cashier's next serial (pre-printed for its product, else
    blank). Too little paper refuses the print (``stock_empty``); a cashier who holds none
    prints on plain paper (the venue does not number its stock)."""
    bound = set(StockSerial.objects.filter(ticket__in=tickets).values_list("ticket_id", flat=True))
    unbound = [t for t in tickets if t.pk not in bound]
    if not unbound:
        return
    holds = StockSerial.objects.filter(
        holder_id=shift.cashier_id,
        status=StockSerial.Status.ISSUED,
        batch__site_id=shift.terminal.site_id,
    ).exists()
    if holds:
        stock_use(shift=shift, tickets=unbound, actor=actor)


def _printable(tickets: Sequence[Ticket]) -> list[Ticket]:
    """The valid tickets of ``tickets``, their product, site and order loaded; raises
    ``NothingToPrint`` when there are none."""
    valid = printable(tickets)
    if not valid:
        raise NothingToPrint(details={"tickets": [t.pk for t in tickets]})
    prefetch_related_objects(valid, "product", "site", "order")
    return valid


def tickets_print(
    *,
    tickets: Sequence[Ticket],
    actor: Any,
    shift: Shift | None = None,
    terminal: Terminal | None = None,
    page: str | None = None,
    reason: str = "",
) -> bytes:
    """The PDF of ``tickets`` for the terminal's printer, each with its template. A ticket
    printed before is a reprint: it needs the right to reprint, is recorded with the shift and
    marked on the paper."""
    valid = _printable(tickets)
    terminal = terminal or (shift.terminal if shift is not None else None)
    page = page or (terminal.paper if terminal is not None else "80mm")
    chosen = templates_for(valid, page)
    now = timezone.now()
    kiosk = terminal is not None and terminal.kind == Terminal.Kind.KIOSK
    who = [] if kiosk else [_person(actor)]
    cashier = " · ".join(part for part in (*who, terminal.name if terminal else "") if part)
    with transaction.atomic():
        # The tickets locked in id order and read again: two terminals printing one ticket at
        # once make one first print and one reprint, and a ticket refunded meanwhile is left out.
        still = set(
            Ticket.objects.select_for_update()
            .filter(pk__in=[t.pk for t in valid], status=Ticket.Status.VALID)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        valid = [t for t in valid if t.pk in still]
        if not valid:
            raise NothingToPrint(details={"tickets": [t.pk for t in tickets]})
        printed = set(
            TicketPrint.objects.filter(ticket__in=valid).values_list("ticket_id", flat=True)
        )
        if printed and not getattr(actor, "pk", None):  # a kiosk: a reprint needs staff
            raise AlreadyPrinted(details={"tickets": sorted(printed)})
        if printed and not has(actor, "boxoffice.reprint_ticket"):
            raise PermissionDenied(details={"needs": ["boxoffice.reprint_ticket"]})
        if shift is not None:
            _take_paper(shift, [t for t in valid if t.pk not in printed], actor)
        paper_rows: dict[int, StockSerial] = {}  # the numbered paper each ticket is bound to
        for row in StockSerial.objects.filter(ticket__in=valid).only("pk", "serial", "ticket_id"):
            if row.ticket_id is not None:
                paper_rows[row.ticket_id] = row
        rows = [
            TicketPrint(
                ticket=t,
                kind=TicketPrint.Kind.REPRINT if t.pk in printed else TicketPrint.Kind.FIRST,
                shift=shift,
                terminal=terminal,
                template=chosen.get(t.pk),
                serial=paper_rows.get(t.pk),
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
        # Drawn inside the transaction: a ticket that cannot be drawn is not recorded as printed.
        pages = _pages(
            valid,
            paper=page,
            chosen=chosen,
            serials={pk: row.serial for pk, row in paper_rows.items()},
            marks={t.pk: reprint_mark(now, t.site.time_zone) for t in valid if t.pk in printed},
            cashier=cashier,
            now=now,
        )
        return render(pages, paper=page)


def tickets_preview(*, tickets: Sequence[Ticket], page: str, actor: Any) -> bytes:
    """The PDF of ``tickets`` as they would print on ``page``, marked "样张 PREVIEW", not
    recorded as printed, and with a QR code and barcode that admit nobody (a preview is no
    unaudited reprint)."""
    valid = _printable(tickets)
    serials = dict(StockSerial.objects.filter(ticket__in=valid).values_list("ticket_id", "serial"))
    pages = _pages(
        valid,
        paper=page,
        chosen=templates_for(valid, page),
        serials=serials,
        marks={t.pk: PREVIEW for t in valid},
        cashier=_person(actor),
        now=timezone.now(),
        preview=True,
    )
    return render(pages, paper=page)


# --- Templates ----------------------------------------------------------------------------


@transaction.atomic
def template_save(
    *,
    instance: TicketTemplate,
    actor: Any,
    m2m: Mapping[str, Iterable[Any]] | None = None,
) -> TicketTemplate:
    """Create or change a ticket template (audited). The layout must fit the paper and hold a
    QR code or a barcode, the logo must be a PNG, the products must be the site's, and no other
    active template of the site may print the same products (or be the default) on that paper."""
    instance.layout = layout_clean(instance.layout, instance.paper)
    if instance.logo:
        logo_bytes(instance.logo)
    if m2m is not None and "products" in m2m:
        products = list(m2m["products"])
    elif instance.pk:
        products = list(instance.products.all())
    else:
        products = []
    elsewhere = [p.pk for p in products if p.site_id != instance.site_id]
    if elsewhere:
        raise TemplateProductElsewhere(details={"products": elsewhere})
    if instance.is_active:
        clash = template_clash(
            site_id=instance.site_id,
            paper=instance.paper,
            product_ids=[p.pk for p in products],
            exclude=instance.pk,
        )
        if clash is not None:
            raise TemplateOverlap(details={"template": clash.pk, "name": clash.name})
    return model_save(instance=instance, actor=actor, m2m=m2m)


def template_clash(
    *, site_id: int, paper: str, product_ids: Sequence[int], exclude: int | None
) -> TicketTemplate | None:
    """Another active template of the site on ``paper`` that prints one of ``product_ids`` (or,
    with no products, another default)."""
    others = TicketTemplate.objects.filter(site_id=site_id, paper=paper, is_active=True)
    if exclude is not None:
        others = others.exclude(pk=exclude)
    if product_ids:
        return others.filter(products__in=product_ids).order_by("pk").first()
    return others.filter(products__isnull=True).order_by("pk").first()
