from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from ninja import Router, Schema, Status
from pydantic import Field

from admit.accounts.rights import require
from admit.core.idempotency import fingerprint, run_idempotent
from admit.core.money import CURRENCY, money_str
from admit.core.schemas import Id
from admit.customers.errors import GuideNotFound, MemberNotFound
from admit.customers.models import Guide, Member
from admit.tickets import qr

from . import errors, services
from .models import Order, PaymentMethod
from .pricing import ManualDiscount
from .selectors import order_by_code, order_check_visible, order_row
from .services.common import balance
from .views import tickets_pdf_response

router = Router(tags=["sales"])

Money = Decimal  # accepted as a JSON number or a decimal string


class VisitorIn(Schema):
    name: str = Field(max_length=100)
    id_type: str = Field(max_length=20, examples=["resident_id"])
    id_number: str = Field(max_length=40)
    phone: str = Field("", max_length=32)


class LineIn(Schema):
    product: Id
    date: dt.date
    slot: Id | None = None
    quantity: int = Field(ge=-(2**31), le=2**31)
    persons: int | None = Field(None, ge=-(2**31), le=2**31, description="Group tickets only")
    visitors: list[VisitorIn] = Field(default_factory=list, max_length=2000)


class DiscountIn(Schema):
    percent: Decimal | None = Field(None, ge=0, le=100, max_digits=5, decimal_places=2)
    amount: Decimal | None = Field(None, ge=0, max_digits=12, decimal_places=2)
    reason: str = Field("", max_length=200)


class OrderIn(Schema):
    channel: str = Field(max_length=40)
    lines: list[LineIn] = Field(max_length=100)
    contact_name: str = Field("", max_length=100)
    contact_phone: str = Field("", max_length=32)
    coupon: str | None = Field(None, max_length=40)
    manual_discount: DiscountIn | None = None
    member: str | None = Field(None, max_length=20, description="Member number: member prices")
    guide: str | None = Field(None, max_length=40, description="Licence of the group's guide")


class PaymentIn(Schema):
    method: str = Field(max_length=16, examples=["cash", "card", "online"])
    amount: Decimal | None = Field(None, max_digits=12, decimal_places=2)
    tendered: Decimal | None = Field(None, max_digits=12, decimal_places=2)
    reference: str = Field("", max_length=100)


class RefundIn(Schema):
    tickets: list[Id] | None = Field(
        None, max_length=2000, description="Ticket ids; none: every unused ticket"
    )
    reason: str = Field("", max_length=200)


class RescheduleIn(Schema):
    date: dt.date
    slot: Id | None = None
    tickets: list[Id] | None = Field(None, max_length=2000)
    payment: PaymentIn | None = None


def _iso(value: Any) -> str | None:
    return value.isoformat() if value else None


def _ticket_fields(t: Any) -> dict[str, Any]:
    """What every view of a ticket shows."""
    return {
        "id": t.pk,
        "serial": t.serial,
        "product": t.product_id,
        "status": t.status,
        "persons": t.persons,
        "valid_from": _iso(t.valid_from),
        "valid_until": _iso(t.valid_until),
        "holder_name": t.holder_name,
    }


def order_out(order: Order) -> dict[str, Any]:
    lines = list(order.lines.all())
    return {
        "code": order.code,
        "status": order.status,
        "site": order.site_id,
        "channel": order.channel.code,
        "subtotal": money_str(order.subtotal),
        "discount": money_str(order.discount),
        "total": money_str(order.total),
        "currency": CURRENCY,
        "paid": money_str(sum((p.amount for p in order.payments.all()), Decimal(0))),
        "refunded": money_str(sum((r.amount for r in order.refunds.all()), Decimal(0))),
        "balance_due": money_str(
            max(order.total - sum((p.amount for p in order.payments.all()), Decimal(0)), Decimal(0))
            if order.status == Order.Status.PENDING
            else Decimal(0)
        ),
        "placed_at": order.placed_at.isoformat(),
        "expires_at": _iso(order.expires_at),
        "paid_at": _iso(order.paid_at),
        "contact_name": order.contact_name,
        "contact_phone": order.contact_phone,
        "account": order.account.code if order.account_id and order.account else None,
        "member": order.member.number if order.member_id and order.member else None,
        "guide": order.guide.licence_number if order.guide_id and order.guide else None,
        "origin": {"province": order.origin_province or None, "city": order.origin_city or None},
        "lines": [
            {
                "id": ln.pk,
                "product": ln.product_id,
                "product_name": ln.product.display_name,
                "date": ln.date.isoformat(),
                "slot": ln.slot_id,
                "start": ln.slot.start.isoformat() if ln.slot and ln.slot.start else None,
                "end": ln.slot.end.isoformat() if ln.slot and ln.slot.end else None,
                "quantity": ln.quantity,
                "persons": ln.persons,
                "unit_price": money_str(ln.unit_price),
                "total": money_str(ln.total),
                "adjustments": ln.adjustments,
                "replaces": ln.replaces_id,
            }
            for ln in lines
        ],
        "tickets": [
            {**_ticket_fields(t), "line": t.line_id, "price": money_str(t.price)}
            for t in order.tickets.all()
        ],
        "payments": [
            {
                "id": p.pk,
                "method": p.method,
                "amount": money_str(p.amount),
                "change": money_str(p.change) if p.change is not None else None,
                "at": p.at.isoformat(),
            }
            for p in order.payments.all()
        ],
        "refunds": [
            {
                "id": r.pk,
                "method": r.method,
                "amount": money_str(r.amount),
                "fee": money_str(r.fee),
                "reason": r.reason,
                "at": r.at.isoformat(),
            }
            for r in order.refunds.all()
        ],
    }


