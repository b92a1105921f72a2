"""Every write of the box office. Callers import from here."""

from .kiosk import (
    kiosk_lookup,
    kiosk_order_cancel,
    kiosk_order_place,
    kiosk_order_print,
    kiosk_order_status,
    kiosk_pair,
    kiosk_pickup_print,
    kiosk_unpair,
)
from .shifts import (
    approval_check,
    pin_set,
    shift_close,
    shift_confirm,
    shift_open,
)
from .stock import (
    stock_activate,
    stock_issue,
    stock_receive,
    stock_return,
    stock_use,
    stock_void,
)
from .window import (
    Tender,
    discount_needs_approval,
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
    "discount_needs_approval",
    "kiosk_lookup",
    "kiosk_order_cancel",
    "kiosk_order_place",
    "kiosk_order_print",
    "kiosk_order_status",
    "kiosk_pair",
    "kiosk_pickup_print",
    "kiosk_unpair",
    "pin_set",
    "sellable_products",
    "shift_close",
    "shift_confirm",
    "shift_open",
    "stock_activate",
    "stock_issue",
    "stock_receive",
    "stock_return",
    "stock_use",
    "stock_void",
    "window_order",
    "window_pay",
    "window_refund",
    "window_sell",
    "window_void",
]
