"""Reads of customers that other apps need."""

from __future__ import annotations

from typing import Any

from admit.core.versions import RIGHTS, remember

from .models import AccountMember


def _account_id(user_id: int) -> int | None:
    return (
        AccountMember.objects.filter(user_id=user_id).values_list("account_id", flat=True).first()
    )


def account_id_of(user: Any) -> int | None:
    """The B2B account a staff user books for, or None for the venue's own staff. Kept in
    memory until staff, rights or accounts change."""
    if user is None or not getattr(user, "pk", None):
        return None
    return remember(RIGHTS, ("account", user.pk), lambda: _account_id(user.pk))