def _fresh(code: str) -> dict[str, Any]:
    return order_out(order_by_code(code))


def _order(request: HttpRequest, code: str, *perms: str, details: bool = False) -> Order:
    user = require(request, *perms)
    order = order_check_visible(order_by_code(code) if details else order_row(code), user)
    if (
        order.status == Order.Status.PENDING
        and order.expires_at is not None
        and order.expires_at < timezone.now()
        and services.order_expire(order_id=order.pk)  # expiry is also applied lazily
    ):
        order = order_by_code(code) if details else order_row(code)
    return order


@router.post("/orders", response={201: dict, 200: dict}, summary="Place an order (holds places)")
def order_create(request: HttpRequest, payload: OrderIn) -> Any:
    user = require(request, "sales.add_order")
    manual = None
    if payload.manual_discount and (
        payload.manual_discount.percent or payload.manual_discount.amount
    ):
        manual = ManualDiscount(
            percent=payload.manual_discount.percent,
            amount=payload.manual_discount.amount,
            reason=payload.manual_discount.reason,
        )

    member = guide = None
    if payload.member:
        member = Member.objects.select_related("level").filter(number=payload.member).first()
        if member is None:
            raise MemberNotFound(details={"member": payload.member})
    if payload.guide:
        guide = Guide.objects.filter(licence_number=payload.guide.strip().upper()).first()
        if guide is None:
            raise GuideNotFound(details={"guide": payload.guide})

    def place() -> tuple[int, Any]:
        order = services.order_place(
            channel=payload.channel,
            lines=[
                services.LineRequest(
                    product=ln.product,
                    date=ln.date,
                    quantity=ln.quantity,
                    slot=ln.slot,
                    persons=ln.persons,
                    visitors=tuple(
                        services.VisitorIn(v.name, v.id_type, v.id_number, v.phone)
                        for v in ln.visitors
                    ),
                )
                for ln in payload.lines
            ],
            actor=user,
            contact_name=payload.contact_name,
            contact_phone=payload.contact_phone,
            coupon=payload.coupon,
            manual_discount=manual,
            member=member,
            guide=guide,
        )
        return 201, order_out(order)

    status, body = run_idempotent(
        scope=f"user:{user.pk}",
        key=request.headers.get("Idempotency-Key"),
        fp=fingerprint("POST /orders", payload.dict()),
        fn=place,
    )
    return Status(status, body)


def ticket_out(request: HttpRequest, order: Order, t: Any) -> dict[str, Any]:
    base = f"/api/v1/orders/{order.code}/tickets/{t.serial}"
    return {
        **_ticket_fields(t),
        "slot_start": _iso(t.slot_start),
        "slot_end": _iso(t.slot_end),
        "entries_allowed": t.entries_allowed,
        "entries_used": t.entries_used,
        "code": t.code,
        "qr_svg": request.build_absolute_uri(base + "/qr.svg"),
        "qr_png": request.build_absolute_uri(base + "/qr.png"),
        "pdf": request.build_absolute_uri(f"/api/v1/orders/{order.code}/tickets.pdf"),
    }


@router.get(
    "/orders/{code}/tickets", response=dict, summary="The tickets of an order with their codes"
)
def order_tickets(request: HttpRequest, code: str) -> Any:
    order = _order(request, code, "sales.view_order", details=True)
    return {
        "order": order.code,
        "tickets": [ticket_out(request, order, t) for t in order.tickets.all()],
    }


