"""Checks of a caller's rights, for API handlers and views."""

from __future__ import annotations

from typing import Any

from admit.core.errors import PermissionDenied
from admit.core.versions import RIGHTS, remember


def permissions_of(user: Any) -> frozenset[str]:
    """The user's permissions, kept in memory until staff or roles change."""
    if not user.is_active:
        return frozenset()
    if user.is_superuser:
        return frozenset({"*"})
    return remember(RIGHTS, ("perms", user.pk), lambda: frozenset(user.get_all_permissions()))


def has(user: Any, perm: str) -> bool:
    """Whether ``user`` (a staff user, or anyone else: no) holds ``perm``."""
    if user is None or not getattr(user, "pk", None) or not hasattr(user, "is_active"):
        return False
    held = permissions_of(user)
    return "*" in held or perm in held


def require(request: Any, *perms: str) -> Any:
    """The staff user behind the request, who must hold every permission in ``perms``."""
    user = getattr(request, "user", None)
    if user is None or not getattr(user, "is_authenticated", False):
        raise PermissionDenied(details={"needs": list(perms)})
    held = permissions_of(user)
    missing = [p for p in perms if "*" not in held and p not in held]
    if missing:
        raise PermissionDenied(details={"needs": missing})
    return user
