"""Helpers shared by the sales services."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db.models import Sum

from admit.core.context import current_context
from admit.core.services import actor_label

from ..models import Order, OrderEvent, Payment, Refund

ZERO = Decimal("0.00")


def event(order: Order, kind: str, actor: Any, **data: Any) -> OrderEvent:
    ctx = current_context()
    return OrderEvent.objects.create(
        order=order,
        kind=kind,
        actor_label=actor_label(actor)[:150],
        source_ip=ctx.source_ip,
        data={k: (str(v) if isinstance(v, Decimal) else v) for k, v in data.items()},
    )


def order_lock(pk: int, *related: str) -> Order:
    """Lock one order row for the rest of the transaction and load it with ``related``.

    Never ``select_for_update().select_related(...)``: that locks the joined rows (the site, the
    channel) too, and every transaction that inserts an order checks its foreign keys against
    them, which deadlocks under load. The row is locked alone, then read with its relations.
    """
    Order.objects.select_for_update().filter(pk=pk).values_list("pk", flat=True).get()
    return Order.objects.select_related(*related).get(pk=pk)


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