@router.get(
    "/orders/{code}/tickets.pdf",
    response={200: None},
    summary="The order's valid tickets as a printable PDF, one per page (A4 or an 80 mm roll)",
)
def order_tickets_pdf(request: HttpRequest, code: str, page: str = "a4") -> HttpResponse:
    order = _order(request, code, "sales.view_order", details=True)
    return tickets_pdf_response(order, page)


@router.get(
    "/orders/{code}/tickets/{serial}/qr.{kind}",
    response={200: None},
    summary="A ticket's QR code as SVG or PNG",
)
def ticket_qr(request: HttpRequest, code: str, serial: str, kind: str) -> HttpResponse:
    order = _order(request, code, "sales.view_order", details=True)
    ticket = next((t for t in order.tickets.all() if t.serial == serial), None)
    if ticket is None or not ticket.code or kind not in ("svg", "png"):
        raise errors.TicketNotFound(details={"ticket": serial})
    if kind == "svg":
        return HttpResponse(qr.svg(ticket.code), content_type="image/svg+xml")
    return HttpResponse(qr.png(ticket.code), content_type="image/png")


@router.get("/orders/{code}", response=dict, summary="An order with its lines and tickets")
def order_get(request: HttpRequest, code: str) -> Any:
    return order_out(_order(request, code, "sales.view_order", details=True))


@router.post(
    "/orders/{code}/payments",
    response={201: dict},
    summary="Take a payment: cash or card (staff), or start an online payment",
)
def order_payment(request: HttpRequest, code: str, payload: PaymentIn) -> Any:
    order = _order(request, code, "sales.add_order")
    user = request.user
    if payload.method == PaymentMethod.ONLINE:
        intent = services.order_pay_online(
            order=order,
            actor=user,
            notify_url=request.build_absolute_uri("/api/v1/payments/sandbox/notify"),
        )
        return Status(
            201,
            {
                "provider": intent.provider,
                "ref": intent.provider_ref,
                "amount": money_str(intent.amount),
                "currency": CURRENCY,
                "pay_url": request.build_absolute_uri(intent.pay_url),
                "order": _fresh(order.code),
            },
        )
    payment = services.order_pay(
        order=order,
        method=payload.method,
        amount=payload.amount,
        actor=user,
        tendered=payload.tendered,
        reference=payload.reference,
    )
    order = payment.order
    return Status(
        201,
        {
            "payment": {
                "id": payment.pk,
                "method": payment.method,
                "amount": money_str(payment.amount),
                "tendered": money_str(payment.tendered) if payment.tendered else None,
                "change": money_str(payment.change) if payment.change is not None else None,
            },
            "order": order_out(order),
        },
    )


@router.post("/orders/{code}/cancel", response=dict, summary="Cancel an unpaid order")
def order_cancel(request: HttpRequest, code: str) -> Any:
    order = _order(request, code, "sales.add_order")
    services.order_cancel(order=order, actor=request.user)
    return _fresh(code)


@router.post(
    "/orders/{code}/refunds",
    response={201: dict},
    summary="Refund tickets (the whole order when none are named)",
)
def order_refund(request: HttpRequest, code: str, payload: RefundIn) -> Any:
    order = _order(request, code, "sales.refund_order")
    refunds = services.order_refund(
        order=order, actor=request.user, ticket_ids=payload.tickets, reason=payload.reason
    )
    return Status(
        201,
        {
            "refunded": money_str(sum((r.amount for r in refunds), Decimal(0))),
            "fee": money_str(sum((r.fee for r in refunds), Decimal(0))),
            "currency": CURRENCY,
            "order": _fresh(code),
        },
    )


@router.post(
    "/orders/{code}/reschedule", response=dict, summary="Change the date or slot of tickets (改签)"
)
def order_reschedule(request: HttpRequest, code: str, payload: RescheduleIn) -> Any:
    order = _order(request, code, "sales.reschedule_order")
    tickets = services.order_reschedule(
        order=order,
        actor=request.user,
        date=payload.date,
        slot=payload.slot,
        ticket_ids=payload.tickets,
        payment=payload.payment.dict() if payload.payment else None,
    )
    return {
        "tickets": [t.pk for t in tickets],
        "order": _fresh(code),
        "balance": money_str(balance(order)),
    }


@router.post(
    "/payments/{provider}/notify",
    auth=None,
    response=dict,
    summary="Payment provider's signed notification (callback)",
)
def payment_notify(request: HttpRequest, provider: str) -> Any:
    services.payment_notified(provider=provider, headers=request.headers, body=request.body)
    return {"status": "ok"}
