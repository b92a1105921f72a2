"""Every write of the sales engine. Callers import from here."""

from .orders import (
    LineRequest,
    VisitorIn,
    holds_expire,
    order_cancel,
    order_confirm,
    order_expire,
    order_hold_extend,
    order_place,
)
from .payments import amount_in, intent_sync, order_pay, order_pay_online, payment_notified
from .refunds import order_refund, order_reschedule

__all__ = [
    "LineRequest",
    "VisitorIn",
    "amount_in",
    "holds_expire",
    "intent_sync",
    "order_cancel",
    "order_confirm",
    "order_expire",
    "order_hold_extend",
    "order_pay",
    "order_pay_online",
    "order_place",
    "order_refund",
    "order_reschedule",
    "payment_notified",
]
