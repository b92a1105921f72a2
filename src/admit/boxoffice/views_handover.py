"""Closing a shift and its handover report (交班统计): on screen, as PDF, confirmed."""

from __future__ import annotations

from django.contrib.admin.views.decorators import staff_member_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from admit.accounts.rights import permissions_of

from . import handover as handover_report
from .models import Shift


def _visible_shift(request: HttpRequest, pk: int) -> Shift:
    """A cashier sees their own shifts; finance and supervisors every shift."""
    shift = get_object_or_404(Shift.objects.select_related("terminal", "cashier"), pk=pk)
    held = permissions_of(request.user)
    if shift.cashier_id != request.user.pk and not (
        "*" in held or ("boxoffice.view_shift" in held and "boxoffice.confirm_shift" in held)
    ):
        raise DjangoPermissionDenied
    return shift


def _report(shift: Shift) -> dict:  # type: ignore[type-arg]
    if shift.report is not None:
        return shift.report  # type: ignore[no-any-return]
    return handover_report.compute(shift)


@staff_member_required
@require_GET
def handover(request: HttpRequest, pk: int) -> HttpResponse:
    shift = _visible_shift(request, pk)
    return render(request, "boxoffice/handover.html", {"shift": shift, "report": _report(shift)})


@staff_member_required
@require_GET
def handover_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    from .handover_pdf import handover_pdf as render_pdf

    shift = _visible_shift(request, pk)
    response = HttpResponse(render_pdf(_report(shift)), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="handover-{shift.pk}.pdf"'
    return response
