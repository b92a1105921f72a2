"""Writing the planned rows: PostgreSQL by ``COPY`` (psycopg 3) with keys from the tables' own
sequences, other databases by batched ``INSERT``."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, cast

from django.apps import apps
from django.db import IntegrityError, connection, models

MODELS = {
    "shift": "boxoffice.Shift",
    "order": "sales.Order",
    "line": "sales.OrderLine",
    "take": "inventory.Take",
    "payment": "sales.Payment",
    "ticket": "tickets.Ticket",
    "refund": "sales.Refund",
    "revocation": "tickets.Revocation",
    "ledger": "customers.LedgerEntry",
    "scan": "access.Scan",
}


def model_of(table: str) -> type[models.Model]:
    return apps.get_model(MODELS[table])


class Writer:
    def start_batch(self) -> None:
        """Called inside each batch's transaction before any key is taken."""

    def finish_batch(self) -> None:
        """Called inside each batch's transaction after its last row."""

    def analyze(self) -> None:
        """Refresh the planner's statistics of the tables written (bulk loads outrun them)."""

    def take_ids(self, table: str, n: int) -> list[int]:
        raise NotImplementedError

    def write(self, table: str, columns: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
        raise NotImplementedError


class PostgresWriter(Writer):
    """Keys from ``nextval`` (safe beside a live server), rows by ``COPY … FROM STDIN``.

    A superuser loads with the foreign-key triggers off for the batch's transaction (``SET
    LOCAL session_replication_role = replica``, as ``pg_restore --disable-triggers`` does) and
    checks every foreign key of the rows it wrote with one set-based query per key before the
    transaction commits: the same guarantee, for half the time of a row-by-row check (about
    four seconds of each 50,000-visitor day). Any other role loads with the triggers on."""

    def __init__(self) -> None:
        self._sequences: dict[str, str] = {}
        self._spans: dict[str, tuple[int, int]] = {}
        self.checks_keys = False

    def start_batch(self) -> None:
        self._spans.clear()
        with connection.cursor() as cursor:
            # A bulk load: losing the last batch in a crash is fine, waiting for the disk is not.
            cursor.execute("SET LOCAL synchronous_commit = off")
            cursor.execute("SELECT current_setting('is_superuser')")
            self.checks_keys = cursor.fetchone()[0] == "on"
            if self.checks_keys:
                cursor.execute("SET LOCAL session_replication_role = replica")

    def finish_batch(self) -> None:
        if not self.checks_keys:
            return
        q = connection.ops.quote_name
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL session_replication_role = origin")
            for table, (lo, hi) in self._spans.items():
                meta = model_of(table)._meta
                for f in meta.concrete_fields:
                    if not isinstance(f, models.ForeignKey) or not getattr(
                        f, "db_constraint", True
                    ):
                        continue
                    target = f.target_field
                    cursor.execute(
                        f"SELECT count(*) FROM {q(meta.db_table)} c WHERE c.{q(meta.pk.column)} "
                        f"BETWEEN %s AND %s AND c.{q(f.column)} IS NOT NULL AND NOT EXISTS "
                        f"(SELECT 1 FROM {q(target.model._meta.db_table)} p "
                        f"WHERE p.{q(target.column)} = c.{q(f.column)})",
                        [lo, hi],
                    )
                    missing = cursor.fetchone()[0]
                    if missing:
                        raise IntegrityError(
                            f"{missing} {meta.db_table}.{f.column} point at no "
                            f"{target.model._meta.db_table} row"
                        )

    def analyze(self) -> None:
        q = connection.ops.quote_name
        with connection.cursor() as cursor:
            for table in MODELS:
                cursor.execute(f"ANALYZE {q(model_of(table)._meta.db_table)}")

    def take_ids(self, table: str, n: int) -> list[int]:
        meta = model_of(table)._meta
        with connection.cursor() as cursor:
            seq = self._sequences.get(table)
            if seq is None:
                cursor.execute(
                    "SELECT pg_get_serial_sequence(%s, %s)", [meta.db_table, meta.pk.column]
                )
                seq = self._sequences[table] = cursor.fetchone()[0]
            cursor.execute("SELECT nextval(%s) FROM generate_series(1, %s)", [seq, n])
            return [r[0] for r in cursor.fetchall()]

    def write(self, table: str, columns: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
        if not rows:
            return
        meta = model_of(table)._meta
        q = connection.ops.quote_name
        names = ", ".join(q(_column(meta, c)) for c in columns)
        keys = [r[0] for r in rows]
        lo, hi = min(keys), max(keys)
        if table in self._spans:
            lo, hi = min(lo, self._spans[table][0]), max(hi, self._spans[table][1])
        self._spans[table] = (lo, hi)
        with connection.cursor() as cursor:
            raw = cursor.cursor  # psycopg's own cursor
            with raw.copy(f"COPY {q(meta.db_table)} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)


class PlainWriter(Writer):
    """SQLite and MariaDB/MySQL: keys counted on from the largest one (run it on a quiet
    database), rows by ``executemany`` with each field's own conversion for the database."""

    BATCH = 500

    def __init__(self) -> None:
        self._next: dict[str, int] = {}

    def start_batch(self) -> None:
        self._next.clear()

    def take_ids(self, table: str, n: int) -> list[int]:
        if table not in self._next:
            model = model_of(table)
            top = model._default_manager.aggregate(m=models.Max("pk"))["m"] or 0
            self._next[table] = top + 1
        first = self._next[table]
        self._next[table] = first + n
        return list(range(first, first + n))

    def write(self, table: str, columns: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
        if not rows:
            return
        meta = model_of(table)._meta
        fields = [cast(models.Field, meta.get_field(c)) for c in columns]  # type: ignore[type-arg]
        json_at = {i for i, f in enumerate(fields) if isinstance(f, models.JSONField)}
        q = connection.ops.quote_name
        sql = (
            f"INSERT INTO {q(meta.db_table)} ({', '.join(q(_column(meta, c)) for c in columns)}) "
            f"VALUES ({', '.join(['%s'] * len(fields))})"
        )
        prep = [f.get_db_prep_save for f in fields]
        with connection.cursor() as cursor:
            for i in range(0, len(rows), self.BATCH):
                params = []
                for row in rows[i : i + self.BATCH]:
                    values = list(row)
                    for j in json_at:
                        if isinstance(values[j], str):
                            values[j] = json.loads(values[j])
                    params.append([p(v, connection) for p, v in zip(prep, values, strict=True)])
                cursor.executemany(sql, params)


def _column(meta: Any, name: str) -> str:
    return str(meta.get_field(name).column)


def writer_for_connection() -> Writer:
    return PostgresWriter() if connection.vendor == "postgresql" else PlainWriter()
