"""The sandbox payment provider's pay page (what a visitor sees after scanning its QR code)."""

from __future__ import annotations

import segno
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.safestring import mark_safe
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from .errors import UnknownPayment
from .models import SandboxPayment
from .providers import PROVIDERS, SandboxProvider


def qr_svg(text: str, *, scale: int = 5) -> str:
    """An inline SVG QR code (error correction M)."""
    return segno.make(text, error="m", micro=False).svg_inline(scale=scale, border=2)


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
