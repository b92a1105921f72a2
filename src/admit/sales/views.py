"""The sandbox payment provider's pay page (what a visitor sees after scanning its QR code)."""

from __future__ import annotations

import segno
from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db.models import prefetch_related_objects
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from admit.accounts.rights import require
from admit.core.errors import Conflict, DomainError, NotFound, PermissionDenied, ValidationFailed
from admit.tickets.pdf import PAGES, printable, tickets_pdf

from .errors import UnknownPayment
from .models import Order, SandboxPayment
from .providers import PROVIDERS, SandboxProvider
from .selectors import order_by_code, order_check_visible


def qr_svg(text: str, *, scale: int = 5, fluid: bool = False) -> str:
    """An inline SVG QR code (error correction M). ``fluid``: a viewBox instead of a fixed
    width and height, so that the page's style sizes it."""
    return segno.make(text, error="m", micro=False).svg_inline(
        scale=scale, border=2, omitsize=fluid
    )


@csrf_exempt  # the provider's page, not Admit's: it carries no Admit session
@require_http_methods(["GET", "POST"])
def sandbox_pay(request: HttpRequest, ref: str) -> HttpResponse:
    payment = SandboxPayment.objects.filter(ref=ref[:40]).first()
    if payment is None:
        raise Http404
    provider = PROVIDERS["sandbox"]
    assert isinstance(provider, SandboxProvider)
    if request.method == "POST" and payment.status == SandboxPayment.Status.WAITING:
        try:
            provider.customer_pays(ref=payment.ref)
        except UnknownPayment as exc:
            raise Http404 from exc
        provider.deliver(ref=payment.ref, base_url=request.build_absolute_uri("/")[:-1])
        payment.refresh_from_db()
    return render(
        request,
        "sales/sandbox_pay.html",
        {
            "payment": payment,
            "qr": mark_safe(qr_svg(request.build_absolute_uri())),
        },
    )


def tickets_pdf_response(order: Order, page: str) -> HttpResponse:
    """The order's valid tickets as a PDF, one per page, in the active language."""
    if page not in PAGES:
        raise ValidationFailed(
            _("Unknown page format."),
            code="unknown_page",
            details={"page": page[:20], "allowed": list(PAGES)},
        )
    tickets = printable(order.tickets.all())
    if not tickets:
        raise Conflict(
            _("This order has no valid tickets to print."),
            code="no_printable_tickets",
            details={"order": order.code},
        )
    prefetch_related_objects(tickets, "product", "site", "order")
    body = tickets_pdf(tickets, language=translation.get_language() or "zh-hans", page=page)
    response = HttpResponse(body, content_type="application/pdf")
    suffix = "" if page == "a4" else f"-{page}"
    response["Content-Disposition"] = f'inline; filename="tickets-{order.code}{suffix}.pdf"'
    return response


@staff_member_required
@require_GET
def order_tickets_pdf(request: HttpRequest, code: str) -> HttpResponse:
    """The back office's "Print tickets": the same PDF as the API, for a staff session."""
    try:
        user = require(request, "sales.view_order")
        order = order_check_visible(order_by_code(code), user)
    except PermissionDenied as exc:
        raise DjangoPermissionDenied(str(exc.message)) from exc
    except NotFound as exc:
        raise Http404(str(exc.message)) from exc
    try:
        return tickets_pdf_response(order, request.GET.get("page", "a4"))
    except DomainError as exc:  # an unknown page, or no valid tickets yet
        messages.error(request, str(exc.message))
        return redirect(reverse("admin:sales_order_change", args=[order.pk]))
