"""The cashier's point of sale at /boxoffice/: one page, and the JSON it talks to.

Thin: every write is a service (``services.window``, ``services.printing``, ``shift_open``);
these views read the request, call it, and answer HTML, JSON (``{"error": {...}}`` with the
domain error's code and status on refusal) or a PDF. A request without a staff session is sent
to the login page (pages) or refused with 401 (JSON); a user who may not sell at the window
sees a refusal page; bad input is a 400 with a code, never a 500.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import replace
from decimal import Decimal
from functools import wraps
from typing import Any

from django.contrib.admin.views.decorators import staff_member_required
from django.db.models import Q
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from admit.accounts.rights import has
from admit.catalog.models import Channel, Product
from admit.catalog.selectors import product_price, site_day
from admit.core.errors import (
    AuthenticationFailed,
    DomainError,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from admit.core.idempotency import fingerprint, run_idempotent
from admit.core.money import money_str
from admit.customers.errors import MemberNotFound
from admit.customers.models import Account, Member
from admit.customers.selectors import member_of
from admit.inventory.selectors import availability, open_slots
from admit.inventory.services import pools_ensure
from admit.sales.models import Order, PaymentIntent
from admit.sales.pricing import ManualDiscount
from admit.sales.selectors import order_by_code
from admit.sales.services import (
    LineRequest,
    VisitorIn,
    intent_sync,
    order_cancel,
    order_pay_online,
)
from admit.sales.services.common import paid_total
from admit.sales.services.orders import MAX_LINES, prepare, site_today
from admit.sales.views import qr_svg
from admit.tickets.models import Ticket, TicketMedium
from admit.tickets.services import medium_bind

from . import handover
from .errors import NoOpenShift, TerminalNotFound
from .json_calls import date_in, error_response, int_in, json_body
from .models import DiscountPreset, Shift, Terminal, TicketPrint
from .selectors import open_shift
from .services import (
    Tender,
    approval_check,
    discount_needs_approval,
    sellable_products,
    shift_open,
    window_order,
    window_pay,
    window_refund,
    window_sell,
    window_void,
)
from .services.printing import tickets_print

SELL = "boxoffice.sell_at_window"
DAYS_SHOWN = 7
NOTIFY_PATH = "/api/v1/payments/sandbox/notify"  # where the sales API hears from the provider


class _Approver:
    """Stands for a supervisor while a basket is only priced: up to 100 %, never a superuser."""

    is_superuser = False
    discount_limit_percent = Decimal(100)


def _may_sell(user: Any) -> bool:
    return has(user, SELL)


PosView = Callable[..., HttpResponse]


def pos_json(view: PosView) -> PosView:
    """A JSON endpoint of the point of sale: a staff session that may sell, the user's open
    shift, and every refusal as the uniform error body."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user = request.user
        try:
            if not user.is_authenticated or not user.is_staff:
                raise AuthenticationFailed()
            if not _may_sell(user):
                raise PermissionDenied(
                    _("You may not sell at the window."), details={"needs": [SELL]}
                )
            shift = open_shift(user)
            if shift is None:
                raise NoOpenShift(details={"user": user.get_username()})
            return view(request, shift, *args, **kwargs)
        except DomainError as exc:
            return error_response(exc)
        except (ValueError, TypeError, KeyError, ArithmeticError) as exc:
            return error_response(ValidationFailed(details={"reason": type(exc).__name__}))

    return wrapped


# --- Pages --------------------------------------------------------------------------------


