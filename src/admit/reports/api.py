"""Reports over the HTTP API: the same figures as the pages, as JSON (money as decimal strings).

``GET /api/v1/reports`` lists them; ``GET /api/v1/reports/{code}?site=&from=&to=&group=``
answers one (``product`` and ``channel`` narrow the reports that say so). Errors as everywhere:
``bad_date``, ``bad_range``, ``bad_group``, ``unknown_site``."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.http import Http404, HttpRequest
from ninja import Router

from admit.accounts.rights import require
from admit.core.money import CURRENCY

from .catalog import REPORTS
from .views import filters_from

router = Router(tags=["reports"])


def _value(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    return value if value is None or isinstance(value, (int, float)) else str(value)


@router.get("/reports", response=list[dict], summary="The reports there are")
def reports_list(request: HttpRequest) -> Any:
    require(request, "reports.view_reports")
    return [
        {
            "code": r.code,
            "title": str(r.title),
            "description": str(r.description),
            "groups": [g for g, _label in r.groups],
        }
        for r in REPORTS.values()
    ]


@router.get("/reports/{code}", response=dict, summary="One report over a range of business days")
def report_get(request: HttpRequest, code: str) -> Any:
    require(request, "reports.view_reports")
    rep = REPORTS.get(code)
    if rep is None:
        raise Http404
    f = filters_from(request.GET, rep)
    result = rep.run(f)
    return {
        "report": rep.code,
        "site": f.site.code,
        "from": f.start.isoformat(),
        "to": f.end.isoformat(),
        "group": f.group,
        "currency": CURRENCY,
        "columns": [{"key": c.key, "label": str(c.label), "kind": c.kind} for c in result.columns],
        "rows": [[_value(v) for v in row] for row in result.rows],
        "totals": [_value(v) for v in result.totals] if result.totals is not None else None,
        "notes": result.notes,
    }
