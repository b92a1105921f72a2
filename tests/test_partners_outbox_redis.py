"""The outbox with Redis (ADMIT_REDIS_URL): a committed message wakes the worker through Redis;
a wake-up Redis lost is made good by the table scan; an acknowledged message is never sent
again, however many wake-ups name it. Against a real Redis (ADMIT_TEST_REDIS_URL, by default
database 14 of 127.0.0.1:6379, under a key of this test's own); skipped when none answers."""

from __future__ import annotations

import os
import threading
import time
import uuid
from collections.abc import Iterator
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connections, transaction

from admit.partners.models import OutboxMessage, Partner
from admit.partners.services import outbox_put, outbox_run, wakeup
from tests.partner_helpers import Receiver, point_at, receiver

pytestmark = pytest.mark.django_db(transaction=True)

REDIS_URL = os.environ.get("ADMIT_TEST_REDIS_URL", "redis://127.0.0.1:6379/14")


@pytest.fixture
def redis_db(settings: Any) -> Iterator[Any]:
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    try:
        client.ping()
    except (redis.RedisError, OSError) as exc:
        pytest.skip(
            f"No Redis answers at {REDIS_URL} ({exc}): start redis-server, or point "
            "ADMIT_TEST_REDIS_URL at one, to run the outbox's Redis tests."
        )
    settings.REDIS_URL = REDIS_URL
    settings.ADMIT_OUTBOX_REDIS_KEY = f"admit-test:{uuid.uuid4().hex}:outbox"
    yield client
    client.delete(settings.ADMIT_OUTBOX_REDIS_KEY)
    client.close()


@pytest.fixture
def klook(demo: None) -> Partner:
    return Partner.objects.get(code="klook")


def queued(client: Any) -> list[int]:
    return [int(x) for x in client.lrange(wakeup.queue_key(), 0, -1)]


def put(partner: Partner, n: int = 0) -> OutboxMessage:
    with transaction.atomic():
        message = outbox_put(topic="booking.redeemed", partner=partner, payload={"n": n})
        assert message is not None
    return message


def worker(*args: str) -> tuple[threading.Thread, StringIO]:
    """``admit worker`` in a thread of its own (as its own process would run)."""
    out = StringIO()

    def run() -> None:
        try:
            call_command("worker", *args, stdout=out)
        finally:
            connections.close_all()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, out


def wait_for(r: Receiver, count: int, seconds: float) -> float:
    start = time.monotonic()
    while len(r.requests) < count and time.monotonic() - start < seconds:
        time.sleep(0.05)
    return time.monotonic() - start


def test_the_id_is_pushed_after_commit_and_never_for_a_rollback(redis_db, klook):
    point_at("klook", "http://127.0.0.1:9/x")
    klook.refresh_from_db()
    with transaction.atomic():
        message = outbox_put(topic="t", partner=klook, payload={})
        assert message is not None
        assert queued(redis_db) == []  # not before the commit
    assert queued(redis_db) == [message.pk]
    with pytest.raises(ZeroDivisionError), transaction.atomic():
        outbox_put(topic="t", partner=klook, payload={})
        1 / 0  # noqa: B018
    assert queued(redis_db) == [message.pk]
    assert wakeup.wait(timeout=1) == [message.pk]
    assert wakeup.wait(timeout=0.2) == []


def test_a_waiting_worker_is_woken_through_redis(redis_db, klook):
    with receiver() as r:
        point_at("klook", r.url)
        klook.refresh_from_db()
        # Rounds: a table scan (nothing yet), then the Redis wake-up; the next scan is a minute
        # away, so only Redis can have woken it.
        thread, out = worker("--rounds", "2", "--scan-interval", "60")
        time.sleep(0.5)
        message = put(klook)
        took = wait_for(r, 1, 20)
        thread.join(timeout=20)
    assert not thread.is_alive()
    assert took < 10 and r.ids() == [str(message.pk)]
    assert f"delivered #{message.pk}" in out.getvalue()
    message.refresh_from_db()
    assert message.status == OutboxMessage.Status.DELIVERED and message.attempts == 1


def test_a_lost_wake_up_is_made_good_by_the_table_scan(redis_db, klook, monkeypatch):
    monkeypatch.setattr(wakeup, "push", lambda message_id: False)  # Redis dropped it
    with receiver() as r:
        point_at("klook", r.url)
        klook.refresh_from_db()
        thread, _out = worker("--rounds", "3", "--scan-interval", "1")
        time.sleep(0.3)
        message = put(klook)
        assert queued(redis_db) == []
        wait_for(r, 1, 20)
        thread.join(timeout=20)
    assert r.ids() == [str(message.pk)]
    message.refresh_from_db()
    assert message.status == OutboxMessage.Status.DELIVERED


def test_redundant_wake_ups_deliver_an_acknowledged_message_once(redis_db, klook):
    with receiver() as r:
        point_at("klook", r.url)
        klook.refresh_from_db()
        message = put(klook)
        wakeup.push(message.pk)  # named twice (a retried push), and found by the scan as well
        ids = wakeup.wait(timeout=1)
        assert ids == [message.pk, message.pk]
        assert [d.ok for d in outbox_run(worker="w1", ids=ids)] == [True]
        assert outbox_run(worker="w2", ids=ids) == []
        assert outbox_run(worker="w3") == []
    assert r.ids() == [str(message.pk)]


def test_without_a_reachable_redis_the_worker_scans_the_table(settings, klook):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens there
    with receiver() as r:
        point_at("klook", r.url)
        klook.refresh_from_db()
        message = put(klook)  # the commit stands; the push only logs
        assert wakeup.wait(timeout=0.1) is None
        thread, _out = worker("--rounds", "1")
        thread.join(timeout=20)
    assert r.ids() == [str(message.pk)]