@staff_member_required(login_url="/admin/login/")
@require_GET
def pos(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not _may_sell(user):
        return render(request, "boxoffice/pos_refused.html", status=403)
    shift = open_shift(user)
    if shift is None:
        return _open_page(request)
    terminal = shift.terminal
    site = terminal.site
    today = site_today(site, timezone.now())
    presets = [
        {"id": p.pk, "name": _preset_name(p), "percent": str(p.percent)}
        for p in DiscountPreset.objects.filter(is_active=True)
        .filter(Q(groups__isnull=True) | Q(groups__in=user.groups.all()))
        .distinct()
        .order_by("sort", "percent")
    ]
    accounts = [
        {"id": a.pk, "name": a.name, "code": a.code}
        for a in Account.objects.filter(is_active=True).order_by("name")[:200]
    ]
    config = {
        "shift": shift.pk,
        "terminal": terminal.code,
        "site": site.pk,
        "today": today.isoformat(),
        "days": [(today + dt.timedelta(days=i)).isoformat() for i in range(DAYS_SHOWN)],
        "limit": "100"
        if user.is_superuser
        else str(getattr(user, "discount_limit_percent", None) or 0),
        "presets": presets,
        "accounts": accounts,
        "rights": {
            "refund": has(user, "sales.refund_order"),
            "void": has(user, "boxoffice.void_sale"),
            "reprint": has(user, "boxoffice.reprint_ticket"),
        },
        "urls": {
            "day": reverse("boxoffice:pos_day"),
            "quote": reverse("boxoffice:pos_quote"),
            "checkout": reverse("boxoffice:pos_checkout"),
            "recent": reverse("boxoffice:pos_recent"),
            "member": reverse("boxoffice:pos_member"),
            "order": reverse("boxoffice:pos_order", args=["CODE"]),
        },
    }
    return render(
        request,
        "boxoffice/pos.html",
        {
            "shift": shift,
            "close_url": reverse("boxoffice:close", args=[shift.pk]),
            "config": config,
            "strings": _strings(),
        },
    )


def _strings() -> dict[str, Any]:
    """What the page's script says, in the active language."""
    return {
        "failed": _("The request failed."),
        "today": _("Today"),
        "tomorrow": _("Tomorrow"),
        "left": _("%s left"),
        "closed": _("The site is closed on this day."),
        "not_on_sale": _("not on sale"),
        "per_person": _("per person"),
        "persons": _("persons"),
        "real_name": _("names needed"),
        "no_products": _("You have no products to sell here."),
        "empty_basket": _("The basket is empty: press a ticket's key."),
        "name": _("Name"),
        "id_number": _("ID number"),
        "remove": _("Remove"),
        "group_size": _("Group size"),
        "order": _("Order"),
        "to_pay": _("To pay"),
        "due_on_order": _("Due on the order"),
        "part_amount": _("A part must be less than what is still due."),
        "choose_method": _("Choose how the visitor pays (F2 cash, F3 card, F4 QR, F6 account)."),
        "qr_whole": _("A QR payment pays the whole sale; take cash or card for a part instead."),
        "waiting": _("Waiting for the payment…"),
        "cancelled": _("The sale is cancelled."),
        "printing": _("Printing…"),
        "printed": _("Sent to the printer."),
        "open_pdf": _("Open the tickets (PDF)"),
        "card_uid": _("Card UID"),
        "bind_card": _("Bind card"),
        "bound": _("Bound"),
        "points": _("%s points"),
        "sales": _("Sales"),
        "tickets": _("Tickets"),
        "cash_drawer": _("Cash in drawer"),
        "taken": _("Money taken"),
        "paid_back": _("Paid back"),
        "float": _("Float"),
        "refunded": _("refunded"),
        "printed_n": _("printed %s×"),
        "pay_due": _("Take payment"),
        "print": _("Print"),
        "reprint": _("Reprint selected"),
        "refund_selected": _("Refund selected"),
        "void": _("Void sale"),
        "no_sales": _("No sales in this shift yet."),
        "pick_tickets": _("Tick the tickets first."),
        "reason_needed": _("Give a reason for the reprint."),
        "reprinted": _("Reprinted."),
        "refund_done": _("Refunded %s: pay it back to the visitor."),
        "void_done": _("Voided: pay back %s."),
        "reason_reprint": _("Reason (refunds and reprints)"),
        "methods": {
            "cash": _("Cash"),
            "card": _("Bank card"),
            "account": _("Account"),
            "online": _("QR code"),
        },
    }


def _preset_name(preset: DiscountPreset) -> str:
    if (get_language() or "").startswith("en") and preset.name_en:
        return preset.name_en
    return preset.name


def _open_page(request: HttpRequest, error: DomainError | None = None) -> HttpResponse:
    user = request.user
    terminals = (
        Terminal.objects.filter(kind=Terminal.Kind.WINDOW, is_active=True)
        .select_related("site")
        .order_by("code")
    )
    busy = set(Shift.objects.filter(status=Shift.Status.OPEN).values_list("terminal_id", flat=True))
    last = Shift.objects.filter(cashier_id=user.pk).order_by("-opened_at").first()
    return render(
        request,
        "boxoffice/pos_open.html",
        {
            "terminals": terminals,
            "busy": busy,
            "error": error,
            "last_shift": last,
            "chosen": request.POST.get("terminal", ""),
            "float": request.POST.get("opening_float", ""),
        },
        status=error.status if error else 200,
    )


@staff_member_required(login_url="/admin/login/")
@require_POST
def open_(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not _may_sell(user):
        return render(request, "boxoffice/pos_refused.html", status=403)
    try:
        terminal = Terminal.objects.filter(pk=int(request.POST.get("terminal") or 0)).first()
        if terminal is None:
            raise TerminalNotFound(_("Choose a ticket window."))
        shift_open(
            terminal=terminal,
            cashier=user,
            opening_float=(request.POST.get("opening_float") or "").strip() or "x",
            actor=user,
        )
    except DomainError as exc:
        return _open_page(request, exc)
    except ValueError:
        return _open_page(request, TerminalNotFound(_("Choose a ticket window.")))
    return redirect("boxoffice:pos")


# --- Reading: the day's products, a basket's price, recent sales ----------------------------


@require_GET
@pos_json
def day(request: HttpRequest, shift: Shift) -> HttpResponse:
    """The products this cashier sells here, with the day's price and places left by slot."""
    when = date_in(request.GET.get("date") or "")
    site = shift.terminal.site
    info = site_day(site=site, day=when)
    channel = Channel.objects.get(code=shift.terminal.channel_code)
    products = []
    allowed = [p.pk for p in sellable_products(terminal=shift.terminal, cashier=request.user)]
    loaded = (
        Product.objects.filter(pk__in=allowed)
        .select_related("site", "category")
        .prefetch_related("zones", "components__zone", "prices__channel")
        .in_bulk()
    )
    for p in (loaded[pk] for pk in allowed):
        price = (
            None
            if info.closed
            else product_price(product=p, channel=channel.code, day=when, day_type=info.day_type)
        )
        slots = []
        if price is not None and p.takes_capacity and when >= site_today(site, timezone.now()):
            pools_ensure(site=site, day=when, zones=p.capacity_zones)
            found = availability(product=p, day=when, channel=channel)
            still = open_slots(found, day=when, now=timezone.now(), time_zone=site.time_zone)
            if found and not still:
                price = None  # every time slot of today has ended: nothing left to sell
            slots = [
                {
                    "slot": s.pool.pk if s.pool else None,
                    "start": s.start.strftime("%H:%M") if s.start else None,
                    "end": s.end.strftime("%H:%M") if s.end else None,
                    "remaining": s.remaining,
                }
                for s in still
            ]
        products.append(
            {
                "id": p.pk,
                "code": p.code,
                "name": p.display_name,
                "kind": p.kind,
                "persons": p.persons,
                "max_persons": p.max_persons,
                "real_name": p.real_name_required,
                "card": "card" in (p.allowed_media or []),
                "price": money_str(price) if price is not None else None,
                "slots": slots,
            }
        )
    return JsonResponse(
        {
            "date": when.isoformat(),
            "closed": info.closed,
            "day_type": info.day_type,
            "products": products,
        }
    )


def _lines(data: dict[str, Any], shift: Shift) -> list[LineRequest]:
    raw = data.get("lines")
    if not isinstance(raw, list) or not raw:
        raise ValidationFailed(_("The basket is empty."), code="no_lines")
    if len(raw) > MAX_LINES:
        raise ValidationFailed(code="invalid_quantity", details={"lines": len(raw)})
    out = []
    for index, ln in enumerate(raw):
        if not isinstance(ln, dict):
            raise ValidationFailed(code="invalid_line", details={"line": index})
        visitors = ln.get("visitors") or []
        if not isinstance(visitors, list) or len(visitors) > 2000:
            raise ValidationFailed(code="invalid_visitor", details={"line": index})
        out.append(
            LineRequest(
                product=int_in(ln.get("product"), "product"),
                date=date_in(ln.get("date")),
                quantity=int_in(ln.get("quantity"), "quantity"),
                slot=int_in(ln["slot"], "slot") if ln.get("slot") is not None else None,
                persons=int_in(ln["persons"], "persons") if ln.get("persons") is not None else None,
                visitors=tuple(
                    VisitorIn(
                        str(v.get("name", ""))[:100],
                        str(v.get("id_type") or "resident_id")[:20],
                        str(v.get("id_number", ""))[:40],
                    )
                    for v in visitors
                    if isinstance(v, dict)
                ),
            )
        )
    return out


def _percent(data: dict[str, Any]) -> tuple[Decimal | None, str]:
    d = data.get("discount") or {}
    if not isinstance(d, dict) or d.get("percent") in (None, "", 0):
        return None, ""
    try:
        percent = Decimal(str(d["percent"])).quantize(Decimal("0.01"))
    except ArithmeticError as exc:
        raise ValidationFailed(code="invalid_discount") from exc
    if not Decimal(0) <= percent <= Decimal(100):
        raise ValidationFailed(code="invalid_discount", details={"percent": str(percent)})
    return (percent or None), str(d.get("reason") or "")[:200]


@require_POST
@pos_json
def quote(request: HttpRequest, shift: Shift) -> HttpResponse:
    """A basket's price by the sales engine, nothing sold: lines, discount, total, and whether
    the discount needs a supervisor."""
    data = json_body(request)
    lines = _lines(data, shift)
    percent, reason = _percent(data)
    manual = ManualDiscount(percent=percent, reason=reason) if percent else None
    needs_approval = discount_needs_approval(actor=request.user, percent=percent)
    # Names are taken at checkout; the price does not depend on them, so the basket is priced
    # with stand-ins where a product needs one name per person.
    real_name = dict(
        Product.objects.filter(
            pk__in={ln.product for ln in lines}, real_name_required=True
        ).values_list("pk", "persons")
    )
    stand_in = iter(range(1, 10**6))

    def named(ln: LineRequest) -> LineRequest:
        people = ln.quantity * (ln.persons or real_name[ln.product])
        if not 0 < people <= 2000:
            return ln
        return replace(
            ln,
            visitors=tuple(
                VisitorIn("-", "passport", f"Q{next(stand_in):07d}") for _n in range(people)
            ),
        )

    lines = [named(ln) if ln.product in real_name else ln for ln in lines]
    prepared = prepare(
        channel=shift.terminal.channel_code,
        lines=lines,
        actor=request.user,
        manual_discount=manual,
        discount_approver=_Approver() if needs_approval else None,
        member=_member(data),
        now=timezone.now(),
    )
    q = prepared.quote
    return JsonResponse(
        {
            "lines": [
                {
                    "product": ln.product.pk,
                    "name": ln.product.display_name,
                    "quantity": ln.request.quantity,
                    "persons": ln.persons,
                    "unit": money_str(lq.unit_price),
                    "base": money_str(lq.base),
                    "total": money_str(lq.total),
                    "slot": (
                        f"{ln.slot.start:%H:%M}–{ln.slot.end:%H:%M}"
                        if ln.slot is not None and ln.slot.start and ln.slot.end
                        else ""
                    ),
                }
                for ln, lq in zip(prepared.lines, q.lines, strict=True)
            ],
            "subtotal": money_str(q.subtotal),
            "discount": money_str(q.discount),
            "total": money_str(q.total),
            "needs_approval": needs_approval,
        }
    )


def _order_out(order: Order) -> dict[str, Any]:
    tickets = list(order.tickets.all())
    printed: dict[int, int] = {}
    for ticket_id in TicketPrint.objects.filter(ticket__in=tickets).values_list(
        "ticket_id", flat=True
    ):
        printed[ticket_id] = printed.get(ticket_id, 0) + 1
    lines = {ln.pk: ln for ln in order.lines.all()}
    paid = sum((p.amount for p in order.payments.all()), Decimal(0))
    return {
        "code": order.code,
        "status": order.status,
        "status_label": str(order.get_status_display()),
        "total": money_str(order.total),
        "discount": money_str(order.discount),
        "paid": money_str(paid),
        "refunded": money_str(sum((r.amount for r in order.refunds.all()), Decimal(0))),
        "due": money_str(max(order.total - paid, Decimal(0)))
        if order.status == Order.Status.PENDING
        else "0.00",
        "placed_at": timezone.localtime(order.placed_at).strftime("%H:%M"),
        "shift": order.shift_id,
        "account": order.account_id,
        "payments": [
            {
                "method": p.method,
                "label": str(p.get_method_display()),
                "amount": money_str(p.amount),
                "change": money_str(p.change) if p.change is not None else None,
            }
            for p in order.payments.all()
        ],
        "tickets": [
            {
                "id": t.pk,
                "serial": t.serial,
                "product": lines[t.line_id].product.display_name if t.line_id in lines else "",
                "kind": lines[t.line_id].product.kind if t.line_id in lines else "",
                "card": "card" in (lines[t.line_id].product.allowed_media or [])
                if t.line_id in lines
                else False,
                "persons": t.persons,
                "price": money_str(t.price),
                "status": t.status,
                "status_label": str(t.get_status_display()),
                "used": bool(t.entries_used),
                "printed": printed.get(t.pk, 0),
                "holder": t.holder_name,
                "date": t.valid_from.isoformat() if t.valid_from else "",
            }
            for t in tickets
        ],
    }


def _fresh(code: str) -> dict[str, Any]:
    return _order_out(order_by_code(code))


@require_GET
@pos_json
def recent(request: HttpRequest, shift: Shift) -> HttpResponse:
    """The shift's sales, newest first, and its running totals."""
    from admit.sales.selectors import orders_with_details

    orders = list(orders_with_details().filter(shift=shift).order_by("-placed_at", "-id")[:40])
    report = handover.compute(shift)
    return JsonResponse(
        {
            "orders": [_order_out(o) for o in orders],
            "totals": {
                "orders": report["paid_orders"],
                "tickets": report["tickets"],
                "sales": report["sales_total"],
                "taken": report["taken"],
                "paid_back": report["paid_back"],
                "cash_expected": report["cash"]["expected"],
                "float": report["cash"]["float"],
                "methods": report["methods"],
            },
        }
    )


# --- Writing: checkout, payments, refunds, voids, prints ------------------------------------


def _tenders(data: dict[str, Any]) -> list[Tender]:
    raw = data.get("tenders") or []
    if not isinstance(raw, list):
        raise ValidationFailed(code="invalid_payment")
    out = []
    for t in raw:
        if not isinstance(t, dict):
            raise ValidationFailed(code="invalid_payment")
        amount, tendered = t.get("amount"), t.get("tendered")
        out.append(
            Tender(
                method=str(t.get("method", ""))[:16],
                amount=Decimal(str(amount)) if amount not in (None, "") else None,
                tendered=Decimal(str(tendered)) if tendered not in (None, "") else None,
                reference=str(t.get("reference") or "")[:100],
            )
        )
    return out


def _member(data: dict[str, Any]) -> Member | None:
    """The member a sale is for, by phone or member number (member prices, points, passes)."""
    text = str(data.get("member") or "").strip()[:32]
    if not text:
        return None
    found = member_of(number=text.upper()) if text[:1].upper() == "M" else member_of(phone=text)
    if found is None:
        raise MemberNotFound(details={"member": text})
    return found


@require_http_methods(["GET"])
@pos_json
def member(request: HttpRequest, shift: Shift) -> HttpResponse:
    """A member by phone or number, for the basket: name, level, points and passes."""
    found = _member({"member": request.GET.get("q", "")})
    if found is None:
        raise MemberNotFound()
    return JsonResponse(
        {
            "number": found.number,
            "name": found.name,
            "level": found.level.name if found.level else "",
            "discount": str(found.level.discount_percent) if found.level else "0",
            "points": found.points,
            "passes": [
                {"number": p.number, "status": p.get_status_display(), "until": str(p.valid_until)}
                for p in found.passes.all()
            ],
        }
    )


def _account(data: dict[str, Any]) -> Account | None:
    if data.get("account") in (None, ""):
        return None
    account = Account.objects.filter(pk=int_in(data["account"], "account")).first()
    if account is None:
        raise NotFound(code="account_not_found", details={"account": str(data["account"])[:20]})
    return account


def _approver(
    request: HttpRequest, data: dict[str, Any], shift: Shift, percent: Decimal | None
) -> Any:
    """The supervisor approving a discount beyond the cashier's limit (checked with their PIN,
    outside the sale's transaction, so that a refusal stays recorded)."""
    d = data.get("discount") or {}
    if (
        percent is None
        or not discount_needs_approval(actor=request.user, percent=percent)
        or not isinstance(d, dict)
    ):
        return None
    name, pin = str(d.get("approver") or ""), str(d.get("pin") or "")
    if not name or not pin:
        return None  # the sale refuses it: discount_over_limit
    return approval_check(
        shift=shift, approver_username=name, pin=pin, percent=percent, actor=request.user
    )


def _qr_answer(request: HttpRequest, order: Order, actor: Any) -> dict[str, Any]:
    intent = order_pay_online(
        order=order, actor=actor, notify_url=request.build_absolute_uri(NOTIFY_PATH)
    )
    pay_url = request.build_absolute_uri(intent.pay_url)
    return {
        "qr": {
            "svg": qr_svg(pay_url, scale=6),
            "pay_url": pay_url,
            "amount": money_str(intent.amount),
        }
    }


def _idempotent(request: HttpRequest, data: dict[str, Any], fn: Callable[[], Any]) -> Any:
    """Run a write once per basket key the page sends (a double click, a retry after a lost
    answer): the second call gets the first answer."""
    key = str(data.get("key") or "")[:200] or None
    clean = {k: v for k, v in data.items() if k != "discount"}
    clean["discount"] = (
        {k: v for k, v in (data.get("discount") or {}).items() if k != "pin"}
        if isinstance(data.get("discount"), dict)
        else None
    )
    _status, body = run_idempotent(
        scope=f"boxoffice:{request.user.pk}",
        key=key,
        fp=fingerprint(request.path, clean),
        fn=lambda: (200, fn()),
    )
    return body


@require_POST
@pos_json
def checkout(request: HttpRequest, shift: Shift) -> HttpResponse:
    """Sell a basket: place and pay in one go (cash, card, account, in parts), or place it and
    show a QR code for the visitor to pay online."""
    data = json_body(request)
    lines = _lines(data, shift)
    percent, reason = _percent(data)
    tenders = _tenders(data)
    online = bool(data.get("qr"))
    if online and tenders:
        raise ValidationFailed(
            _("A QR payment pays the whole sale; take cash or card for a part instead."),
            code="qr_not_combined",
        )
    account = _account(data)
    member = _member(data)
    approver = _approver(request, data, shift, percent)
    user = request.user

    def sell() -> dict[str, Any]:
        order = window_sell(
            shift=shift,
            actor=user,
            lines=lines,
            tenders=tenders,
            discount_percent=percent,
            discount_reason=reason,
            approver=approver,
            account=account,
            member=member,
            contact_name=str(data.get("contact_name") or "")[:100],
            leave_pending=online,
        )
        out: dict[str, Any] = {}
        if online and order.status == Order.Status.PENDING:
            out.update(_qr_answer(request, order, user))
        out["order"] = _fresh(order.code)
        return out

    return JsonResponse(_idempotent(request, data, sell))


def _order(request: HttpRequest, shift: Shift, code: str) -> Order:
    return window_order(shift=shift, actor=request.user, order=order_by_code(code))


@require_http_methods(["GET"])
@pos_json
def order(request: HttpRequest, shift: Shift, code: str) -> HttpResponse:
    """An order by its code (a booking to collect, a sale waiting for its QR payment): a
    waiting online payment is asked about, in case its notification was lost."""
    found = _order(request, shift, code)
    if found.status == Order.Status.PENDING:
        for intent in PaymentIntent.objects.filter(
            order=found, status=PaymentIntent.Status.PENDING
        ):
            intent_sync(intent=intent)
        found = order_by_code(code)
    return JsonResponse({"order": _order_out(found)})


@require_POST
@pos_json
def pay(request: HttpRequest, shift: Shift, code: str) -> HttpResponse:
    """Take what is due on a waiting order: in parts at the window, or by QR code."""
    data = json_body(request)
    found = _order(request, shift, code)
    if data.get("qr"):
        if found.status != Order.Status.PENDING or paid_total(found) >= found.total:
            raise ValidationFailed(code="nothing_due")
        return JsonResponse({**_qr_answer(request, found, request.user), "order": _fresh(code)})
    tenders = _tenders(data)

    def take() -> dict[str, Any]:
        window_pay(shift=shift, actor=request.user, order=found, tenders=tenders)
        return {"order": _fresh(code)}

    return JsonResponse(_idempotent(request, data, take))


@require_POST
@pos_json
def cancel(request: HttpRequest, shift: Shift, code: str) -> HttpResponse:
    """Give up a sale still awaiting payment (the visitor walked away from the QR code)."""
    found = _order(request, shift, code)
    order_cancel(order=found, actor=request.user)
    return JsonResponse({"order": _fresh(code)})


def _ticket_ids(data: dict[str, Any]) -> list[int] | None:
    raw = data.get("tickets")
    if raw in (None, "all"):
        return None
    if not isinstance(raw, list) or not raw or len(raw) > 2000:
        raise ValidationFailed(code="invalid_tickets")
    return [int_in(t, "tickets", low=1) for t in raw]


@require_POST
@pos_json
def refund(request: HttpRequest, shift: Shift, code: str) -> HttpResponse:
    data = json_body(request)
    found = _order(request, shift, code)
    rows = window_refund(
        shift=shift,
        actor=request.user,
        order=found,
        ticket_ids=_ticket_ids(data),
        reason=str(data.get("reason") or ""),
    )
    return JsonResponse(
        {
            "refunded": money_str(sum((r.amount for r in rows), Decimal(0))),
            "fee": money_str(sum((r.fee for r in rows), Decimal(0))),
            "order": _fresh(code),
        }
    )


@require_POST
@pos_json
def void(request: HttpRequest, shift: Shift, code: str) -> HttpResponse:
    data = json_body(request)
    found = _order(request, shift, code)
    amount = window_void(
        shift=shift, actor=request.user, order=found, reason=str(data.get("reason") or "")
    )
    return JsonResponse({"refunded": money_str(amount), "order": _fresh(code)})


@require_POST
@pos_json
def print_(request: HttpRequest, shift: Shift, code: str) -> HttpResponse:
    """The PDF of an order's tickets (all valid ones, or those named) for the window's
    printer; a ticket printed before is a reprint, with a reason."""
    data = json_body(request)
    found = _order(request, shift, code)
    ids = _ticket_ids(data)
    tickets = [t for t in found.tickets.all() if ids is None or t.pk in ids]
    if ids is not None and len(tickets) != len(set(ids)):
        raise NotFound(code="ticket_not_found", details={"tickets": ids})
    if ids is None:  # "print": those not printed yet; a reprint names its tickets
        printed = set(
            TicketPrint.objects.filter(ticket__in=tickets).values_list("ticket_id", flat=True)
        )
        tickets = [t for t in tickets if t.pk not in printed] or tickets
    reason = str(data.get("reason") or "")[:200]
    pdf = tickets_print(tickets=tickets, actor=request.user, shift=shift, reason=reason)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="tickets-{found.code}.pdf"'
    return response


@require_POST
@pos_json
def bind(request: HttpRequest, shift: Shift, code: str, ticket: int) -> HttpResponse:
    """Bind a member's card (its UID) to a pass sold here."""
    data = json_body(request)
    found = _order(request, shift, code)
    target = Ticket.objects.filter(order=found, pk=ticket).first()
    if target is None:
        raise NotFound(code="ticket_not_found", details={"ticket": ticket})
    medium = medium_bind(
        ticket=target,
        kind=TicketMedium.Kind.CARD,
        value=str(data.get("uid") or "")[:64],
        actor=request.user,
    )
    return JsonResponse({"ticket": target.pk, "medium": medium.pk, "order": _fresh(code)})
