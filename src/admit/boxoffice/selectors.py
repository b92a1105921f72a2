"""Reads of the box office that more than one caller needs."""

from __future__ import annotations

from typing import Any

from admit.accounts.rights import permissions_of
from admit.core.versions import SHIFTS, remember

from .errors import NoOpenShift
from .models import Shift

SELL_AT_WINDOW = "boxoffice.sell_at_window"


def open_shift_id(user_id: int) -> int | None:
    """The id of the user's open shift, kept in memory until any shift opens or closes."""
    return remember(
        SHIFTS,
        ("open", user_id),
        lambda: Shift.objects.filter(open_cashier=user_id).values_list("pk", flat=True).first(),
    )


def shift_for_window_money(actor: Any) -> int | None:
    """The sales engine's question (``sales.window``): which shift does money handled by
    ``actor`` belong to? Their open shift; none for staff who do not sell at the window (a
    supervisor's correction); a cashier with no open shift may not handle money."""
    if actor is None or not getattr(actor, "pk", None) or not hasattr(actor, "get_username"):
        return None
    shift = open_shift_id(actor.pk)
    if shift is not None:
        return shift
    held = permissions_of(actor)
    if SELL_AT_WINDOW in held and "*" not in held:
        raise NoOpenShift(details={"user": actor.get_username()})
    return None


def open_shift(user: Any) -> Shift | None:
    pk = open_shift_id(user.pk) if getattr(user, "pk", None) else None
    if pk is None:
        return None
    return Shift.objects.select_related("terminal", "terminal__site", "cashier").get(pk=pk)
