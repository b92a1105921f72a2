from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.auth.middleware import AuthenticationMiddleware
from django.contrib.messages.middleware import MessageMiddleware
from django.contrib.sessions.middleware import SessionMiddleware
from django.http import HttpRequest, HttpResponse, HttpResponseBase, HttpResponseForbidden
from django.middleware.csrf import CsrfViewMiddleware

from .context import RequestContext, request_context
from .versions import RequestVersions


def client_ip(request: HttpRequest) -> str | None:
    if getattr(settings, "SECURE_PROXY_SSL_HEADER", None):
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded:
            return forwarded.split(",")[0].strip() or None
    return request.META.get("REMOTE_ADDR") or None


PARTNER_PREFIXES = ("/octo/", "/ota/")


class RequestContextMiddleware:
    """Makes the caller's address and a request id available to services for the audit trail."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = request.META.get("HTTP_X_REQUEST_ID", "")[:64] or uuid.uuid4().hex
        via = "api" if request.path.startswith("/api/") else "web"
        ctx = RequestContext(
            source_ip=client_ip(request),
            user_agent=request.META.get("HTTP_USER_AGENT", "")[:255],
            request_id=request_id,
            via=via,
        )
        with request_context(ctx):
            # The machine-facing APIs (Admit's own, OCTO, the OTA connectors) read the cache
            # counters once per request; pages may change the catalog and read it back.
            if via == "api" or request.path.startswith(PARTNER_PREFIXES):
                with RequestVersions():
                    response = self.get_response(request)
            else:
                response = self.get_response(request)
        response["X-Request-ID"] = request_id
        return response


# --- Django's cookie middlewares, for the web pages only ------------------------------------
#
# The API authenticates with bearer tokens and sets no cookies, so sessions, CSRF, the session
# user and flash messages are work without a purpose on ``/api/`` (the sales hot path). Host
# checks, security headers, the language and the request context still apply there. Each class
# subclasses the original so that Django's and the admin's checks recognise it.

API_PREFIX = "/api/"


def is_api(request: HttpRequest) -> bool:
    return request.path_info.startswith(API_PREFIX)


class _WebOnly:
    """Passes ``/api/`` requests straight on; runs the Django middleware it is mixed into for
    every other request."""

    get_response: Callable[[HttpRequest], HttpResponseBase]

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if is_api(request):
            return self.get_response(request)
        return super().__call__(request)  # type: ignore[misc, no-any-return]


class WebSessionMiddleware(_WebOnly, SessionMiddleware):  # type: ignore[misc]
    pass


class WebAuthenticationMiddleware(_WebOnly, AuthenticationMiddleware):  # type: ignore[misc]
    pass


class WebMessageMiddleware(_WebOnly, MessageMiddleware):  # type: ignore[misc]
    pass


class WebCsrfViewMiddleware(_WebOnly, CsrfViewMiddleware):  # type: ignore[misc]
    def process_view(
        self, request: HttpRequest, callback: Any, callback_args: Any, callback_kwargs: Any
    ) -> HttpResponseForbidden | None:
        if is_api(request):
            return None
        return super().process_view(request, callback, callback_args, callback_kwargs)
