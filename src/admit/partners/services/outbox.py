"""The outbox: calls to partners written with the change they tell of, delivered afterwards.

``outbox_put`` runs inside the writer's transaction, so a rolled-back change leaves no message
and a committed one always has its message. ``admit worker`` claims due messages with a
conditional UPDATE (a lease: ``… WHERE id = ? AND status = 'pending' AND lease expired``), so
two workers never deliver the same message at once; a worker that dies mid-delivery leaves a
lease that runs out, and the message is delivered again (receivers de-duplicate on
``Admit-Message-Id``). A 2xx answer marks it delivered; anything else waits with exponential
backoff; after ``ADMIT_OUTBOX_MAX_ATTEMPTS`` it becomes a dead letter staff can retry.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import ipaddress
import json
import socket
import urllib.error
import urllib.parse
import urllib.request
import uuid
from base64 import b64encode
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from admit.core.models import AuditEntry
from admit.core.services import audit_record

from ..models import OutboxMessage, Partner
from .wakeup import wake_on_commit

USER_AGENT = "Admit-Outbox/1"
RESERVED_HEADERS = {"content-type", "content-length", "user-agent", "host"}
# Topics whose URL a reseller registered itself (OCTO webhooks), not staff.
RESELLER_TOPICS = ("octo.",)


def max_attempts() -> int:
    return int(getattr(settings, "ADMIT_OUTBOX_MAX_ATTEMPTS", 8))


def backoff(attempts: int) -> dt.timedelta:
    """Wait before the next attempt: 30 s, 1 min, 2 min, … at most an hour."""
    base = int(getattr(settings, "ADMIT_OUTBOX_BACKOFF_SECONDS", 30))
    return dt.timedelta(seconds=min(base * 2 ** max(attempts - 1, 0), 3600))


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """HMAC-SHA256 over ``<timestamp>.<body>`` with the partner's secret, in hex."""
    return hmac.new(
        secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256
    ).hexdigest()


def outbox_put(
    *,
    topic: str,
    payload: dict[str, Any],
    partner: Partner | None = None,
    url: str = "",
    headers: dict[str, str] | None = None,
    retry: bool = True,
) -> OutboxMessage | None:
    """Queue a call inside the caller's transaction. To a partner's notice URL unless ``url``
    is given; nothing is queued for a partner without one. ``headers`` are the receiver's own
    (sent along, never replacing Admit's); ``retry=False``: one attempt only."""
    if not connection.in_atomic_block:
        raise RuntimeError("outbox_put belongs inside the transaction of the change it tells of")
    target = url or (partner.webhook_url if partner is not None else "")
    if not target:
        return None
    now = timezone.now()
    message = OutboxMessage.objects.create(
        partner=partner,
        topic=topic[:60],
        url=target,
        body=json.dumps(payload, ensure_ascii=False, sort_keys=True, default=str),
        headers=dict(headers or {}),
        retry=retry,
        next_attempt_at=now,
    )
    wake_on_commit(message.pk)
    return message


def _due(now: dt.datetime) -> Q:
    return Q(status=OutboxMessage.Status.PENDING) & (
        Q(lease_until__isnull=True) | Q(lease_until__lt=now)
    )


def outbox_claim(
    *,
    worker: str,
    limit: int = 20,
    now: dt.datetime | None = None,
    lease_seconds: int = 60,
    ids: Sequence[int] | None = None,
) -> list[int]:
    """Claim up to ``limit`` due messages for ``worker``: one conditional UPDATE each, committed
    at once, so a message is claimed by one worker at a time on every database. ``ids``: only
    those (a Redis wake-up names them), still only if due."""
    now = now or timezone.now()
    due = OutboxMessage.objects.filter(_due(now), next_attempt_at__lte=now)
    if ids is not None:
        due = due.filter(pk__in=list(ids))
    candidates = list(
        due.order_by("next_attempt_at", "id").values_list("pk", flat=True)[: limit * 2]
    )
    claimed: list[int] = []
    for pk in candidates:
        with transaction.atomic():
            won = OutboxMessage.objects.filter(_due(now), pk=pk).update(
                lease_owner=worker[:64],
                lease_until=now + dt.timedelta(seconds=lease_seconds),
                attempts=F("attempts") + 1,
            )
        if won:
            claimed.append(pk)
            if len(claimed) >= limit:
                break
    return claimed


@dataclass(frozen=True)
class Delivery:
    message: int
    ok: bool
    status: int | None
    error: str
    dead: bool = False


Sender = Callable[[str, bytes, dict[str, str], float], int]


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A notice goes to the URL the partner gave, nowhere else: a redirect is a failure."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)


def public_url(url: str) -> bool:
    """Whether every address the URL's host names (an address itself, or what it resolves to
    now) is a public one: not private, loopback, link-local, multicast, reserved or unset. A
    name that does not resolve is not public."""
    host = urllib.parse.urlsplit(url).hostname or ""
    try:
        addresses = [ipaddress.ip_address(host)]
    except ValueError:
        try:
            found = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
        except (OSError, UnicodeError):
            return False
        addresses = [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in found]
    return bool(addresses) and all(
        a.is_global and not (a.is_multicast or a.is_reserved or a.is_unspecified) for a in addresses
    )


def reachable(url: str) -> bool:
    """Whether Admit may call ``url`` registered by a reseller: a public address, or any where
    ``ADMIT_WEBHOOKS_PRIVATE_OK`` is on (the demo's and the tests' receivers run locally)."""
    return bool(settings.ADMIT_WEBHOOKS_PRIVATE_OK) or public_url(url)


