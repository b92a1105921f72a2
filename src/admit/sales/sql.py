"""The hottest statements of the sales path, written out in SQL.

Every order runs these once or more, and Django's ORM spends several times longer compiling
each of them than the database takes to answer (300–900 µs of CPU against 30–150 µs: see
docs/benchmarks.md). Each is one plain statement that means the same on SQLite, PostgreSQL and
MariaDB/MySQL: names are quoted by the connection, dates and times are adapted by it, and rows
come back as model instances through ``Model.objects.raw``, which converts values exactly as
the ORM does. Everything else stays in the ORM.
"""

from __future__ import annotations

import datetime as dt

from django.db import connection

from admit.core.sql import execute, table
from admit.inventory.models import Pool

from .models import Order, OrderLine, Payment, Visitor


def order_by_code(code: str) -> Order | None:
    """The order row alone (no joined rows)."""
    rows = list(Order.objects.raw(f"SELECT * FROM {table(Order)} WHERE code = %s", [code]))
    return rows[0] if rows else None


def order_for_update(pk: int) -> Order:
    """Lock the order row until the end of the transaction and read it (SQLite, which has no
    row locks, runs one writer at a time)."""
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    rows = list(Order.objects.raw(f"SELECT * FROM {table(Order)} WHERE id = %s{lock}", [pk]))
    if not rows:
        raise Order.DoesNotExist(pk)
    return rows[0]


def order_mark_paid(pk: int, now: dt.datetime) -> bool:
    """Pending → paid, once: False when the order was no longer pending."""
    return execute(
        f"UPDATE {table(Order)} SET status = %s, paid_at = %s WHERE id = %s AND status = %s",
        [
            Order.Status.PAID.value,
            connection.ops.adapt_datetimefield_value(now),
            pk,
            Order.Status.PENDING.value,
        ],
    )


def payments_of(order_id: int) -> list[Payment]:
    q = connection.ops.quote_name
    return list(
        Payment.objects.raw(
            f"SELECT * FROM {table(Payment)} WHERE order_id = %s ORDER BY {q('at')}, id",
            [order_id],
        )
    )


def lines_to_issue(order_id: int) -> list[OrderLine]:
    """The order's lines, each with ``has_visitors`` (are there named visitors to read?) and
    its time slot's start and end (``slot_start``, ``slot_end``)."""
    q = connection.ops.quote_name
    return list(
        OrderLine.objects.raw(
            f"SELECT ln.*, EXISTS (SELECT 1 FROM {table(Visitor)} v WHERE v.line_id = ln.id)"
            f" AS has_visitors, s.{q('start')} AS slot_start, s.{q('end')} AS slot_end"
            f" FROM {table(OrderLine)} ln LEFT JOIN {table(Pool)} s ON s.id = ln.slot_id"
            " WHERE ln.order_id = %s ORDER BY ln.id",
            [order_id],
        )
    )
