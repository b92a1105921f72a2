"""Every write of the partners app. Callers import from here."""

from . import wakeup
from .bookings import (
    BookingChange,
    BookingRequest,
    booking_cancel,
    booking_confirm,
    booking_extend,
    booking_reserve,
    booking_update,
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
from .webhooks import webhook_delete, webhook_register, webhooks_of

__all__ = [
    "BookingChange",
    "BookingRequest",
    "Delivery",
    "booking_cancel",
    "booking_confirm",
    "booking_extend",
    "booking_reserve",
    "booking_update",
    "outbox_claim",
    "outbox_deliver",
    "outbox_put",
    "outbox_retry",
    "outbox_run",
    "partner_authenticate",
    "partner_key_issue",
    "partner_save",
    "wakeup",
    "webhook_delete",
    "webhook_register",
    "webhooks_of",
]
