"""Inserting rows without the ORM's SQL compiler, for the sales hot path.

``insert`` does what ``QuerySet.bulk_create`` does — each field's ``pre_save`` (``auto_now_add``
times) and ``get_db_prep_save`` (decimals, JSON, time zones, addresses, adapted for the
connection's database), one ``INSERT`` for all rows, primary keys set from ``RETURNING`` where
the database has it (PostgreSQL, SQLite ≥ 3.35, MariaDB ≥ 10.5) or from the last row id of a
single row — but builds the statement text directly. On the sales path the compiler cost more
CPU than the database spends on the insert (docs/benchmarks.md). Like ``bulk_create`` it sends
no model signals and calls no ``save()``; the models it is used for have neither.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import connection, models


def insert(objs: Sequence[models.Model]) -> None:
    """Insert ``objs`` (instances of one model, not saved yet) in one statement.

    Their primary keys are set when the database can return them; otherwise (several rows on
    a database without ``RETURNING``) they stay unset, as with ``bulk_create``."""
    if not objs:
        return
    meta = type(objs[0])._meta
    fields = [f for f in meta.concrete_fields if not f.primary_key]
    quote = connection.ops.quote_name
    row = "(" + ", ".join(["%s"] * len(fields)) + ")"
    sql = (
        f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(f.column) for f in fields)})"
        f" VALUES {', '.join([row] * len(objs))}"
    )
    params: list[Any] = []
    for obj in objs:
        params += [f.get_db_prep_save(f.pre_save(obj, True), connection) for f in fields]
    returning = (
        connection.features.can_return_rows_from_bulk_insert
        if len(objs) > 1
        else connection.features.can_return_columns_from_insert
    )
    if returning:
        sql += f" RETURNING {quote(meta.pk.column)}"
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        if returning:
            pks: list[Any] = [r[0] for r in cursor.fetchall()]
        elif len(objs) == 1:
            pks = [cursor.lastrowid]
        else:
            pks = []
    for obj, pk in zip(objs, pks, strict=False):
        obj.pk = pk
    for obj in objs:
        obj._state.adding = False
        obj._state.db = connection.alias


def table(model: type[models.Model]) -> str:
    """A model's table name, quoted for the connection's database."""
    return connection.ops.quote_name(model._meta.db_table)  # type: ignore[no-any-return]


def execute(sql: str, params: Sequence[Any]) -> bool:
    """Run one write; True when it changed (on MariaDB/MySQL: matched) a row."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return bool(cursor.rowcount)
