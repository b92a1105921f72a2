"""Reads of orders."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db.models import Prefetch, QuerySet

from admit.core.codes import normalize_code
from admit.tickets.models import Ticket

from .errors import OrderNotFound
from .models import Order, OrderLine


def orders_with_details() -> QuerySet[Order]:
    return Order.objects.select_related("site", "channel", "coupon").prefetch_related(
        Prefetch("lines", queryset=OrderLine.objects.select_related("product", "slot")),
        Prefetch("tickets", queryset=Ticket.objects.order_by("id")),
        "payments",
        "refunds",
    )


def order_row(code: str) -> Order:
    """Just the order (for writes, which load what they need)."""
    code = normalize_code(code)[:16]
    order = Order.objects.select_related("site", "channel").filter(code=code).first()
    if order is None:
        raise OrderNotFound(details={"code": code[:40]})
    return order


def with_details(order: Order, **loaded: Sequence[Any]) -> Order:
    """Attach related rows a service already holds, so that showing the order costs no query."""
    cache = getattr(order, "_prefetched_objects_cache", {})
    for name, rows in loaded.items():
        # What Django's own prefetching stores: a queryset whose results are already known.
        rel = order._meta.get_field(name)
        model = rel.related_model
        qs = model._default_manager.filter(**{rel.field.name: order})  # type: ignore[union-attr]
        qs._result_cache = list(rows)
        qs._prefetch_done = True  # type: ignore[union-attr]
        cache[name] = qs
    order._prefetched_objects_cache = cache  # type: ignore[attr-defined]
    return order


def order_by_code(code: str) -> Order:
    order = orders_with_details().filter(code=normalize_code(code)[:16]).first()
    if order is None:
        raise OrderNotFound(details={"code": code[:40]})
    return order
