"""Events a lower app announces to higher ones without importing them.

A gate's scan (``access``) or a refund (``sales``) publishes a topic inside its own transaction;
an app above it (``partners``) subscribes when it loads and writes what it needs (an outbox
message) in the same transaction, so the notice exists exactly when the change does.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Any

TICKET_USED = "ticket_used"  # ticket_id, persons, at
ORDER_REFUNDED = "order_refunded"  # order_id, tickets, amount
ORDER_CHANGED = "order_changed"  # order_id, tickets (a date change)
# For the report aggregates (``reports``), each published where its row is written:
ORDER_PAID = "order_paid"  # order, lines, now
TICKETS_REFUNDED = "tickets_refunded"  # order, tickets, void, now
MONEY_MOVED = "money_moved"  # order, payment=None or refund=None
LEDGER_RECORDED = "ledger_recorded"  # entry
SCAN_RECORDED = "scan_recorded"  # scan, product_id, received_at

Listener = Callable[..., None]

_listeners: dict[str, list[Listener]] = defaultdict(list)


def subscribe(topic: str, listener: Listener) -> None:
    if listener not in _listeners[topic]:
        _listeners[topic].append(listener)


def publish(topic: str, **data: Any) -> None:
    """Tell every subscriber, inside the caller's transaction (a failure rolls the change back)."""
    for listener in _listeners.get(topic, ()):
        listener(**data)
