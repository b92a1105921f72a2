"""The member's corner of the shop (我的): sign in with a one-time code sent to the phone, the
account page (points, passes with the code that opens the gates, orders) and sign-out.

The signed-in member's id lives in the session under ``SESSION_MEMBER``, apart from staff
logins; the session key changes at sign-in and sign-out. Codes, their limits and lockout are
``services.members``'."""

from __future__ import annotations

from urllib.parse import urlencode

from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from admit.core.errors import DomainError
from admit.core.text import mask
from admit.customers.models import Member
from admit.sales import errors as sales_errors
from admit.sales.selectors import order_by_code
from admit.sales.views import qr_svg
from admit.tickets.models import Ticket

from . import selectors
from .services import CHANNEL, members

SESSION_MEMBER = "shop_member"
SESSION_PHONE = "shop_sign_in_phone"
ORDERS_PER_PAGE = 10


def signed_in_member(request: HttpRequest) -> Member | None:
    """The member signed in to the shop in this session (still active), else None."""
    if not hasattr(request, "_shop_member"):
        pk = request.session.get(SESSION_MEMBER)
        member = None
        if isinstance(pk, int):
            member = Member.objects.select_related("level").filter(pk=pk, is_active=True).first()
            if member is None:
                request.session.pop(SESSION_MEMBER, None)
        request._shop_member = member  # type: ignore[attr-defined]
    found: Member | None = request._shop_member  # type: ignore[attr-defined]
    return found


def _next(request: HttpRequest) -> str:
    """Where to go after signing in: a page of the shop, else the account page."""
    value = str(request.POST.get("next") or request.GET.get("next") or "")
    if (
        value.startswith("/shop/")
        and url_has_allowed_host_and_scheme(value, allowed_hosts={request.get_host()})
        and not value.startswith(reverse("shop:sign_in"))
    ):
        return value
    return reverse("shop:account")


def _to_sign_in(request: HttpRequest) -> HttpResponse:
    return redirect(f"{reverse('shop:sign_in')}?{urlencode({'next': request.get_full_path()})}")


def _sign_in_page(
    request: HttpRequest, step: str, phone: str = "", error: DomainError | None = None
) -> HttpResponse:
    return render(
        request,
        "shop/sign_in.html",
        {
            "step": step,
            "phone": phone,
            "masked": mask(phone) if step == "code" else "",
            "next": _next(request),
            "minutes": int(members.CODE_LIFETIME.total_seconds() // 60),
            "error": error,
        },
        status=error.status if error else 200,
    )


@never_cache
@require_http_methods(["GET", "POST"])
def sign_in(request: HttpRequest) -> HttpResponse:
    """Step one: the phone number; a code goes to it (if it is a member's)."""
    if request.method == "GET":
        if signed_in_member(request) is not None:
            return redirect(_next(request))
        return _sign_in_page(request, "phone")
    # A new code goes to the phone of the code step (kept in the session).
    resending = bool(request.POST.get("resend")) and bool(request.session.get(SESSION_PHONE))
    phone = str(request.session[SESSION_PHONE] if resending else request.POST.get("phone", ""))
    try:
        row = members.member_code_send(phone=phone[:40])
    except DomainError as exc:
        return _sign_in_page(request, "code" if resending else "phone", phone[:40], exc)
    request.session[SESSION_PHONE] = row.phone
    return redirect(f"{reverse('shop:sign_in_code')}?{urlencode({'next': _next(request)})}")


@never_cache
@require_http_methods(["GET", "POST"])
def sign_in_code(request: HttpRequest) -> HttpResponse:
    """Step two: the code from the text message."""
    phone = request.session.get(SESSION_PHONE)
    if not isinstance(phone, str) or not phone:
        return redirect(reverse("shop:sign_in"))
    if request.method == "GET":
        return _sign_in_page(request, "code", phone)
    try:
        member = members.member_code_verify(phone=phone, code=str(request.POST.get("code", "")))
    except DomainError as exc:
        return _sign_in_page(request, "code", phone, exc)
    target = _next(request)
    request.session.cycle_key()
    request.session.pop(SESSION_PHONE, None)
    request.session[SESSION_MEMBER] = member.pk
    return redirect(target)


@never_cache
@require_POST
def sign_out(request: HttpRequest) -> HttpResponse:
    request.session.pop(SESSION_MEMBER, None)
    request.session.pop(SESSION_PHONE, None)
    request.session.cycle_key()
    return redirect(reverse("shop:index"))


@never_cache
@require_GET
def account(request: HttpRequest) -> HttpResponse:
    """我的: the member, their points, their passes with the code that opens the gates, and
    their orders (newest first, a page at a time)."""
    member = signed_in_member(request)
    if member is None:
        return _to_sign_in(request)
    passes = [
        (
            card,
            mark_safe(qr_svg(card.ticket.code, scale=4, fluid=True)) if card.ticket else "",
        )  # segno's SVG
        for card in selectors.member_passes(member=member, now=timezone.now())
    ]
    orders = Paginator(selectors.member_orders(member=member), ORDERS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "shop/account.html",
        {
            "member": member,
            "points": selectors.member_points(member=member),
            "passes": passes,
            "orders": orders,
            "channel": CHANNEL,
        },
    )


@never_cache
@require_GET
def account_order(request: HttpRequest, code: str) -> HttpResponse:
    """One of the member's orders: an order of the shop opens its own page (pay, refund, change
    the date); one bought elsewhere (the ticket window, a pass) shows its e-tickets. Another
    member's order, or an unknown code, is not found."""
    member = signed_in_member(request)
    if member is None:
        return _to_sign_in(request)
    try:
        order = order_by_code(code)
    except sales_errors.OrderNotFound as exc:
        raise Http404 from exc
    if order.member_id != member.pk:
        raise Http404
    if order.channel.code == CHANNEL:
        return redirect(reverse("shop:order", args=[order.code]))
    tickets = [
        (t, mark_safe(qr_svg(t.code, scale=5, fluid=True)))  # segno's own SVG markup
        for t in order.tickets.select_related("product").order_by("pk")
        if t.status in Ticket.LIVE and t.code
    ]
    return render(request, "shop/tickets.html", {"order": order, "tickets": tickets})
