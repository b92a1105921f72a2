"""Text helpers: how a phone or card number is shown masked, and text that no database may
store (NUL characters).

PostgreSQL refuses a string containing U+0000 (psycopg raises ``ValueError`` before the query
is sent), MariaDB silently keeps it, SQLite cuts some functions short at it. No field of Admit
has a use for it, so every way in refuses it up front with the code ``nul_character``:
``NulCharacterMiddleware`` for paths, query strings and form posts, the API's JSON parser
(``admit.api.AdmitParser``) and the partner endpoints' body readers (``has_nul``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .errors import ValidationFailed

NUL = "\x00"


def mask(value: str) -> str:
    """A phone, card or medium number as pages, staff screens and logs show it: enough to
    recognise, not to copy (139****4321)."""
    if len(value) <= 6:
        return value[:1] + "*" * (len(value) - 1)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]


class NulCharacter(ValidationFailed):
    code = "nul_character"
    default_message = gettext_lazy(
        "The request contains a NUL character (U+0000), which no field accepts."
    )


def has_nul(value: Any) -> bool:
    """Whether a decoded JSON value (or a string, or a list of strings) holds U+0000 anywhere,
    in a key or in a value, however deeply nested."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if NUL in item:
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list | tuple):
            stack.extend(item)
    return False


FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def request_has_nul(request: HttpRequest) -> bool:
    if NUL in request.path:
        return True
    if any(has_nul(key) or has_nul(request.GET.getlist(key)) for key in request.GET):
        return True
    if request.method == "POST" and request.content_type in FORM_TYPES:
        if request.content_type == "multipart/form-data":
            size = int(request.META.get("CONTENT_LENGTH") or 0)
            if size > settings.DATA_UPLOAD_MAX_MEMORY_SIZE:
                return False  # an upload: left to the form's own validators
            # Read the body first, so that a view reading request.body still can.
            request.body  # noqa: B018
        return any(has_nul(key) or has_nul(request.POST.getlist(key)) for key in request.POST)
    return False


class NulCharacterMiddleware:
    """Answers 400 to any request whose path, query string or form fields hold U+0000, in the
    error shape of the part of the site it was meant for."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request_has_nul(request):
            return self.get_response(request)
        error = NulCharacter()
        if request.path.startswith("/octo/"):
            # OCTO's own error shape (see admit.partners.octo.OctoError)
            return JsonResponse(
                {"error": "BAD_REQUEST", "errorMessage": str(error.message)}, status=400
            )
        if request.path.startswith("/ota/"):
            # the sandbox OTA connector's shape (see admit.partners.connectors)
            return JsonResponse({"code": 400, **error.as_dict()}, status=400)
        if request.path.startswith("/api/"):
            return JsonResponse({"error": error.as_dict()}, status=400)
        return HttpResponse(
            _("Bad request: %(reason)s") % {"reason": error.message},
            status=400,
            content_type="text/plain; charset=utf-8",
        )
