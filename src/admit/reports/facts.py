"""Keep the report aggregates up to date inside the transaction of each change.

The lower apps publish what they write (``core.hooks``); each listener here bumps one or a few
aggregate rows with one upsert statement per row, adding to the counters. The row of a busy key
(today, the shop channel, one product) is locked to the end of the sale's transaction, as the
capacity pool already is, so the listeners run last in the order the sales services lock rows
(money, then pools, then these).
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import connection, models
from django.utils import timezone

from admit.core import hooks
from admit.core.versions import CATALOG, remember

from .models import DayClose, EntryHour, EntryProductDay, LedgerDay, MoneyDay, OriginDay, SalesDay

ZERO = Decimal("0.00")


def site_zone(site_id: int) -> zoneinfo.ZoneInfo:
    from admit.catalog.models import Site

    name = remember(
        CATALOG,
        ("site_zone", site_id),
        lambda: Site.objects.filter(pk=site_id).values_list("time_zone", flat=True).first(),
    )
    return zoneinfo.ZoneInfo(name or settings.TIME_ZONE)


def local(site_id: int, at: dt.datetime) -> dt.datetime:
    return timezone.localtime(at, site_zone(site_id))


def bump(model: type[models.Model], key: Mapping[str, Any], add: Mapping[str, Any]) -> None:
    """Add ``add`` to the counters of the row ``key``, creating it: one statement, so that two
    first bumps of a new key neither fail nor deadlock (see ``core.versions.version_bump``)."""
    q = connection.ops.quote_name
    meta = model._meta
    table = q(meta.db_table)
    fields = {f.name: f for f in meta.concrete_fields if not f.primary_key}
    # every counter is written on insert (the model's defaults are not the table's)
    values = {**key, **{n: add.get(n, f.get_default()) for n, f in fields.items() if n not in key}}
    cols = list(values)
    params = [fields[name].get_db_prep_save(value, connection) for name, value in values.items()]
    col = {c: q(fields[c].column) for c in cols}
    names = ", ".join(col[c] for c in cols)
    marks = ", ".join(["%s"] * len(cols))
    if connection.vendor == "mysql":
        sets = ", ".join(f"{col[c]} = {col[c]} + VALUES({col[c]})" for c in add)
        tail = f"ON DUPLICATE KEY UPDATE {sets}"
    else:  # PostgreSQL, SQLite >= 3.24
        target = ", ".join(col[c] for c in key)
        sets = ", ".join(f"{col[c]} = {table}.{col[c]} + excluded.{col[c]}" for c in add)
        tail = f"ON CONFLICT ({target}) DO UPDATE SET {sets}"
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {table} ({names}) VALUES ({marks}) {tail}", params)


def _bump_all(
    model: type[models.Model], rows: Iterable[tuple[tuple[tuple[str, Any], ...], dict[str, Any]]]
) -> None:
    """Several rows, in the order of their keys (two sales bumping the same rows lock them in
    the same order)."""
    merged: dict[tuple[tuple[str, Any], ...], dict[str, Any]] = {}
    for key, add in rows:
        into = merged.setdefault(key, {})
        for name, value in add.items():
            into[name] = into.get(name, 0) + value
    for key in sorted(merged, key=lambda k: tuple(str(v) for _n, v in k)):
        bump(model, dict(key), merged[key])


SalesKey = tuple[tuple[str, Any], ...]


def _sales_key(order: Any, day: dt.date, product_id: int) -> SalesKey:
    return (
        ("site_id", order.site_id),
        ("day", day),
        ("product_id", product_id),
        ("channel_id", order.channel_id),
        ("seller_id", int(order.created_by_id or 0)),
        ("account_id", int(order.account_id or 0)),
        ("guide_id", int(order.guide_id or 0)),
    )


def _bump_origin(order: Any, day: dt.date, add: dict[str, int]) -> None:
    key = {
        "site_id": order.site_id,
        "day": day,
        "channel_id": order.channel_id,
        "province": order.origin_province or "",
        "city": order.origin_city or "",
    }
    bump(OriginDay, key, add)


def on_order_paid(*, order: Any, lines: Iterable[Any], now: dt.datetime, **_: Any) -> None:
    day = local(order.site_id, now).date()
    rows: list[tuple[SalesKey, dict[str, Any]]] = []
    persons = 0
    for line in lines:
        if line.replaces_id is not None:
            continue
        persons += line.quantity * line.persons
        sold = {
            "sold": line.quantity,
            "persons": line.quantity * line.persons,
            "gross": line.base,
            "discount": line.base - line.total,
            "net": line.total,
        }
        rows.append((_sales_key(order, day, line.product_id), sold))
    _bump_all(SalesDay, rows)
    _bump_origin(order, day, {"orders": 1, "persons": persons})


def on_tickets_refunded(*, order: Any, tickets: Iterable[Any], void: bool, **_: Any) -> None:
    # the day the tickets' status changes (``tickets_end`` stamps them with the clock's time)
    day = local(order.site_id, timezone.now()).date()
    rows: list[tuple[SalesKey, dict[str, Any]]] = []
    persons = 0
    for t in tickets:
        persons += t.persons
        back = {"voided": 1, "voided_value": t.price} if void else {}
        back = back or {"refunded": 1, "refunded_value": t.price}
        rows.append((_sales_key(order, day, t.product_id), back))
    _bump_all(SalesDay, rows)
    if persons:
        _bump_origin(order, day, {"refunded": persons})


def on_money_moved(*, order: Any, payment: Any = None, refund: Any = None, **_: Any) -> None:
    row = payment if payment is not None else refund
    key = {
        "site_id": order.site_id,
        "day": local(order.site_id, row.at).date(),
        "method": row.method,
        "channel_id": order.channel_id,
        "shift_id": int(row.shift_id or 0),
    }
    if payment is not None:
        bump(MoneyDay, key, {"payments": 1, "paid": payment.amount})
    else:
        bump(MoneyDay, key, {"refunds": 1, "refunded": refund.amount, "fees": refund.fee})


def ledger_day(at: dt.datetime) -> dt.date:
    return timezone.localtime(at, zoneinfo.ZoneInfo(settings.TIME_ZONE)).date()


def on_ledger_recorded(*, entry: Any, **_: Any) -> None:
    bump(
        LedgerDay,
        {
            "day": ledger_day(entry.at),
            "account_id": entry.account_id,
            "book": entry.book,
            "kind": entry.kind,
        },
        {"entries": 1, "amount": entry.amount},
    )


def scan_bucket(
    site_id: int, scanned_at: dt.datetime, received_at: dt.datetime
) -> tuple[dt.date, int, bool]:
    """The business day and hour a scan is counted in, and whether it came late: scanned on a
    day that was closed before it arrived, it counts when it arrived."""
    when = local(site_id, scanned_at)
    got = local(site_id, received_at)
    if when.date() < got.date():
        closed = DayClose.objects.filter(
            site_id=site_id, day=when.date(), closed_at__lt=received_at
        ).exists()
        if closed:
            return got.date(), got.hour, True
    return when.date(), when.hour, False


def on_scan_recorded(*, scan: Any, product_id: int, **_: Any) -> None:
    day, hour, late = scan_bucket(scan.site_id, scan.scanned_at, scan.received_at)
    allowed = scan.result == "allow"
    bump(
        EntryHour,
        {
            "site_id": scan.site_id,
            "day": day,
            "hour": hour,
            "lane_id": scan.lane_id,
            "direction": scan.direction,
            "late": late,
        },
        {"scans": 1, "allowed": int(allowed), "persons": scan.admitted},
    )
    if allowed and scan.direction == "in" and product_id and scan.admitted:
        bump(
            EntryProductDay,
            {"site_id": scan.site_id, "day": day, "product_id": product_id},
            {"entries": 1, "persons": scan.admitted},
        )


def connect() -> None:
    hooks.subscribe(hooks.ORDER_PAID, on_order_paid)
    hooks.subscribe(hooks.TICKETS_REFUNDED, on_tickets_refunded)
    hooks.subscribe(hooks.MONEY_MOVED, on_money_moved)
    hooks.subscribe(hooks.LEDGER_RECORDED, on_ledger_recorded)
    hooks.subscribe(hooks.SCAN_RECORDED, on_scan_recorded)
