"""Who is acting, and from where: carried from the request (or a command) to the audit trail."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field


@dataclass(frozen=True)
class RequestContext:
    source_ip: str | None = None
    user_agent: str = ""
    request_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    via: str = "system"  # web, api, command, system


_current: ContextVar[RequestContext | None] = ContextVar("admit_request_context", default=None)


def current_context() -> RequestContext:
    return _current.get() or RequestContext()


@contextlib.contextmanager
def request_context(ctx: RequestContext) -> Iterator[RequestContext]:
    token = _current.set(ctx)
    try:
        yield ctx
    finally:
        _current.reset(token)
