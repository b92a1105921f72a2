"""Which cashier's shift window money belongs to.

The sales engine does not know about shifts (the box office sits above it); the box office
registers a resolver here when it loads. A resolver gets the person taking or paying back money
and returns the id of their open shift, None when the money belongs to no shift (a supervisor's
correction in the back office, a provider's notification), or raises a domain error when that
person may not handle money now (a cashier without an open shift).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Resolver = Callable[[Any], "int | None"]

_resolvers: list[Resolver] = []


def register(resolver: Resolver) -> None:
    if resolver not in _resolvers:
        _resolvers.append(resolver)


def shift_of(actor: Any) -> int | None:
    """The shift that money handled by ``actor`` belongs to (see the module's text)."""
    for resolver in _resolvers:
        shift = resolver(actor)
        if shift is not None:
            return shift
    return None
