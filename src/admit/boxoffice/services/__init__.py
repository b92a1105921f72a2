"""Every write of the box office. Callers import from here."""

from .shifts import (
    approval_check,
    pin_set,
    shift_close,
    shift_confirm,
    shift_open,
)

__all__ = [
    "approval_check",
    "pin_set",
    "shift_close",
    "shift_confirm",
    "shift_open",
]
