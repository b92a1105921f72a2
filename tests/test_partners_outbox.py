"""The outbox: written with the change, delivered by the worker with signatures, retries,
backoff and dead letters; a crash mid-delivery neither loses nor doubles an acknowledged
message."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json

import pytest
import time_machine
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from admit.partners.models import OutboxMessage, Partner
from admit.partners.services import outbox, outbox_put, outbox_retry, outbox_run
from tests.partner_helpers import point_at, receiver

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def klook(demo) -> Partner:
    return Partner.objects.get(code="klook")


def put(partner: Partner, n: int = 1) -> list[OutboxMessage]:
    with transaction.atomic():
        return [
            outbox_put(topic="booking.redeemed", partner=partner, payload={"n": i})  # type: ignore[misc]
            for i in range(n)
        ]


def test_a_message_is_signed_and_delivered_once(klook):
    with receiver() as r:
        point_at("klook", r.url)
        klook.refresh_from_db()
        (message,) = put(klook)
        done = outbox_run(worker="w1")
        assert [d.ok for d in done] == [True]
        assert outbox_run(worker="w1") == []  # nothing left
    assert len(r.requests) == 1
    req = r.requests[0]
    assert req["body"] == {"n": 0}
    assert req["headers"]["Admit-Message-Id"] == str(message.pk)
    ts = req["headers"]["Admit-Timestamp"]
    expected = hmac.new(
        b"demo-klook-secret", ts.encode() + b"." + req["raw"], hashlib.sha256
    ).hexdigest()
    assert req["headers"]["Admit-Signature"] == f"v1={expected}"
    message.refresh_from_db()
    assert message.status == OutboxMessage.Status.DELIVERED and message.attempts == 1


def test_outbox_put_needs_the_writers_transaction(klook):
    point_at("klook", "http://127.0.0.1:9/x")
    klook.refresh_from_db()
    with pytest.raises(RuntimeError):
        outbox_put(topic="t", partner=klook, payload={})


def test_a_rolled_back_change_leaves_no_message(klook):
    point_at("klook", "http://127.0.0.1:9/x")
    klook.refresh_from_db()
    with pytest.raises(ZeroDivisionError), transaction.atomic():
        outbox_put(topic="t", partner=klook, payload={})
        1 / 0  # noqa: B018
    assert not OutboxMessage.objects.exists()


def test_failures_back_off_then_become_dead_letters_staff_can_retry(klook, settings, supervisor):
    settings.ADMIT_OUTBOX_MAX_ATTEMPTS = 3
    with receiver([500, 503, 500, 200]) as r:
        point_at("klook", r.url)
        klook.refresh_from_db()
        (message,) = put(klook)
        start = timezone.now()
        with time_machine.travel(start, tick=False) as clock:
            assert not outbox_run(worker="w")[0].ok
            message.refresh_from_db()
            assert message.next_attempt_at == start + dt.timedelta(seconds=30)
            assert outbox_run(worker="w") == []  # not due yet
            clock.shift(dt.timedelta(seconds=31))
            assert not outbox_run(worker="w")[0].ok
            message.refresh_from_db()
            assert message.next_attempt_at - timezone.now() == dt.timedelta(seconds=60)
            clock.shift(dt.timedelta(seconds=61))
            last = outbox_run(worker="w")[0]
            assert last.dead and not last.ok
            clock.shift(dt.timedelta(hours=2))
            assert outbox_run(worker="w") == []  # dead letters wait for staff
            message.refresh_from_db()
            assert message.status == OutboxMessage.Status.DEAD and message.last_error == "HTTP 500"
            assert outbox_retry(message=message, actor=supervisor)
            assert outbox_run(worker="w")[0].ok
    assert len(r.requests) == 4
    assert [q["headers"]["Admit-Attempt"] for q in r.requests] == ["1", "2", "3", "1"]
    message.refresh_from_db()
    assert message.status == OutboxMessage.Status.DELIVERED


def test_an_unreachable_receiver_is_retried(klook):
    point_at("klook", "http://127.0.0.1:9/nothing-listens-here")
    klook.refresh_from_db()
    put(klook)
    (d,) = outbox_run(worker="w")
    assert not d.ok and not d.dead and d.status is None
    assert OutboxMessage.objects.get().status == OutboxMessage.Status.PENDING


def test_a_crash_mid_delivery_delivers_again_after_the_lease_and_then_never(klook, monkeypatch):
    with receiver() as r:
        point_at("klook", r.url)
        klook.refresh_from_db()
        (message,) = put(klook)

        def crash(*args, **kwargs):
            raise SystemExit("worker killed after sending, before recording")

        monkeypatch.setattr(outbox, "record_success", crash)
        with pytest.raises(SystemExit):
            outbox_run(worker="dies", lease_seconds=60)
        monkeypatch.undo()
        assert len(r.requests) == 1  # it was sent, but the ack was never recorded
        # While the dead worker's lease runs, nobody else delivers it.
        assert outbox_run(worker="other") == []
        with time_machine.travel(timezone.now() + dt.timedelta(seconds=61), tick=False):
            assert [d.ok for d in outbox_run(worker="other")] == [True]
            assert outbox_run(worker="other") == []
        with time_machine.travel(timezone.now() + dt.timedelta(hours=1), tick=False):
            assert outbox_run(worker="third") == []
    # Delivered twice with the same id (the receiver de-duplicates), acknowledged and recorded
    # once; never again after the acknowledgement was recorded.
    assert r.ids() == [str(message.pk), str(message.pk)]
    message.refresh_from_db()
    assert message.status == OutboxMessage.Status.DELIVERED and message.attempts == 2


def test_a_late_worker_cannot_overwrite_another_workers_outcome(klook):
    point_at("klook", "http://127.0.0.1:9/x")
    klook.refresh_from_db()
    (message,) = put(klook)
    assert outbox.outbox_claim(worker="slow", lease_seconds=1) == [message.pk]
    later = timezone.now() + dt.timedelta(seconds=5)
    assert outbox.outbox_claim(worker="fast", now=later) == [message.pk]
    message.refresh_from_db()
    assert not outbox.record_success(message, "slow", later)  # its lease was taken over
    assert outbox.record_success(message, "fast", later)


def test_the_worker_command_runs_once_with_progress(klook, capsys):
    with receiver() as r:
        point_at("klook", r.url)
        klook.refresh_from_db()
        put(klook, 2)
        call_command("worker", "--once")
    out = capsys.readouterr().out
    assert out.count("delivered #") == 2 and "2 message(s) handled" in out
    assert len(r.requests) == 2
    assert {json.loads(q["raw"])["n"] for q in r.requests} == {0, 1}


def test_a_redirect_is_not_followed(klook):
    with receiver([302]) as r:
        point_at("klook", r.url)
        klook.refresh_from_db()
        put(klook)
        (d,) = outbox_run(worker="w")
    assert not d.ok and d.status == 302 and len(r.requests) == 1