def http_send(url: str, body: bytes, headers: dict[str, str], timeout: float) -> int:
    """POST and return the status code (an HTTP error's code too)."""
    if not url.startswith(("http://", "https://")):
        raise ValueError("only http and https notice URLs")
    parts = urllib.parse.urlsplit(url)
    if parts.username is not None:  # https://user:pass@host/…: HTTP basic authentication
        credentials = f"{urllib.parse.unquote(parts.username)}:"
        credentials += urllib.parse.unquote(parts.password or "")
        headers = {**headers, "Authorization": "Basic " + b64encode(credentials.encode()).decode()}
        netloc = parts.hostname or ""
        netloc = f"[{netloc}]" if ":" in netloc else netloc
        netloc += f":{parts.port}" if parts.port else ""
        url = urllib.parse.urlunsplit(parts._replace(netloc=netloc))
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


def headers_for(message: OutboxMessage, body: bytes, now: dt.datetime) -> dict[str, str]:
    own = {
        str(k)[:100]: str(v)[:1000]
        for k, v in (message.headers or {}).items()
        if str(k).lower() not in RESERVED_HEADERS and not str(k).lower().startswith("admit-")
    }
    headers = {
        **own,
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": USER_AGENT,
        "Admit-Message-Id": str(message.pk),
        "Admit-Topic": message.topic,
        "Admit-Attempt": str(message.attempts),
    }
    secret = message.partner.secret if message.partner_id and message.partner else ""
    if secret:
        ts = int(now.timestamp())
        headers["Admit-Timestamp"] = str(ts)
        headers["Admit-Signature"] = "v1=" + sign(secret, ts, body)
    return headers


def outbox_deliver(
    *,
    message_id: int,
    worker: str,
    send: Sender = http_send,
    now: dt.datetime | None = None,
    timeout: float = 10.0,
) -> Delivery:
    """Deliver one message this worker has claimed, and record the outcome (only while the
    lease is still this worker's)."""
    now = now or timezone.now()
    message = OutboxMessage.objects.select_related("partner").get(pk=message_id)
    if message.topic.startswith(RESELLER_TOPICS) and not reachable(message.url):
        # A reseller registered the URL itself: its name is looked up again before every
        # delivery, so a name that turned private since registration is not called either.
        error = "refused: the URL no longer reaches a public address"
        dead = record_failure(message, worker, error, timezone.now())
        return Delivery(message.pk, False, None, error, dead=dead)
    body = message.body.encode()
    try:
        status: int | None = send(message.url, body, headers_for(message, body, now), timeout)
        error = "" if status is not None and 200 <= status < 300 else f"HTTP {status}"
    except (TimeoutError, OSError, ValueError) as exc:
        status, error = None, f"{type(exc).__name__}: {exc}"[:500]
    if not error:
        record_success(message, worker, timezone.now())
        return Delivery(message.pk, True, status, "")
    dead = record_failure(message, worker, error, timezone.now())
    return Delivery(message.pk, False, status, error, dead=dead)


def record_success(message: OutboxMessage, worker: str, now: dt.datetime) -> bool:
    return bool(
        OutboxMessage.objects.filter(
            pk=message.pk, status=OutboxMessage.Status.PENDING, lease_owner=worker[:64]
        ).update(
            status=OutboxMessage.Status.DELIVERED,
            delivered_at=now,
            lease_until=None,
            last_error="",
        )
    )


def record_failure(message: OutboxMessage, worker: str, error: str, now: dt.datetime) -> bool:
    """Back off, or give up after the last attempt. True when it became a dead letter."""
    dead = not message.retry or message.attempts >= max_attempts()
    OutboxMessage.objects.filter(
        pk=message.pk, status=OutboxMessage.Status.PENDING, lease_owner=worker[:64]
    ).update(
        status=OutboxMessage.Status.DEAD if dead else OutboxMessage.Status.PENDING,
        next_attempt_at=now + backoff(message.attempts),
        lease_until=None,
        last_error=error[:500],
    )
    return dead


def outbox_run(
    *,
    worker: str | None = None,
    limit: int = 20,
    send: Sender = http_send,
    log: Callable[[Delivery], None] = lambda _d: None,
    lease_seconds: int = 60,
    ids: Sequence[int] | None = None,
) -> list[Delivery]:
    """One round: claim what is due (of ``ids`` only, when given) and deliver it. Returns what
    happened to each message."""
    worker = worker or f"{socket.gethostname()}-{uuid.uuid4().hex[:8]}"
    done = []
    for pk in outbox_claim(worker=worker, limit=limit, lease_seconds=lease_seconds, ids=ids):
        delivery = outbox_deliver(message_id=pk, worker=worker, send=send)
        log(delivery)
        done.append(delivery)
    return done


@transaction.atomic
def outbox_retry(*, message: OutboxMessage, actor: Any) -> bool:
    """Put a dead letter back in the queue, due now, with its attempts counted afresh."""
    changed = OutboxMessage.objects.filter(pk=message.pk, status=OutboxMessage.Status.DEAD).update(
        status=OutboxMessage.Status.PENDING,
        attempts=0,
        next_attempt_at=timezone.now(),
        lease_until=None,
        lease_owner="",
    )
    if changed:
        audit_record(actor=actor, action=AuditEntry.Action.ACTION, obj=message, verb="outbox_retry")
    return bool(changed)
