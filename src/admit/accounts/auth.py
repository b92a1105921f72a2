from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest
from ninja.security import HttpBearer

from .services import token_authenticate


class BearerToken(HttpBearer):
    """``Authorization: Bearer <token>`` for staff users and devices."""

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        api_token = token_authenticate(secret=token)
        if api_token is None:
            return None
        request.user = api_token.user or AnonymousUser()  # type: ignore[assignment]
        request.device = api_token.device  # type: ignore[attr-defined]
        return api_token


bearer = BearerToken()
