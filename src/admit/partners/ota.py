"""``/ota/<connector>/<service>``: calls from OTA platforms, each through its connector."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from admit.core.errors import DomainError

from .connectors import connector as get_connector


@csrf_exempt
@require_POST
def ota_call(request: HttpRequest, connector: str, service: str) -> HttpResponse:
    try:
        conn = get_connector(connector)
    except DomainError as exc:
        return JsonResponse(
            {"code": 404, "error": exc.code, "message": str(exc.message)}, status=404
        )
    try:
        call = conn.verify(
            service=service, headers=request.headers, body=request.body, now=timezone.now()
        )
        return JsonResponse(conn.handle(call))
    except DomainError as exc:
        status, body = conn.refusal(exc)
        return JsonResponse(body, status=status)
