"""Closing a shift and its handover report (交班统计): on screen, as PDF, confirmed."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.contrib.admin.views.decorators import staff_member_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import translation
from django.views.decorators.http import require_GET, require_http_methods

from admit.accounts.rights import has
from admit.core.errors import DomainError
from admit.sales.models import PaymentMethod

from . import handover as handover_report
from .models import Shift
from .services import shift_close, shift_confirm

# Notes and coins counted at a Chinese till, in yuan.
DENOMINATIONS = ("100", "50", "20", "10", "5", "1", "0.5", "0.1")


def _can_confirm(user: Any) -> bool:
    return has(user, "boxoffice.confirm_shift")


def _visible_shift(request: HttpRequest, pk: int) -> Shift:
    """A cashier sees their own shifts; those who confirm handovers see every shift."""
    shift = get_object_or_404(Shift.objects.select_related("terminal", "cashier"), pk=pk)
    if shift.cashier_id != request.user.pk and not _can_confirm(request.user):
        raise DjangoPermissionDenied
    return shift


def _report(shift: Shift) -> dict[str, Any]:
    """What the shift closed with; the running figures while it is open."""
    if shift.report is not None:
        return shift.report  # type: ignore[no-any-return]
    return handover_report.compute(shift)


def _for_reader(report: dict[str, Any]) -> dict[str, Any]:
    """The report with payment methods and products named in the reader's language."""
    english = (translation.get_language() or "").startswith("en")
    labels = dict(PaymentMethod.choices)
    return {
        **report,
        "methods": [
            {**m, "label": labels.get(m["method"], m["method"])} for m in report["methods"]
        ],
        "products": [
            {**p, "label": p["name_en"] if english else p["name"]} for p in report["products"]
        ],
    }


def _counted(post: Any) -> Decimal | str:
    """The cash counted: the amount typed, or the sum of the notes and coins counted."""
    typed = (post.get("counted_cash") or "").strip()
    if typed:
        return typed
    total = Decimal("0.00")
    for d in DENOMINATIONS:
        raw = (post.get(f"n_{d}") or "0").strip() or "0"
        if not raw.isdigit() or len(raw) > 6:
            return raw  # the service refuses it with a clear message
        total += Decimal(d) * int(raw)
    return total


@staff_member_required
@require_http_methods(["GET", "POST"])
def close(request: HttpRequest, pk: int) -> HttpResponse:
    """Count the drawer and close the shift."""
    shift = _visible_shift(request, pk)
    error = None
    if shift.status != Shift.Status.OPEN:
        return redirect("boxoffice:handover", pk=shift.pk)
    if request.method == "POST":
        try:
            shift_close(
                shift=shift,
                counted_cash=_counted(request.POST),
                note=request.POST.get("note", ""),
                actor=request.user,
            )
        except DomainError as exc:
            error = exc
        else:
            return redirect("boxoffice:handover", pk=shift.pk)
    return render(
        request,
        "boxoffice/close.html",
        {
            "shift": shift,
            "report": _for_reader(handover_report.compute(shift)),
            "denominations": DENOMINATIONS,
            "error": error,
            "posted": request.POST,
        },
        status=400 if error else 200,
    )


@staff_member_required
@require_http_methods(["GET", "POST"])
def handover(request: HttpRequest, pk: int) -> HttpResponse:
    """The handover report; a supervisor (not the cashier) confirms it here."""
    shift = _visible_shift(request, pk)
    error = None
    if request.method == "POST":
        try:
            shift_confirm(shift=shift, actor=request.user, note=request.POST.get("note", ""))
        except DomainError as exc:
            error = exc
        else:
            return redirect("boxoffice:handover", pk=shift.pk)
    report = _for_reader(_report(shift))
    return render(
        request,
        "boxoffice/handover.html",
        {
            "shift": shift,
            "report": report,
            "problems": handover_report.check(shift),
            "can_confirm": _can_confirm(request.user)
            and shift.status == Shift.Status.CLOSED
            and shift.cashier_id != request.user.pk,
            "error": error,
            "pdf_url": reverse("boxoffice:handover_pdf", args=[shift.pk]),
        },
        status=400 if error else 200,
    )


@staff_member_required
@require_GET
def handover_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    from .handover_pdf import handover_pdf as render_pdf

    shift = _visible_shift(request, pk)
    with translation.override(translation.get_language() or "zh-hans"):
        body = render_pdf(shift, _for_reader(_report(shift)))
    response = HttpResponse(body, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="handover-{shift.pk}.pdf"'
    return response
