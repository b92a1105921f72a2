"""The online shop's pages under /shop/: plain forms that work on any phone without scripts.

An order's pages open for the browser that placed or looked it up (its session remembers the
code) and for the member who booked it while signed in (``views_members``); anyone else goes
through the lookup by code and phone."""

from __future__ import annotations

import contextlib
import datetime as dt
import re
import secrets
from dataclasses import dataclass
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from admit.catalog.models import Site
from admit.core.errors import DomainError
from admit.inventory.services import InvalidSlot
from admit.sales import errors as sales_errors
from admit.sales.models import Order, Visitor
from admit.sales.selectors import order_by_code
from admit.sales.services import LineRequest, VisitorIn
from admit.sales.services.orders import sale_days, site_today
from admit.sales.views import qr_svg
from admit.tickets.models import Ticket

from . import selectors, services
from .selectors import Offer
from .services import CHANNEL
from .views_members import signed_in_member

SESSION_ORDERS = "shop_orders"
QUEUE_COOKIE = "admit_shop_queue_{}"
QUEUE_SALT = "admit.shop.queue"
QUEUE_REFRESH_SECONDS = 10
ORDER_REFRESH_SECONDS = 5


# --- Helpers --------------------------------------------------------------------------------


def _site(code: str) -> Site:
    return get_object_or_404(Site, code=code, is_active=True)


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value[:10])
    except ValueError as exc:
        raise Http404 from exc


def _remember(request: HttpRequest, code: str) -> None:
    codes = [c for c in request.session.get(SESSION_ORDERS, []) if c != code]
    request.session[SESSION_ORDERS] = [code, *codes][:20]


def _order(request: HttpRequest, code: str) -> Order | None:
    """The order if this browser placed or looked it up, or if it is an order of the shop
    booked by the member signed in here; else None."""
    remembered = code in request.session.get(SESSION_ORDERS, [])
    member = signed_in_member(request)
    if not remembered and member is None:
        return None
    try:
        found = order_by_code(code)
    except sales_errors.OrderNotFound:
        return None
    if remembered:
        return found
    if member is not None and found.member_id == member.pk and found.channel.code == CHANNEL:
        return found
    return None


def _to_lookup(code: str) -> HttpResponse:
    return redirect(f"{reverse('shop:lookup')}?code={code[:16]}")


def _notify_url(request: HttpRequest) -> str:
    return request.build_absolute_uri("/api/v1/payments/sandbox/notify")


# --- The waiting room -----------------------------------------------------------------------


def _queue_token(request: HttpRequest, site: Site) -> str:
    value = request.get_signed_cookie(QUEUE_COOKIE.format(site.pk), "", salt=QUEUE_SALT)
    return str(value)


def _queue_gate(request: HttpRequest, site: Site, day: dt.date) -> HttpResponse | None:
    """None when the buyer may shop for ``day``; else the way to the waiting page."""
    if not services.queue_needed(site=site, day=day):
        return None
    place = services.queue_place(site=site, token=_queue_token(request, site))
    if place.admitted:
        return None
    return redirect(f"{reverse('shop:queue', args=[site.code])}?day={day.isoformat()}")


@never_cache
@require_GET
def queue(request: HttpRequest, site: str) -> HttpResponse:
    """The waiting page: it refreshes itself until the buyer's turn, then goes on to the day."""
    the_site = _site(site)
    day = _date(request.GET.get("day", ""))
    token = _queue_token(request, the_site)
    place = services.queue_place(site=the_site, token=token)
    joined = None
    if place.entry is None:
        joined = services.queue_join(site=the_site)
        place = services.queue_place(site=the_site, token=joined.token)
    response: HttpResponse
    if place.admitted:
        response = redirect(reverse("shop:day", args=[the_site.code, day.isoformat()]))
    else:
        response = render(
            request,
            "shop/queue.html",
            {"site": the_site, "day": day, "place": place, "refresh": QUEUE_REFRESH_SECONDS},
        )
    if joined is not None:
        response.set_signed_cookie(
            QUEUE_COOKIE.format(the_site.pk),
            joined.token,
            salt=QUEUE_SALT,
            max_age=24 * 3600,
            httponly=True,
            samesite="Lax",
            secure=request.is_secure(),
        )
    return response


# --- The site and its calendar --------------------------------------------------------------


