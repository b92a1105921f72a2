"""An on-screen preview of how a ticket prints (the point of sale opens it before printing)."""

from __future__ import annotations

from django.contrib.admin.views.decorators import staff_member_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_GET

from admit.accounts.rights import has
from admit.core.errors import DomainError, NotFound
from admit.sales.selectors import order_check_visible
from admit.tickets.models import Ticket

from .printing import PAPER_WIDTH_MM
from .selectors import open_shift
from .services.printing import tickets_preview

MAY_PREVIEW = ("boxoffice.sell_at_window", "sales.view_order", "boxoffice.reprint_ticket")


@require_GET
@staff_member_required
@xframe_options_sameorigin
def ticket_preview(request: HttpRequest, pk: int) -> HttpResponse:
    """The ticket drawn with the template it prints with, on ``?page=`` (else the paper of the
    user's window, else an 80 mm roll), marked "样张 PREVIEW", with codes that admit nobody
    and not recorded as a print."""
    if not any(has(request.user, p) for p in MAY_PREVIEW):
        raise DjangoPermissionDenied
    ticket = get_object_or_404(Ticket.objects.select_related("order"), pk=pk)
    try:  # an agency's booker sees only the tickets of its own account's orders
        order_check_visible(ticket.order, request.user)
    except NotFound as exc:
        raise Http404(str(exc.message)) from exc
    shift = open_shift(request.user)
    page = request.GET.get("page") or (shift.terminal.paper if shift else "80mm")
    if page not in PAPER_WIDTH_MM:
        return HttpResponseBadRequest(_("Unknown page format."))
    try:
        pdf = tickets_preview(tickets=[ticket], page=page, actor=request.user)
    except DomainError as exc:
        return HttpResponse(str(exc.message), status=exc.status, content_type="text/plain")
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="preview-{ticket.serial}.pdf"'
    return response
