"""In-process caches of slowly changing data, kept honest by version counters in the database.

Every write to cached data bumps its counter (through signals, in the writer's transaction);
each request reads all counters in one query and drops whatever moved. No cache server needed,
and the processes behind a load balancer never disagree for longer than one request.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

from django.db import connection

from .models import Version
from .sql import execute, table

T = TypeVar("T")

CATALOG = "catalog"
RIGHTS = "rights"
SHIFTS = "shifts"  # which cashier has a shift open (boxoffice)
TOKENS = "tokens"  # API tokens, the staff and devices behind them (accounts)

_local = threading.local()
_lock = threading.Lock()
_caches: dict[str, tuple[int, dict[Any, Any]]] = {}


def version_bump(name: str) -> None:
    """Add one to the counter ``name``, creating it at 1: one upsert statement, so that racing
    first bumps neither fail nor deadlock (on MariaDB an insert-then-update after a duplicate
    key let several losers hold shared locks and wait on each other)."""
    q = connection.ops.quote_name
    t, key, value = table(Version), q("name"), q("value")
    if connection.vendor == "mysql":
        on_conflict = f"ON DUPLICATE KEY UPDATE {value} = {value} + 1"
    else:  # PostgreSQL, SQLite ≥ 3.24
        on_conflict = f"ON CONFLICT ({key}) DO UPDATE SET {value} = {t}.{value} + 1"
    execute(f"INSERT INTO {t} ({key}, {value}) VALUES (%s, 1) {on_conflict}", [name])


def versions() -> dict[str, int]:
    """The counters, read once per request (see ``VersionsMiddleware``) or per call."""
    cached = getattr(_local, "versions", None)
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    return _read()


def _read() -> dict[str, int]:
    """All counters in one plain statement (it runs for every API request)."""
    q = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {q('name')}, {q('value')} FROM {q(Version._meta.db_table)}")
        return dict(cursor.fetchall())


def remember(name: str, key: Any, load: Callable[[], T], *, keep_none: bool = True) -> T:
    """``load()`` once per version of ``name`` in this process. With ``keep_none=False`` a
    ``None`` result is not kept (misses, e.g. unknown tokens, must not fill the memory)."""
    version = versions().get(name, 0)
    with _lock:
        entry = _caches.get(name)
        if entry is None or entry[0] != version:
            entry = (version, {})
            _caches[name] = entry
        store = entry[1]
        if key in store:
            return store[key]  # type: ignore[no-any-return]
    value = load()
    if value is None and not keep_none:
        return value
    with _lock:
        current = _caches.get(name)
        if current is not None and current[0] == version:
            current[1][key] = value
    return value


class RequestVersions:
    """Read the counters once at the start of a request and use them throughout it."""

    def __enter__(self) -> None:
        _local.versions = _read()

    def __exit__(self, *exc: object) -> None:
        _local.versions = None


def clear() -> None:
    with _lock:
        _caches.clear()
