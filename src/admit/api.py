"""The HTTP API under /api/v1/: one NinjaAPI, the uniform error body, the routers of each app."""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, AuthorizationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.parser import Parser

from admit.access.api import router as access_router
from admit.accounts.api import router as auth_router
from admit.accounts.auth import bearer
from admit.catalog.api import router as catalog_router
from admit.core.errors import DomainError
from admit.core.text import NulCharacter, has_nul
from admit.customers.api import router as customers_router
from admit.inventory.api import router as inventory_router
from admit.reports.api import router as reports_router
from admit.sales.api import router as sales_router
from admit.sales.api_passes import router as passes_router

log = logging.getLogger(__name__)


class AdmitParser(Parser):
    """Django Ninja's JSON parser, refusing U+0000 anywhere in the body or the query (see
    ``admit.core.text``)."""

    def parse_body(self, request: HttpRequest) -> Any:
        data = super().parse_body(request)
        if has_nul(data):
            raise NulCharacter()
        return data

    def parse_querydict(self, data: Any, list_fields: list[str], request: HttpRequest) -> Any:
        result = super().parse_querydict(data, list_fields, request)
        if has_nul(result):
            raise NulCharacter()
        return result


api = NinjaAPI(
    title="Admit API",
    version="1",
    description="Ticketing, admission and access control. Errors are "
    '`{"error": {"code": …, "message": …, "details": {…}}}`; money is a decimal string in CNY.',
    auth=bearer,
    urls_namespace="api",
    parser=AdmitParser(),
)

STATUS_CODES = {
    400: "bad_request",
    401: "not_authenticated",
    403: "permission_denied",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    429: "rate_limited",
}


def error_response(
    request: HttpRequest, status: int, code: str, message: str, details: Any = None
) -> HttpResponse:
    return api.create_response(
        request,
        {"error": {"code": code, "message": message, "details": details or {}}},
        status=status,
    )


@api.exception_handler(DomainError)
def on_domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
    return error_response(request, exc.status, exc.code, str(exc.message), exc.details)


@api.exception_handler(NinjaValidationError)
def on_validation_error(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    fields = [
        {
            "field": ".".join(
                str(p) for p in e.get("loc", ()) if p not in ("body", "query", "path")
            ),
            "message": e.get("msg", ""),
            "type": e.get("type", ""),
        }
        for e in exc.errors
    ]
    return error_response(
        request, 400, "invalid", _("Some values are not valid."), {"fields": fields}
    )


@api.exception_handler(AuthenticationError)
def on_authentication_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return error_response(
        request,
        401,
        "not_authenticated",
        _("A valid bearer token is required (Authorization: Bearer <token>)."),
    )


@api.exception_handler(AuthorizationError)
def on_authorization_error(request: HttpRequest, exc: AuthorizationError) -> HttpResponse:
    return error_response(
        request, 403, "permission_denied", _("You do not have the right to do this.")
    )


@api.exception_handler(HttpError)
def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    if isinstance(exc.__cause__, DomainError):  # raised by AdmitParser, wrapped by Ninja
        return on_domain_error(request, exc.__cause__)
    if exc.status_code == 400:
        return error_response(
            request,
            400,
            "malformed_request",
            _("The request could not be read: %(reason)s") % {"reason": str(exc)},
        )
    return error_response(
        request, exc.status_code, STATUS_CODES.get(exc.status_code, "error"), str(exc)
    )


@api.exception_handler(Http404)
def on_404(request: HttpRequest, exc: Exception) -> HttpResponse:
    return error_response(request, 404, "not_found", _("Not found."))


@api.exception_handler(ObjectDoesNotExist)
def on_does_not_exist(request: HttpRequest, exc: Exception) -> HttpResponse:
    return error_response(request, 404, "not_found", _("Not found."))


@api.exception_handler(Exception)
def on_unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
    log.exception("unhandled error in API", exc_info=exc)
    return error_response(
        request, 500, "server_error", _("Something went wrong on our side; it has been logged.")
    )


api.add_router("/auth", auth_router)
api.add_router("/", catalog_router)
api.add_router("/", inventory_router)
api.add_router("/", sales_router)
api.add_router("/", access_router)
api.add_router("/", customers_router)
api.add_router("/", passes_router)
api.add_router("/", reports_router)
