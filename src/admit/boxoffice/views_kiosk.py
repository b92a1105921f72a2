"""The self-service kiosk's pages (自助售取票机): the touch screen at /kiosk/, its JSON calls,
and the supervisor's pairing page. The kiosk has no staff session: every call is allowed by the
browser's pairing cookie (see ``services/kiosk.py``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from admit.accounts.rights import has
from admit.core.errors import DomainError, ValidationFailed
from admit.core.money import CURRENCY, money_str
from admit.sales.models import Order
from admit.sales.services import LineRequest
from admit.sales.views import qr_svg

from .errors import TerminalNotFound
from .json_calls import date_in, error_response, int_in, json_body
from .models import Terminal
from .services import kiosk as svc

IDLE_SECONDS = 60

# What the screen's script writes itself, in the visitor's language.
TEXT = {
    "today": _("Today"),
    "tomorrow": _("Tomorrow"),
    "closed": _("Closed"),
    "left": _("%(n)s left"),
    "sold_out": _("Sold out"),
    "whole_day": _("Any time of the day"),
    "persons": _("for %(n)s people"),
    "real_name": _("real name"),
    "nothing_today": _("No tickets are on sale at this kiosk for this day."),
    "visitor": _("Visitor %(n)s"),
    "name": _("Name"),
    "id_number": _("ID card number"),
    "enter_name": _("Enter the visitor's name"),
    "enter_id": _("Enter the ID card number"),
    "enter_phone": _("Enter the mobile phone number"),
    "enter_code": _("Enter the order code"),
    "enter_last4": _("Enter the last four characters of the order code"),
    "time_up": _("Time ran out before the payment arrived: the order was cancelled."),
    "cancelled": _("The order was cancelled. Nothing was charged."),
    "printed_before": _(
        "%(n)s ticket(s) of this booking were printed before: please ask at the ticket window "
        "for those."
    ),
    "network": _("The kiosk cannot reach the server. Please try again, or ask the staff."),
    "order": _("Order %(code)s"),
    "print_failed": _("Printing failed. Please ask at the ticket window."),
}

View = Callable[..., HttpResponse]


def kiosk_call(view: Callable[..., HttpResponse]) -> View:
    """A JSON call of a paired kiosk: the terminal comes from the cookie; refusals of the
    engine become the uniform error body with their status, never a 500."""

    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            terminal = svc.kiosk_terminal(cookie=request.COOKIES.get(svc.COOKIE_NAME, ""))
            return view(request, terminal, *args, **kwargs)
        except DomainError as exc:
            return error_response(exc)

    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return never_cache(wrapped)


def _pdf(body: bytes) -> HttpResponse:
    response = HttpResponse(body, content_type="application/pdf")
    response["Content-Disposition"] = 'inline; filename="tickets.pdf"'
    return response


# --- The screen -----------------------------------------------------------------------------


@never_cache
@require_GET
def screen(request: HttpRequest) -> HttpResponse:
    """The kiosk's touch screen; "not set up" for a browser that is not paired."""
    try:
        terminal = svc.kiosk_terminal(cookie=request.COOKIES.get(svc.COOKIE_NAME, ""))
    except DomainError as exc:
        return render(request, "boxoffice/kiosk_unpaired.html", {"error": exc}, status=403)
    return render(
        request,
        "boxoffice/kiosk.html",
        {
            "terminal": terminal,
            "site": terminal.site,
            "idle_seconds": IDLE_SECONDS,
            "text": {key: str(value) for key, value in TEXT.items()},
        },
    )


# --- Buying ---------------------------------------------------------------------------------


@require_GET
@kiosk_call
def days(request: HttpRequest, terminal: Terminal) -> HttpResponse:
    return JsonResponse(
        {
            "days": [
                {**d, "date": d["date"].isoformat(), "weekday": d["date"].isoweekday()}
                for d in svc.kiosk_days(terminal=terminal)
            ]
        }
    )


@require_GET
@kiosk_call
def offer(request: HttpRequest, terminal: Terminal) -> HttpResponse:
    products = svc.kiosk_offer(terminal=terminal, day=date_in(request.GET.get("date", "")))
    return JsonResponse(
        {
            "products": [{**p, "price": money_str(p["price"])} for p in products],
            "currency": CURRENCY,
        }
    )


def _order_out(order: Order) -> dict[str, Any]:
    return {
        "code": order.code,
        "status": order.status,
        "total": money_str(order.total),
        "currency": CURRENCY,
        "expires_at": order.expires_at.isoformat() if order.expires_at else None,
        "tickets": sum(1 for t in order.tickets.all()),
    }