@require_GET
def index(request: HttpRequest) -> HttpResponse:
    sites = list(Site.objects.filter(is_active=True).order_by("pk"))
    if len(sites) == 1:
        return redirect(reverse("shop:site", args=[sites[0].code]))
    return render(request, "shop/index.html", {"sites": sites})


@never_cache
@require_GET
def site_home(request: HttpRequest, site: str) -> HttpResponse:
    the_site = _site(site)
    now = timezone.now()
    today = site_today(the_site, now)
    month = today.replace(day=1)
    raw = request.GET.get("month", "")
    if re.fullmatch(r"\d{4}-\d{2}", raw):
        with contextlib.suppress(ValueError):
            month = dt.date.fromisoformat(f"{raw}-01")
    member = signed_in_member(request)
    first, last = sale_days(the_site, now, member)
    month = min(max(month, first.replace(day=1)), last.replace(day=1))
    return render(
        request,
        "shop/site.html",
        {
            "site": the_site,
            "notices": selectors.notices(site=the_site, today=today),
            "month": selectors.month_calendar(site=the_site, month=month, now=now, member=member),
            "today": today,
        },
    )


# --- Booking --------------------------------------------------------------------------------


@dataclass
class Chosen:
    offer: Offer
    quantity: int
    slot: int | None
    visitors: list[dict[str, str]]

    @property
    def subtotal(self) -> Any:
        return self.offer.price * self.quantity

    @property
    def slot_label(self) -> str:
        for s in self.offer.slots:
            if s.id == self.slot and s.start is not None and s.end is not None:
                return f"{s.start:%H:%M}–{s.end:%H:%M}"
        return ""


def _quantity(raw: str) -> int:
    raw = raw.strip()
    if raw == "":
        return 0
    if not re.fullmatch(r"\d{1,3}", raw) or int(raw) > services.MAX_QUANTITY:
        raise sales_errors.InvalidQuantity(
            details={"quantity": raw[:10], "max": services.MAX_QUANTITY}
        )
    return int(raw)


def _chosen(data: Any, offers: list[Offer]) -> list[Chosen]:
    """The quantities and slots a form chose; refused when a value is not a small whole
    number, a slot is not one of the product's, or nothing was chosen."""
    out = []
    for offer in offers:
        n = _quantity(str(data.get(f"q_{offer.product_id}", "")))
        if not n:
            continue
        slot_ids = [s.id for s in offer.slots]
        raw_slot = str(data.get(f"s_{offer.product_id}", "")).strip()
        if len(slot_ids) == 1:
            slot = slot_ids[0]
        elif raw_slot.isdigit() and int(raw_slot) in slot_ids:
            slot = int(raw_slot)
        else:
            raise InvalidSlot(details={"product": offer.product_id})
        visitors = [
            {
                "name": str(data.get(f"v_{offer.product_id}_{i}_name", ""))[:100],
                "id_number": str(data.get(f"v_{offer.product_id}_{i}_id", ""))[:40],
            }
            for i in range(n * offer.persons if offer.real_name else 0)
        ]
        out.append(Chosen(offer, n, slot, visitors))
    if not out:
        raise services.NoTickets()
    return out


def _offers(site: Site, day: dt.date, request: HttpRequest | None = None) -> list[Offer]:
    return selectors.day_offers(
        site=site,
        day=day,
        channel=selectors.shop_channel(),
        member=signed_in_member(request) if request is not None else None,
    )


def _day_page(
    request: HttpRequest,
    site: Site,
    day: dt.date,
    error: DomainError | None = None,
    offers: list[Offer] | None = None,
) -> HttpResponse:
    if offers is None:
        try:
            offers = _offers(site, day, request)
        except DomainError as exc:
            offers, error = [], error or exc
    return render(
        request,
        "shop/day.html",
        {
            "site": site,
            "day": day,
            "offers": offers,
            "error": error,
            "max_quantity": services.MAX_QUANTITY,
            "member": signed_in_member(request),
        },
        status=error.status if error else 200,
    )


@never_cache
@require_GET
def day(request: HttpRequest, site: str, date: str) -> HttpResponse:
    the_site, the_day = _site(site), _date(date)
    return _queue_gate(request, the_site, the_day) or _day_page(request, the_site, the_day)


