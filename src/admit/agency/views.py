"""The agency portal's pages: log in, the account's dashboard, book for a group, an order.

Thin: prices come from ``agency_quote``, bookings from ``agency_book`` (placed and paid in one
transaction), refunds from ``order_refund``. Only users of an active B2B account get in; an
order of another account is a 404 like an unknown code.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from decimal import Decimal
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.views import LoginView, redirect_to_login
from django.core import signing
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from admit.core.errors import DomainError, NotFound, ValidationFailed
from admit.customers.models import Account
from admit.customers.selectors import account_id_of
from admit.sales.models import Order
from admit.sales.selectors import order_by_code
from admit.sales.services import LineRequest, VisitorIn, order_cancel, order_pay, order_refund
from admit.sales.services.agency import (
    PAY_FROM,
    agency_account,
    agency_book,
    agency_quote,
)
from admit.sales.views import tickets_pdf_response
from admit.tickets.models import Ticket

from .selectors import (
    Bookable,
    account_contract,
    account_ledger,
    account_orders,
    bookable_products,
)

QUOTE_SALT = "admit.agency.quote"
QUOTE_MAX_AGE = 30 * 60  # seconds a quote may be paid for before it is priced again
MAX_VISITOR_ROWS = 2000

PortalView = Callable[..., HttpResponse]


class AgencyLoginForm(AuthenticationForm):
    """The back office's password login (with its lockout), for a B2B account's users only."""

    def confirm_login_allowed(self, user: Any) -> None:
        super().confirm_login_allowed(user)
        if account_id_of(user) is None:
            raise ValidationError(
                _(
                    "This login does not belong to a travel agency or corporate account. "
                    "The venue's staff work in the back office or the box office."
                ),
                code="not_an_account_user",
            )


class AgencyLoginView(LoginView):
    template_name = "agency/login.html"
    authentication_form = AgencyLoginForm

    def get_default_redirect_url(self) -> str:
        return reverse("agency:home")


def portal(view: PortalView) -> PortalView:
    """A portal page: a logged-in user of an active B2B account, or the login page, or a
    refusal that says why."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path(), reverse("agency:login"))
        try:
            account = agency_account(request.user)
        except DomainError as exc:
            return render(request, "agency/refused.html", {"error": exc}, status=exc.status)
        return view(request, account, *args, **kwargs)

    return wrapped


@require_POST
def logout_(request: HttpRequest) -> HttpResponse:
    logout(request)
    return redirect("agency:login")


# --- Dashboard ------------------------------------------------------------------------------


@require_GET
@portal
def dashboard(request: HttpRequest, account: Account) -> HttpResponse:
    today = timezone.localdate()
    contract = account_contract(account, today)
    return render(
        request,
        "agency/dashboard.html",
        {
            "account": account,
            "contract": contract,
            "contract_valid": contract is not None
            and contract.valid_from <= today <= contract.valid_until,
            "ledger": account_ledger(account),
            "orders": account_orders(account),
        },
    )


# --- Booking --------------------------------------------------------------------------------


def _day(value: str | None) -> dt.date:
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    if not value:
        return tomorrow
    try:
        return dt.date.fromisoformat(value.strip()[:10])
    except ValueError as exc:
        raise ValidationFailed(_("Choose a valid visit date."), code="invalid_date") from exc


def _int(value: str, field: str) -> int:
    try:
        return int(value.strip())
    except ValueError as exc:
        raise ValidationFailed(
            _("Quantities and group sizes are whole numbers."),
            code="invalid_quantity",
            details={"field": field},
        ) from exc


def _visitors(text: str) -> tuple[VisitorIn, ...]:
    """Names and ID numbers typed one visitor a line: ``name, ID number``."""
    rows = [r for r in text.splitlines() if r.strip()][:MAX_VISITOR_ROWS]
    out = []
    for row in rows:
        parts = [p for p in re.split(r"[,，\t;；]+|\s{2,}", row.strip()) if p.strip()]
        if len(parts) == 1 and " " in parts[0]:
            parts = parts[0].rsplit(" ", 1)
        name, number = [*parts, ""][:2]
        out.append(VisitorIn(name.strip()[:100], "resident_id", number.strip()[:40]))
    return tuple(out)


def _form_lines(data: Any, day: dt.date) -> list[dict[str, Any]]:
    """The lines of the booking form as plain data (what a quote token carries)."""
    lines = []
    for key in sorted(k for k in data if k.startswith("qty-")):
        raw = (data.get(key) or "").strip()
        if not raw:
            continue
        product = _int(key[4:], key)
        quantity = _int(raw, key)
        if quantity == 0:
            continue
        persons = (data.get(f"persons-{product}") or "").strip()
        slot = (data.get(f"slot-{product}") or "").strip()
        visitors = _visitors(data.get(f"visitors-{product}") or "")
        lines.append(
            {
                "product": product,
                "quantity": quantity,
                "persons": _int(persons, "persons") if persons else None,
                "slot": _int(slot, "slot") if slot else None,
                "visitors": [[v.name, v.id_number] for v in visitors],
            }
        )
    if not lines:
        raise ValidationFailed(_("Enter how many tickets of which kind."), code="no_lines")
    return lines


