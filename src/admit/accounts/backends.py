from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.http import HttpRequest

from . import services


class LockoutModelBackend(ModelBackend):
    """Password login that refuses locked accounts and locks after repeated failures."""

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> Any:
        if username is None:
            username = kwargs.get("username")
        if not username or password is None:
            return None
        if services.login_locked_until(username=username) is not None:
            return None
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is None:
            services.login_failed(username=username)
            return None
        services.login_succeeded(user=user)
        return user
