"""Every write of the box office. Callers import from here."""

from .shifts import (
    approval_check,
    pin_set,
    shift_close,
    shift_confirm,
    shift_open,
)
from .window import (
    Tender,
    sellable_products,
    window_order,
    window_pay,
    window_refund,
    window_sell,
    window_void,
)

__all__ = [
    "Tender",
    "approval_check",
    "pin_set",
    "sellable_products",
    "shift_close",
    "shift_confirm",
    "shift_open",
    "window_order",
    "window_pay",
    "window_refund",
    "window_sell",
    "window_void",
]