def _requests(day: dt.date, lines: list[dict[str, Any]]) -> list[LineRequest]:
    return [
        LineRequest(
            product=ln["product"],
            date=day,
            quantity=ln["quantity"],
            slot=ln["slot"],
            persons=ln["persons"],
            visitors=tuple(VisitorIn(n, "resident_id", i) for n, i in ln["visitors"]),
        )
        for ln in lines
    ]


def _book_page(
    request: HttpRequest,
    account: Account,
    *,
    day: dt.date,
    error: DomainError | None = None,
    quote: Any = None,
    token: str = "",
    data: Any = None,
) -> HttpResponse:
    products, none_why = bookable_products(account, day)
    account.refresh_from_db()
    if data is None:
        data = request.POST if request.method == "POST" else request.GET
    rows = [_row(b, data) for b in products]
    total = quote.total if quote is not None else None
    return render(
        request,
        "agency/book.html",
        {
            "account": account,
            "day": day,
            "today": timezone.localdate(),
            "rows": rows,
            "none_why": none_why,
            "contact_name": data.get("contact_name", ""),
            "contact_phone": data.get("contact_phone", ""),
            "guide": data.get("guide", ""),
            "error": error,
            "quote": quote,
            "token": token,
            "prepaid_enough": total is not None and account.prepaid_balance >= total,
            "credit_enough": total is not None and account.credit_available >= total,
        },
        status=error.status if error else 200,
    )


def _row(b: Bookable, data: Any) -> dict[str, Any]:
    pk = b.product.pk
    chosen = data.get(f"slot-{pk}", "")
    if not chosen:
        first = next((s for s in b.slots if s.pool and (s.remaining is None or s.remaining)), None)
        chosen = str(first.pool.pk) if first and first.pool else ""
    return {
        "b": b,
        "qty": data.get(f"qty-{pk}", ""),
        "persons": data.get(f"persons-{pk}", "") or (b.product.persons if b.is_group else ""),
        "slot": chosen,
        "visitors": data.get(f"visitors-{pk}", ""),
    }


@require_http_methods(["GET", "POST"])
@portal
def book(request: HttpRequest, account: Account) -> HttpResponse:
    """GET: the form for a day. POST ``action=quote``: the engine's price with the contract
    discount and the two ways to pay; ``action=prepaid|credit``: book and pay what was quoted."""
    try:
        day = _day((request.POST if request.method == "POST" else request.GET).get("date"))
    except DomainError as exc:
        return _book_page(request, account, day=_day(None), error=exc)
    if request.method == "GET":
        return _book_page(request, account, day=day)
    action = request.POST.get("action", "quote")
    if action in ("prepaid", "credit"):
        return _pay(request, account, action)
    try:
        lines = _form_lines(request.POST, day)
        quote = agency_quote(
            actor=request.user,
            lines=_requests(day, lines),
            contact_name=request.POST.get("contact_name", ""),
            contact_phone=request.POST.get("contact_phone", ""),
            guide_licence=request.POST.get("guide", ""),
        )
    except DomainError as exc:
        return _book_page(request, account, day=day, error=exc)
    token = signing.dumps(
        {
            "user": request.user.pk,
            "date": day.isoformat(),
            "lines": lines,
            "name": request.POST.get("contact_name", "")[:100],
            "phone": request.POST.get("contact_phone", "")[:32],
            "guide": request.POST.get("guide", "")[:40],
            "total": str(quote.total),
        },
        salt=QUOTE_SALT,
        compress=True,
    )
    return _book_page(request, account, day=day, quote=quote, token=token)


def _form_data(booking: dict[str, Any]) -> dict[str, str]:
    """The booking form's fields again, from a quote token."""
    data = {
        "date": booking["date"],
        "contact_name": booking["name"],
        "contact_phone": booking["phone"],
        "guide": booking["guide"],
    }
    for ln in booking["lines"]:
        pk = ln["product"]
        data[f"qty-{pk}"] = str(ln["quantity"])
        data[f"persons-{pk}"] = str(ln["persons"] or "")
        data[f"slot-{pk}"] = str(ln["slot"] or "")
        data[f"visitors-{pk}"] = "\n".join(f"{n}, {i}" for n, i in ln["visitors"])
    return data


