"""Reads of orders."""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import Any

from django.db.models import Prefetch, QuerySet

from admit.catalog.models import Channel, Site
from admit.core.codes import normalize_code
from admit.core.versions import CATALOG, remember
from admit.customers.selectors import account_id_of
from admit.tickets.models import Ticket

from . import sql
from .errors import OrderNotFound
from .models import Order, OrderLine


def orders_with_details() -> QuerySet[Order]:
    return Order.objects.select_related(
        "site", "channel", "coupon", "account", "member", "guide"
    ).prefetch_related(
        Prefetch("lines", queryset=OrderLine.objects.select_related("product", "slot")),
        Prefetch("tickets", queryset=Ticket.objects.order_by("id")),
        "payments",
        "refunds",
    )


def order_row(code: str) -> Order:
    """Just the order (for writes, which load what they need), with its site and channel from
    the catalog cache."""
    code = normalize_code(code)[:16]
    order = sql.order_by_code(code)
    if order is None:
        raise OrderNotFound(details={"code": code[:40]})
    order.site = remember(CATALOG, ("site", order.site_id), partial(_site, order.site_id))
    order.channel = remember(
        CATALOG, ("channel_id", order.channel_id), partial(_channel, order.channel_id)
    )
    return order


def _site(pk: int) -> Site:
    return Site.objects.get(pk=pk)


def _channel(pk: int) -> Channel:
    return Channel.objects.get(pk=pk)


def with_details(order: Order, **loaded: Sequence[Any]) -> Order:
    """Attach related rows a service already holds, so that showing the order costs no query."""
    cache = getattr(order, "_prefetched_objects_cache", {})
    for name, rows in loaded.items():
        # What Django's own prefetching stores: a queryset whose results are already known.
        # Its filter is built only if someone asks for its query (as related managers do).
        rel = order._meta.get_field(name)
        model = rel.related_model
        qs = model._default_manager.get_queryset()  # type: ignore[union-attr]
        qs._defer_next_filter = True  # type: ignore[union-attr]
        qs = qs.filter(**{rel.field.name: order})  # type: ignore[union-attr]
        qs._result_cache = list(rows)
        qs._prefetch_done = True  # type: ignore[union-attr]
        cache[name] = qs
    order._prefetched_objects_cache = cache  # type: ignore[attr-defined]
    return order


def order_check_visible(order: Order, user: Any) -> Order:
    """Refuse an order of another B2B account as if it did not exist (its code leaks nothing):
    an account's users see only its orders; the venue's own staff see all."""
    account_id = account_id_of(user)
    if account_id is not None and order.account_id != account_id:
        raise OrderNotFound(details={"code": order.code})
    return order


def order_by_code(code: str) -> Order:
    order = orders_with_details().filter(code=normalize_code(code)[:16]).first()
    if order is None:
        raise OrderNotFound(details={"code": code[:40]})
    return order