def _details_page(
    request: HttpRequest,
    site: Site,
    day: dt.date,
    chosen: list[Chosen],
    error: DomainError | None = None,
) -> HttpResponse:
    member = signed_in_member(request)
    return render(
        request,
        "shop/details.html",
        {
            "site": site,
            "day": day,
            "chosen": chosen,
            "total": sum((c.subtotal for c in chosen), 0),
            "phone": str(request.POST.get("phone", "") or (member.phone if member else ""))[:32],
            "form_key": request.POST.get("form_key") or secrets.token_hex(16),
            "member": member,
            "error": error,
        },
        status=error.status if error else 200,
    )


@never_cache
@require_POST
def details(request: HttpRequest, site: str, date: str) -> HttpResponse:
    """Step two: visitors' names and ID numbers where the ticket needs them, and the phone."""
    the_site, the_day = _site(site), _date(date)
    gate = _queue_gate(request, the_site, the_day)
    if gate is not None:
        return gate
    try:
        offers = _offers(the_site, the_day, request)
    except DomainError as exc:
        return _day_page(request, the_site, the_day, exc)
    try:
        chosen = _chosen(request.POST, offers)
    except DomainError as exc:
        return _day_page(request, the_site, the_day, exc, offers)
    return _details_page(request, the_site, the_day, chosen)


@never_cache
@require_POST
def place(request: HttpRequest, site: str, date: str) -> HttpResponse:
    """Step three: place the order, then on to its page to pay."""
    the_site, the_day = _site(site), _date(date)
    gate = _queue_gate(request, the_site, the_day)
    if gate is not None:
        return gate
    try:
        offers = _offers(the_site, the_day, request)
        chosen = _chosen(request.POST, offers)
    except DomainError as exc:
        return _day_page(request, the_site, the_day, exc)
    try:
        order = services.shop_order_place(
            site=the_site,
            lines=[
                LineRequest(
                    product=c.offer.product_id,
                    date=the_day,
                    quantity=c.quantity,
                    slot=c.slot,
                    visitors=tuple(
                        VisitorIn(v["name"], Visitor.IdType.RESIDENT_ID, v["id_number"])
                        for v in c.visitors
                    ),
                )
                for c in chosen
            ],
            contact_phone=str(request.POST.get("phone", "")),
            form_key=str(request.POST.get("form_key", "")),
            member=signed_in_member(request),
        )
    except DomainError as exc:
        return _details_page(request, the_site, the_day, chosen, exc)
    _remember(request, order.code)
    return redirect(reverse("shop:order", args=[order.code]))


# --- The order ------------------------------------------------------------------------------


def _order_page(
    request: HttpRequest, order: Order, error: DomainError | None = None
) -> HttpResponse:
    if error is None:
        order = services.shop_order_refresh(order=order)
    tickets = list(order.tickets.all())
    pending_intent = (
        order.status == Order.Status.PENDING and order.intents.filter(status="pending").exists()
    )
    lines = list(order.lines.all())
    valid_lines = {t.line_id for t in tickets if t.status == Ticket.Status.VALID}
    return render(
        request,
        "shop/order.html",
        {
            "order": order,
            "lines": lines,
            "movable": [
                ln
                for ln in lines
                if ln.pk in valid_lines and ln.product.reschedule_allowed and ln.slot_id
            ],
            "valid": [t for t in tickets if t.status == Ticket.Status.VALID],
            "tickets": tickets,
            # Pending: the page follows the payment made in the provider's page or app.
            "refresh": ORDER_REFRESH_SECONDS if order.status == Order.Status.PENDING else None,
            "paying": pending_intent,
            "error": error,
        },
        status=error.status if error else 200,
    )


@never_cache
@require_GET
def order(request: HttpRequest, code: str) -> HttpResponse:
    found = _order(request, code)
    if found is None:
        return _to_lookup(code)
    return _order_page(request, found)


@never_cache
@require_POST
def order_pay(request: HttpRequest, code: str) -> HttpResponse:
    found = _order(request, code)
    if found is None:
        return _to_lookup(code)
    try:
        intent = services.shop_order_pay(order=found, notify_url=_notify_url(request))
    except DomainError as exc:
        return _order_page(request, order_by_code(code), exc)
    return redirect(intent.pay_url)


@never_cache
@require_POST
def order_cancel(request: HttpRequest, code: str) -> HttpResponse:
    found = _order(request, code)
    if found is None:
        return _to_lookup(code)
    try:
        services.shop_order_cancel(order=found)
    except DomainError as exc:
        return _order_page(request, found, exc)
    return redirect(reverse("shop:order", args=[code]))


