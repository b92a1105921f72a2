"""Domain errors: every refusal Admit makes carries a stable machine-readable code.

The API maps them to the uniform error body, the back office shows their message, and a gate
maps the code to its display text and voice prompt.
"""

from __future__ import annotations

from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


class DomainError(Exception):
    """Base of every business refusal.

    Subclasses set ``code``, ``status`` and ``default_message``.
    """

    code: str = "error"
    status: int = 400
    default_message: str | Promise = _("The request could not be processed.")

    def __init__(
        self,
        message: str | Promise | None = None,
        *,
        code: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        self.message = message if message is not None else self.default_message
        if code is not None:
            self.code = code
        self.details = details or {}
        super().__init__(str(self.message))

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": str(self.message), "details": self.details}


class ValidationFailed(DomainError):
    code = "invalid"
    status = 400
    default_message = _("Some values are not valid.")

    @classmethod
    def from_django(cls, exc: Any) -> ValidationFailed:
        """Wrap a django ``ValidationError`` keeping its per-field messages in details."""
        if hasattr(exc, "error_dict"):
            fields = {k: [str(m) for e in v for m in e.messages] for k, v in exc.error_dict.items()}
            first = next(iter(fields.values()))[0] if fields else str(cls.default_message)
            return cls(first, details={"fields": fields})
        messages = [str(m) for m in exc.messages]
        return cls(messages[0] if messages else None, details={"fields": {"__all__": messages}})


class NotFound(DomainError):
    code = "not_found"
    status = 404
    default_message = _("Not found.")


class PermissionDenied(DomainError):
    code = "permission_denied"
    status = 403
    default_message = _("You do not have the right to do this.")


class AuthenticationFailed(DomainError):
    code = "not_authenticated"
    status = 401
    default_message = _("Authentication is required.")


class Conflict(DomainError):
    code = "conflict"
    status = 409
    default_message = _("The request conflicts with the current state.")


class RateLimited(DomainError):
    code = "rate_limited"
    status = 429
    default_message = _("Too many requests. Try again later.")
