"""Helpers shared by the sales services."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db.models import Sum

from admit.catalog.models import Product
from admit.core import hooks
from admit.core.codes import random_code
from admit.core.context import current_context
from admit.core.services import actor_label
from admit.core.sql import insert
from admit.customers.models import Pass
from admit.tickets.models import Ticket

from .. import sql
from ..models import Order, OrderEvent, Payment, Refund

ZERO = Decimal("0.00")


def event_row(order: Order, kind: str, actor: Any, **data: Any) -> OrderEvent:
    """An order event, not yet written (the hot path writes its events in one insert)."""
    ctx = current_context()
    return OrderEvent(
        order=order,
        kind=kind,
        actor_label=actor_label(actor)[:150],
        source_ip=ctx.source_ip,
        data={k: (str(v) if isinstance(v, Decimal) else v) for k, v in data.items()},
    )


def event(order: Order, kind: str, actor: Any, **data: Any) -> OrderEvent:
    row = event_row(order, kind, actor, **data)
    insert([row])
    return row


def order_lock(pk: int, *related: str, known: Order | None = None) -> Order:
    """Lock one order row for the rest of the transaction and read it, in one statement.

    Never ``select_for_update().select_related(...)``: that locks the joined rows (the site, the
    channel) too, and every transaction that inserts an order checks its foreign keys against
    them, which deadlocks under load. The row is locked and read alone; the relations named in
    ``related`` come from ``known`` (the caller's copy of the order: an order's site and channel
    never change) or are read afterwards.
    """
    order = sql.order_for_update(pk)
    for name in related:
        field = Order._meta.get_field(name)
        attname = field.attname  # type: ignore[union-attr]
        if (
            known is not None
            and field.is_cached(known)  # type: ignore[union-attr]
            and getattr(known, attname) == getattr(order, attname)
        ):
            setattr(order, name, getattr(known, name))
        else:
            getattr(order, name)
    return order


def paid_total(order: Order) -> Decimal:
    return Payment.objects.filter(order=order).aggregate(s=Sum("amount"))["s"] or ZERO


def refunded_total(order: Order) -> Decimal:
    return Refund.objects.filter(order=order).aggregate(s=Sum("amount"))["s"] or ZERO


def balance(order: Order) -> Decimal:
    """Money held for the order: payments − refunds."""
    return paid_total(order) - refunded_total(order)


def due(order: Order) -> Decimal:
    """What is still to pay before an order awaiting payment is confirmed."""
    if order.status != Order.Status.PENDING:
        return ZERO
    return max(order.total - paid_total(order), ZERO)


def passes_register(*, order: Order) -> list[Pass]:
    """Once a member's order is paid, each of its pass tickets that no pass holds yet becomes
    a pass bound to the member (in the caller's transaction); nothing for an order that is not
    paid or has no member. Called where such an order is completed: ``pass_sell``, the
    window's sale and later payment, and an online (QR) payment. Not by ``order_pay`` itself:
    a renewal is a member's pass order too, and ``pass_renew`` binds its ticket to the pass it
    renews."""
    member_id = (
        Order.objects.filter(pk=order.pk, status=Order.Status.PAID)
        .values_list("member_id", flat=True)
        .first()
    )
    if member_id is None:
        return []
    made = []
    for ticket in Ticket.objects.filter(
        order_id=order.pk, product__kind=Product.Kind.PASS, holder_pass__isnull=True
    ).order_by("id"):
        assert ticket.valid_from is not None and ticket.valid_until is not None  # a pass period
        pass_ = Pass.objects.create(
            number="P" + random_code(9),
            member_id=member_id,
            product_id=ticket.product_id,
            valid_from=ticket.valid_from,
            valid_until=ticket.valid_until,
        )
        Ticket.objects.filter(pk=ticket.pk).update(holder_pass=pass_)
        made.append(pass_)
    return made


def money_record(order: Order, row: Payment | Refund) -> None:
    """The one way a payment or a refund row is written: inserted (one statement), then
    announced as ``hooks.MONEY_MOVED`` in the same transaction, so that the takings reports count
    it. ``Payment.save`` and ``Refund.save`` refuse, and tests/test_money_writers.py checks that
    no other code inserts either."""
    insert([row])
    if isinstance(row, Payment):
        hooks.publish(hooks.MONEY_MOVED, order=order, payment=row)
    else:
        hooks.publish(hooks.MONEY_MOVED, order=order, refund=row)