@require_POST
@kiosk_call
def order_create(request: HttpRequest, terminal: Terminal) -> HttpResponse:
    data = json_body(request)
    day = date_in(data.get("date", ""))
    raw_lines = data.get("lines")
    if not isinstance(raw_lines, list) or not raw_lines:
        raise ValidationFailed(code="no_lines")
    lines = []
    for raw in raw_lines:  # too many lines: kiosk_order_place refuses them
        if not isinstance(raw, dict):
            raise ValidationFailed(code="no_lines")
        visitors = raw.get("visitors") or []
        if not isinstance(visitors, list) or not all(isinstance(v, dict) for v in visitors):
            raise ValidationFailed(code="invalid_visitor")
        lines.append(
            LineRequest(
                product=int_in(raw.get("product"), "product"),
                date=day,
                quantity=int_in(raw.get("quantity"), "quantity"),
                slot=int_in(raw["slot"], "slot") if raw.get("slot") is not None else None,
                visitors=svc.visitors_in(visitors[:200]),
            )
        )
    sale = svc.kiosk_order_place(
        terminal=terminal,
        lines=lines,
        contact_phone=str(data.get("phone", ""))[:32],
        notify_url=request.build_absolute_uri("/api/v1/payments/sandbox/notify"),
    )
    out: dict[str, Any] = {"order": _order_out(sale.order), "token": sale.token}
    if sale.intent is not None:
        pay_url = request.build_absolute_uri(sale.intent.pay_url)
        out["pay_url"] = pay_url
        out["qr_svg"] = qr_svg(pay_url, scale=10)
    return JsonResponse(out, status=201)


@require_GET
@kiosk_call
def order_status(request: HttpRequest, terminal: Terminal) -> HttpResponse:
    order = svc.kiosk_order_status(terminal=terminal, token=request.GET.get("token", ""))
    return JsonResponse({"order": _order_out(order)})


@require_POST
@kiosk_call
def order_cancel(request: HttpRequest, terminal: Terminal) -> HttpResponse:
    order = svc.kiosk_order_cancel(
        terminal=terminal, token=str(json_body(request).get("token", ""))
    )
    return JsonResponse({"order": _order_out(order)})


@require_POST
@kiosk_call
def order_print(request: HttpRequest, terminal: Terminal) -> HttpResponse:
    token = str(json_body(request).get("token", ""))
    return _pdf(svc.kiosk_order_print(terminal=terminal, token=token))


# --- Picking up -----------------------------------------------------------------------------


@require_POST
@kiosk_call
def pickup_lookup(request: HttpRequest, terminal: Terminal) -> HttpResponse:
    data = json_body(request)
    found = svc.kiosk_lookup(
        terminal=terminal,
        by=str(data.get("by", "")),
        value=str(data.get("value", ""))[:64],
        last4=str(data.get("last4", ""))[:8],
    )
    return JsonResponse(
        {
            "tickets": [svc.ticket_summary(t) for t in found.tickets],
            "printed_before": found.printed_before,
            "grant": found.grant,
        }
    )


@require_POST
@kiosk_call
def pickup_print(request: HttpRequest, terminal: Terminal) -> HttpResponse:
    grant = str(json_body(request).get("grant", ""))
    return _pdf(svc.kiosk_pickup_print(terminal=terminal, grant=grant))


# --- Pairing (a supervisor, once per kiosk) --------------------------------------------------


@never_cache
@staff_member_required(login_url="admin:login")
@require_http_methods(["GET", "POST"])
def pair(request: HttpRequest) -> HttpResponse:
    """Bind this browser to a kiosk terminal, or undo it. After pairing, the supervisor's
    session in this browser ends: a kiosk must not stay logged in as staff."""
    if not has(request.user, svc.PAIR_PERMISSION):
        return render(
            request, "boxoffice/kiosk_pair.html", {"forbidden": True, "terminals": []}, status=403
        )
    cookie = request.COOKIES.get(svc.COOKIE_NAME, "")
    error: DomainError | None = None
    if request.method == "POST":
        action = request.POST.get("action", "pair")
        try:
            if action == "unpair":
                svc.kiosk_unpair(cookie=cookie, actor=request.user)
                response = redirect(reverse("kiosk:pair"))
                response.delete_cookie(svc.COOKIE_NAME, samesite="Lax")
                return response
            terminal = Terminal.objects.filter(pk=int_in(request.POST.get("terminal"), "t")).first()
            if terminal is None:
                raise TerminalNotFound()
            value = svc.kiosk_pair(terminal=terminal, actor=request.user)
        except DomainError as exc:
            error = exc
        else:
            logout(request)
            response = redirect(reverse("kiosk:screen"))
            response.set_cookie(
                svc.COOKIE_NAME,
                value,
                max_age=svc.COOKIE_MAX_AGE,
                httponly=True,
                samesite="Lax",
                secure=request.is_secure(),
            )
            return response
    current = None
    if cookie:
        try:
            current = svc.kiosk_terminal(cookie=cookie)
        except DomainError:
            current = None
    terminals = Terminal.objects.filter(kind=Terminal.Kind.KIOSK).select_related("site", "device")
    return render(
        request,
        "boxoffice/kiosk_pair.html",
        {
            "terminals": terminals,
            "current": current,
            "error": error,
        },
        status=400 if error is not None else 200,
    )
