"""The three statements of the scan hot path, as plain SQL.

The ORM spends more time compiling these than the database spends running them (profiled:
about half of a scan's CPU). They are standard SQL that SQLite, PostgreSQL and MariaDB run
alike; table and column names come from the models so a rename cannot leave them behind.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import connection

from admit.core.sql import execute, table
from admit.sales.models import Order
from admit.tickets.models import Ticket

from .models import Usage

_T = table(Ticket)
_U = table(Usage)
_O = table(Order)  # the order's channel tells higher apps (partners) whose ticket it is
TICKET_COLUMNS = (
    "pk",
    "site_id",
    "product_id",
    "persons",
    "valid_from",
    "valid_until",
    "slot_start",
    "slot_end",
    "status",
    "channel_id",
)
USAGE_COLUMNS = ("pk", "used", "inside", "day", "day_entries", "out_today", "version")

_READ = (
    "SELECT t.id, t.site_id, t.product_id, t.persons, t.valid_from, t.valid_until, "
    "t.slot_start, t.slot_end, t.status, o.channel_id, "
    "u.id, u.used, u.inside, u.day, u.day_entries, u.out_today, u.version "
    f"FROM {_T} t JOIN {_O} o ON o.id = t.order_id "
    f"LEFT JOIN {_U} u ON u.ticket_id = t.id AND u.zone_key = %s "
    "WHERE t.id IN ({ids}) ORDER BY t.valid_from, t.id"
)
# MariaDB evaluates SET assignments left to right, so the status is computed first, from the
# count before this scan, on every database.
_SPEND = (
    f"UPDATE {_T} SET status = CASE WHEN entries_used + %s >= %s THEN %s ELSE status END, "
    "entries_used = entries_used + %s WHERE id = %s AND status IN (%s, %s)"
)
_SPEND_UNLIMITED = (
    f"UPDATE {_T} SET entries_used = entries_used + %s WHERE id = %s AND status IN (%s, %s)"
)
_SET_USAGE = (
    f"UPDATE {_U} SET used = %s, inside = %s, day = %s, day_entries = %s, out_today = %s, "
    "version = version + 1 WHERE id = %s AND version = %s"
)


def _date(value: Any) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))


def _time(value: Any) -> dt.time | None:
    if value is None or isinstance(value, dt.time):
        return value
    return dt.time.fromisoformat(str(value))


def tickets_with_usage(
    ticket_ids: list[int], zone_key: int
) -> list[tuple[dict[str, Any], dict[str, Any] | None]]:
    """Each ticket's row with its usage in one zone (None before its first entry there)."""
    if not ticket_ids:
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            _READ.format(ids=", ".join(["%s"] * len(ticket_ids))), [zone_key, *ticket_ids]
        )
        rows = cursor.fetchall()
    out = []
    for r in rows:
        ticket = dict(zip(TICKET_COLUMNS, r[:10], strict=True))
        ticket["valid_from"] = _date(ticket["valid_from"])
        ticket["valid_until"] = _date(ticket["valid_until"])
        ticket["slot_start"] = _time(ticket["slot_start"])
        ticket["slot_end"] = _time(ticket["slot_end"])
        usage = None
        if r[10] is not None:
            usage = dict(zip(USAGE_COLUMNS, r[10:], strict=True))
            usage["day"] = _date(usage["day"])
        out.append((ticket, usage))
    return out


def ticket_spend(ticket_id: int, consumed: int, limit: int | None) -> bool:
    """Count ``consumed`` person-entries on a live ticket (used up at ``limit``)."""
    live = (Ticket.Status.VALID.value, Ticket.Status.USED.value)
    if limit is None:
        return execute(_SPEND_UNLIMITED, [consumed, ticket_id, *live])
    return execute(_SPEND, [consumed, limit, Ticket.Status.USED.value, consumed, ticket_id, *live])


def usage_set(pk: int, version: int, values: dict[str, Any]) -> bool:
    """Store a new usage if nobody changed it since ``version`` was read."""
    return execute(
        _SET_USAGE,
        [
            values["used"],
            values["inside"],
            connection.ops.adapt_datefield_value(values["day"]),
            values["day_entries"],
            values["out_today"],
            pk,
            version,
        ],
    )
