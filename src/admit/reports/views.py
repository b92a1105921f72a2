"""The report pages under /reports/: pick a site, dates and a grouping; read, chart, export."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.views.decorators import staff_member_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from admit.accounts.rights import has
from admit.catalog.models import Channel, Product, Site
from admit.core.errors import DomainError

from . import errors, exports
from .catalog import MAX_DAYS, REPORTS, Filters, Report
from .facts import local
from .models import DayClose
from .services import day_close


def _allowed(request: HttpRequest) -> None:
    if not has(request.user, "reports.view_reports"):
        raise DjangoPermissionDenied


def _date(value: str | None, default: dt.date, field: str) -> dt.date:
    if not value:
        return default
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise errors.BadRange(
            _("%(value)s is not a date (YYYY-MM-DD).") % {"value": value[:20]},
            code="bad_date",
            details={"field": field},
        ) from exc


def _int(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() and len(value) < 10 else None


def filters_from(params: Any, report: Report) -> Filters:
    """The filters of a request; a clear ``BadRange`` for dates that are not dates, an end
    before the start, a range over ``MAX_DAYS`` or an unknown site or grouping."""
    sites = list(Site.objects.order_by("pk"))
    if not sites:
        raise errors.NoSite()
    code = params.get("site") or sites[0].code
    site = next((s for s in sites if s.code == code), None)
    if site is None:
        raise errors.NoSite(details={"site": code[:40]})
    today = local(site.pk, timezone.now()).date()
    end = _date(params.get("to"), today, "to")
    start = _date(params.get("from"), end - dt.timedelta(days=6), "from")
    if start > end or (end - start).days >= MAX_DAYS:
        raise errors.BadRange(details={"from": start.isoformat(), "to": end.isoformat()})
    group = params.get("group") or ""
    if group and group not in dict(report.groups):
        raise errors.BadRange(
            _("A report cannot be grouped by %(group)s.") % {"group": group[:20]},
            code="bad_group",
        )
    return Filters(
        site=site,
        start=start,
        end=end,
        group=group or (report.groups[0][0] if report.groups else ""),
        product=_int(params.get("product")) if report.uses_product else None,
        channel=_int(params.get("channel")) if report.uses_channel else None,
    )


@staff_member_required
@require_GET
def index(request: HttpRequest) -> HttpResponse:
    _allowed(request)
    return render(
        request,
        "reports/index.html",
        {
            **admin.site.each_context(request),
            "title": _("Reports"),
            "reports": list(REPORTS.values()),
            "sites": Site.objects.order_by("pk"),
            "closed": DayClose.objects.select_related("site", "closed_by").order_by("-day")[:10],
            "can_close": has(request.user, "reports.close_day"),
        },
    )


@staff_member_required
@require_GET
def report(request: HttpRequest, code: str, fmt: str = "") -> HttpResponse:
    _allowed(request)
    rep = REPORTS.get(code)
    if rep is None:
        raise Http404
    try:
        f = filters_from(request.GET, rep)
    except DomainError as exc:
        return render(
            request,
            "reports/report.html",
            {**admin.site.each_context(request), "title": rep.title, "report": rep, "error": exc},
            status=400,
        )
    result = rep.run(f)
    name = f"{rep.code}-{f.site.code}-{f.start}-{f.end}"
    subtitle = f"{f.site} · {f.start} – {f.end}"
    if fmt == "csv":
        response = HttpResponse(exports.as_csv(result, str(rep.title)), content_type="text/csv")
        response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
        return response
    if fmt == "xlsx":
        response = HttpResponse(
            exports.as_xlsx(result, str(rep.title), subtitle),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
        response["Content-Disposition"] = f'attachment; filename="{name}.xlsx"'
        return response
    closed = set(
        DayClose.objects.filter(site=f.site, day__gte=f.start, day__lte=f.end).values_list(
            "day", flat=True
        )
    )
    days = (f.end - f.start).days + 1
    return render(
        request,
        "reports/report.html",
        {
            **admin.site.each_context(request),
            "title": rep.title,
            "report": rep,
            "f": f,
            "result": result,
            "subtitle": subtitle,
            "query": request.GET.urlencode(),
            "sites": Site.objects.order_by("pk"),
            "products": Product.objects.filter(site=f.site).order_by("pk")
            if rep.uses_product
            else [],
            "channels": Channel.objects.order_by("pk") if rep.uses_channel else [],
            "chart": result.chart,
            "closed_days": len(closed),
            "all_closed": len(closed) == days,
        },
    )


@staff_member_required
@require_POST
def close_day(request: HttpRequest) -> HttpResponse:
    if not has(request.user, "reports.close_day"):
        raise DjangoPermissionDenied
    site = Site.objects.filter(code=request.POST.get("site", "")).first()
    try:
        if site is None:
            raise errors.NoSite()
        day = _date(request.POST.get("day"), dt.date.min, "day")
        day_close(site=site, day=day, actor=request.user)
    except DomainError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(
            request, _("%(day)s is closed: its figures no longer change.") % {"day": day}
        )
    return redirect("reports:index")
