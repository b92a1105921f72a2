"""The outbox's optional Redis wake-up: when ``ADMIT_REDIS_URL`` is set, a committed message's id
is pushed to a Redis list, and ``admit worker`` waits on that list (``BLPOP``) instead of polling
the table.

The database stays the source of truth: the message row is written in the transaction of the
change, the id is pushed only after that transaction commits (``transaction.on_commit``), and
the worker still scans the table every ``--scan-interval`` seconds. So a push that is lost (Redis
down, restarted without persistence, a worker that popped an id and died) delays a message until
the next scan, never loses it; and an id pushed twice is claimed once (the claim is the same
conditional UPDATE as the scan's).
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from django.conf import settings
from django.db import transaction

log = logging.getLogger(__name__)

_clients: dict[str, Any] = {}
_lock = threading.Lock()


def redis_url() -> str:
    return str(getattr(settings, "REDIS_URL", "") or "")


def queue_key() -> str:
    return str(getattr(settings, "ADMIT_OUTBOX_REDIS_KEY", "") or "admit:outbox")


def client() -> Any | None:
    """The Redis client for ``ADMIT_REDIS_URL`` (one per URL and process), or None."""
    url = redis_url()
    if not url:
        return None
    with _lock:
        if url not in _clients:
            import redis

            _clients[url] = redis.Redis.from_url(
                url, socket_connect_timeout=2, socket_timeout=None, health_check_interval=30
            )
        return _clients[url]


def wake_on_commit(message_id: int) -> None:
    """After the caller's transaction commits, tell waiting workers (nothing without Redis)."""
    if client() is None:
        return
    transaction.on_commit(lambda: push(message_id))


def push(message_id: int) -> bool:
    """Push one id; a failure is only logged (the worker's table scan finds the message)."""
    redis_client = client()
    if redis_client is None:
        return False
    try:
        redis_client.rpush(queue_key(), str(message_id))
    except Exception as exc:  # redis.RedisError, OSError: never fail the committed change
        log.warning("outbox wake-up for #%s not sent to Redis: %s", message_id, exc)
        return False
    return True


def wait(timeout: float, batch: int = 20) -> list[int] | None:
    """Block until ids are pushed or ``timeout`` seconds pass; return the ids (up to ``batch``),
    ``[]`` on timeout, and None when Redis is not configured or not reachable."""
    redis_client = client()
    if redis_client is None:
        return None
    key = queue_key()
    try:
        first = redis_client.blpop([key], timeout=max(timeout, 0.01))
        if first is None:
            return []
        raw = [first[1]]
        if batch > 1:
            raw += redis_client.lpop(key, batch - 1) or []
    except Exception as exc:  # the worker falls back to scanning the table
        log.warning("outbox: Redis not reachable (%s); scanning the table instead", exc)
        return None
    ids = []
    for value in raw:
        try:
            ids.append(int(value))
        except (TypeError, ValueError):
            continue
    return ids
