"""Every write of the partners app. Callers import from here."""

from . import wakeup
from .bookings import (
    BookingRequest,
    booking_cancel,
    booking_confirm,
    booking_extend,
    booking_reserve,
)
from .outbox import (
    Delivery,
    outbox_claim,
    outbox_deliver,
    outbox_put,
    outbox_retry,
    outbox_run,
)
from .partners import partner_authenticate, partner_key_issue, partner_save

__all__ = [
    "BookingRequest",
    "Delivery",
    "booking_cancel",
    "booking_confirm",
    "booking_extend",
    "booking_reserve",
    "outbox_claim",
    "outbox_deliver",
    "outbox_put",
    "outbox_retry",
    "outbox_run",
    "partner_authenticate",
    "partner_key_issue",
    "partner_save",
    "wakeup",
]