def _pay(request: HttpRequest, account: Account, pay_from: str) -> HttpResponse:
    try:
        booking = signing.loads(
            request.POST.get("quote", ""), salt=QUOTE_SALT, max_age=QUOTE_MAX_AGE
        )
        if booking.get("user") != request.user.pk:
            raise signing.BadSignature
    except signing.BadSignature:  # expired, altered or another user's
        error = ValidationFailed(
            _("The quote has expired: get the price again."), code="quote_expired"
        )
        return _book_page(request, account, day=_day(request.POST.get("date")), error=error)
    day = dt.date.fromisoformat(booking["date"])
    requests = _requests(day, booking["lines"])
    data = _form_data(booking)
    try:
        order = agency_book(
            actor=request.user,
            lines=requests,
            pay_from=pay_from,
            contact_name=booking["name"],
            contact_phone=booking["phone"],
            guide_licence=booking["guide"],
            expected_total=Decimal(booking["total"]),
        )
    except DomainError as exc:
        # Nothing was booked: show the refusal with the quote as it stands now.
        try:
            quote = agency_quote(actor=request.user, lines=requests)
        except DomainError:
            return _book_page(request, account, day=day, error=exc, data=data)
        return _book_page(
            request,
            account,
            day=day,
            error=exc,
            quote=quote,
            token=request.POST.get("quote", ""),
            data=data,
        )
    messages.success(
        request,
        _("Booked and paid: order %(code)s, ¥%(total)s.")
        % {"code": order.code, "total": order.total},
    )
    return redirect("agency:order", code=order.code)


# --- One order ------------------------------------------------------------------------------


def _own_order(account: Account, code: str) -> Order:
    """The account's order with this code; another account's is as unknown as a wrong code."""
    try:
        order = order_by_code(code)
    except NotFound as exc:
        raise Http404(str(exc.message)) from exc
    if order.account_id != account.pk:
        raise Http404(_("No such order."))
    return order


@require_GET
@portal
def order(request: HttpRequest, account: Account, code: str) -> HttpResponse:
    o = _own_order(account, code)
    tickets = list(Ticket.objects.filter(order=o).select_related("product").order_by("id"))
    return render(
        request,
        "agency/order.html",
        {
            "account": account,
            "order": o,
            "lines": list(o.lines.all()),
            "tickets": tickets,
            "payments": list(o.payments.all()),
            "refunds": list(o.refunds.all()),
            "visitors": sum(ln.quantity * ln.persons for ln in o.lines.all()),
            "printable": any(t.status == Ticket.Status.VALID for t in tickets),
            "refundable": [
                t.pk for t in tickets if t.status == Ticket.Status.VALID and not t.entries_used
            ],
        },
    )


@require_GET
@portal
def tickets_pdf(request: HttpRequest, account: Account, code: str) -> HttpResponse:
    """All valid tickets of the order on A4, one a page, as a download."""
    o = _own_order(account, code)
    try:
        response = tickets_pdf_response(o, "a4")
    except DomainError as exc:  # no valid tickets (unpaid, all refunded)
        messages.error(request, str(exc.message))
        return redirect("agency:order", code=o.code)
    response["Content-Disposition"] = f'attachment; filename="tickets-{o.code}.pdf"'
    return response


@require_POST
@portal
def refund(request: HttpRequest, account: Account, code: str) -> HttpResponse:
    """Refund the ticked unused tickets under the products' refund rules; the money goes back
    to the prepaid balance or the credit it came from."""
    o = _own_order(account, code)
    try:
        ids = [_int(v, "ticket") for v in request.POST.getlist("ticket")]
        if not ids:
            raise ValidationFailed(_("Tick the tickets to refund."), code="no_tickets")
        rows = order_refund(order=o, actor=request.user, ticket_ids=ids, reason="agency portal")
    except DomainError as exc:
        messages.error(request, str(exc.message))
    else:
        amount = sum((r.amount for r in rows), Decimal("0.00"))
        messages.success(request, _("Refunded ¥%(amount)s.") % {"amount": amount})
    return redirect("agency:order", code=o.code)


@require_POST
@portal
def pay(request: HttpRequest, account: Account, code: str) -> HttpResponse:
    """Pay an order that awaits payment (one placed through the API) from prepaid or credit."""
    o = _own_order(account, code)
    pay_from = request.POST.get("pay_from", "")
    try:
        if pay_from not in PAY_FROM:
            raise ValidationFailed(_("Choose how to pay."), code="method_not_allowed")
        order_pay(order=o, method=PAY_FROM[pay_from], amount=None, actor=request.user)
    except DomainError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("Paid: ¥%(total)s.") % {"total": o.total})
    return redirect("agency:order", code=o.code)


@require_POST
@portal
def cancel(request: HttpRequest, account: Account, code: str) -> HttpResponse:
    """Cancel an order that awaits payment; its places are freed."""
    o = _own_order(account, code)
    try:
        order_cancel(order=o, actor=request.user)
    except DomainError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("The order is cancelled."))
    return redirect("agency:order", code=o.code)
