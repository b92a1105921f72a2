"""Exact money: ``Decimal`` with two places (fen), never float."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

CURRENCY = "CNY"
FEN = Decimal("0.01")
ZERO = Decimal("0.00")


def to_money(value: Decimal | int | str) -> Decimal:
    """Round to the fen, half up (the rounding Chinese receipts use). Floats are refused."""
    if isinstance(value, float):
        raise TypeError("money must not be a float")
    try:
        amount = Decimal(value)
    except (InvalidOperation, ValueError) as exc:
        raise ValueError(f"not a money amount: {value!r}") from exc
    if not amount.is_finite():
        raise ValueError(f"not a money amount: {value!r}")
    return amount.quantize(FEN, rounding=ROUND_HALF_UP)


def money_str(amount: Decimal) -> str:
    """The API form of an amount: a decimal string with two places, e.g. ``"120.00"``."""
    return f"{to_money(amount):.2f}"