@never_cache
@require_POST
def order_refund(request: HttpRequest, code: str) -> HttpResponse:
    found = _order(request, code)
    if found is None:
        return _to_lookup(code)
    ids = [int(v) for v in request.POST.getlist("ticket")[:200] if v.isdigit()]
    try:
        if not ids:
            raise sales_errors.TicketNotFound()
        services.shop_order_refund(order=found, ticket_ids=ids)
    except DomainError as exc:
        return _order_page(request, order_by_code(code), exc)
    return redirect(reverse("shop:order", args=[code]))


@never_cache
@require_http_methods(["GET", "POST"])
def order_reschedule(request: HttpRequest, code: str) -> HttpResponse:
    """Change the date of one line: pick a day, then one of its slots."""
    found = _order(request, code)
    if found is None:
        return _to_lookup(code)
    data = request.POST if request.method == "POST" else request.GET
    raw_line = str(data.get("line", ""))
    line = next((ln for ln in found.lines.all() if str(ln.pk) == raw_line), None)
    if line is None:
        raise Http404
    error: DomainError | None = None
    slots: list[Any] = []
    new_day = None
    raw_day = str(data.get("date", ""))
    if raw_day:
        try:
            new_day = dt.date.fromisoformat(raw_day[:10])
        except ValueError:
            error = sales_errors.PastDate(details={"date": raw_day[:10]})
    if new_day is not None:
        try:
            offer = next(
                (o for o in _offers(found.site, new_day) if o.product_id == line.product_id),
                None,
            )
            if offer is None:
                raise sales_errors.NotOnSale(details={"date": new_day.isoformat()})
            slots = offer.slots
            if request.method == "POST":
                raw_slot = str(data.get("slot", ""))
                services.shop_order_reschedule(
                    order=found,
                    line_id=line.pk,
                    date=new_day,
                    slot=int(raw_slot) if raw_slot.isdigit() else None,
                )
                return redirect(reverse("shop:order", args=[code]))
        except DomainError as exc:
            error = exc
    return render(
        request,
        "shop/reschedule.html",
        {"order": found, "line": line, "day": new_day, "slots": slots, "error": error},
        status=error.status if error else 200,
    )


@never_cache
@require_GET
def order_tickets(request: HttpRequest, code: str) -> HttpResponse:
    """The e-tickets: everything inline (style, QR codes), so the page needs nothing more once
    loaded; the page keeps a copy of itself for the service worker to show offline."""
    found = _order(request, code)
    if found is None:
        return _to_lookup(code)
    tickets = [
        (t, mark_safe(qr_svg(t.code, scale=5, fluid=True)))  # segno's own SVG markup
        for t in found.tickets.select_related("product").order_by("pk")
        if t.status in Ticket.LIVE and t.code
    ]
    return render(request, "shop/tickets.html", {"order": found, "tickets": tickets})


@require_http_methods(["GET", "POST"])
@never_cache
def lookup(request: HttpRequest) -> HttpResponse:
    error: DomainError | None = None
    code = str(request.POST.get("code") or request.GET.get("code") or "")[:16]
    if request.method == "POST":
        try:
            found = services.shop_order_find(code=code, phone=str(request.POST.get("phone", "")))
        except DomainError as exc:
            error = exc
        else:
            _remember(request, found.code)
            return redirect(reverse("shop:order", args=[found.code]))
    return render(
        request,
        "shop/lookup.html",
        {"code": code, "error": error},
        status=error.status if error else 200,
    )


SERVICE_WORKER = """// The shop's service worker: pages kept in its cache (e-tickets keep
// themselves) open when the network is down.
self.addEventListener("install", function () { self.skipWaiting(); });
self.addEventListener("activate", function (e) { e.waitUntil(self.clients.claim()); });
self.addEventListener("fetch", function (e) {
  if (e.request.method !== "GET" || e.request.mode !== "navigate") return;
  e.respondWith(fetch(e.request).catch(function () {
    return caches.open("admit-shop").then(function (c) { return c.match(e.request.url); })
      .then(function (r) { return r || Response.error(); });
  }));
});
"""


@require_GET
def service_worker(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(SERVICE_WORKER, content_type="application/javascript")
    response["Cache-Control"] = "no-cache"
    return response
