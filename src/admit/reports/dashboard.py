"""The dashboard (大屏): today at a glance for a wall screen, refreshing by itself.

``today`` gathers the figures of a site's business day from the aggregates (``models``), the
day's capacity pools and the lanes — a handful of queries, however many sales and scans the day
had. The page renders them once and polls ``dashboard_data`` for fresh ones.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.admin.views.decorators import staff_member_required
from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Sum
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from admit.access.admin import STALE_AFTER
from admit.access.rules import SITE_ZONE
from admit.accounts.rights import has
from admit.catalog.models import Lane, Site
from admit.inventory.models import Pool

from .catalog import sales_sums
from .facts import local
from .models import EntryHour, OriginDay, SalesDay

PERMISSION = "reports.view_reports"
TOP_ORIGINS = 10
ZERO = Decimal("0.00")


def refresh_seconds() -> int:
    return max(int(settings.ADMIT_DASHBOARD_REFRESH_SECONDS), 5)


# --- figures ---------------------------------------------------------------------------------


def _pct(part: int, whole: int) -> float | None:
    return round(part * 100 / whole, 1) if whole else None


def _hour_range(site: Site, hours: set[int]) -> range:
    """The opening hours of the day, widened to any hour that saw a scan."""
    first = min([site.opens_at.hour, *hours])
    last = max([site.closes_at.hour, *hours])
    return range(first, last + 1)


def _lane_status(lane: Lane) -> Any:
    try:
        return lane.status  # type: ignore[attr-defined]
    except ObjectDoesNotExist:
        return None


def _estimated_inside(
    entries: dict[int, int], day_start: dt.datetime, now: dt.datetime, stay_minutes: int
) -> int:
    """Those who entered within the average stay (where no lane scans exits), as the access
    app estimates it, from hourly counts: an hour partly within the stay counts in part."""
    since = now - dt.timedelta(minutes=stay_minutes)
    total = 0.0
    for hour, persons in entries.items():
        start = day_start + dt.timedelta(hours=hour)
        end = min(start + dt.timedelta(hours=1), now)
        if end <= start:
            total += persons  # scanned "in the future" by a fast clock: count it
            continue
        overlap = (end - max(start, since)).total_seconds()
        if overlap > 0:
            total += persons * overlap / (end - start).total_seconds()
    return round(total)


def today(site: Site, now: dt.datetime | None = None) -> dict[str, Any]:
    """Everything the dashboard shows for ``site`` on its business day at ``now``."""
    from admit.customers.origin import region_label

    at = local(site.pk, now or timezone.now())
    day = at.date()

    sales = SalesDay.objects.filter(site_id=site.pk, day=day).aggregate(**sales_sums())
    sold = (sales["sold"] or 0) - (sales["refunded"] or 0) - (sales["voided"] or 0)
    takings = (
        (sales["net"] or ZERO) - (sales["refunded_value"] or ZERO) - (sales["voided_value"] or ZERO)
    )

    lanes = list(
        Lane.objects.filter(gate__site=site)
        .select_related("gate__zone", "status")
        .order_by("gate__code", "code")
    )
    by_lane = {ln.pk: ln for ln in lanes}

    def top_level(lane: Lane | None) -> bool:
        # as ``access.selectors.occupancy_totals``: the site itself and its outermost zones
        zone = lane.gate.zone if lane is not None else None
        return zone is None or not zone.is_active or zone.parent_id is None

    flows = list(
        EntryHour.objects.filter(site_id=site.pk, day=day, late=False)
        .values("hour", "lane_id", "direction")
        .annotate(persons=Sum("persons"))
    )
    hourly: dict[str, dict[int, int]] = {"in": defaultdict(int), "out": defaultdict(int)}
    per_gate: dict[int, dict[str, int]] = defaultdict(lambda: {"in": 0, "out": 0})
    per_zone: dict[int, dict[str, int]] = defaultdict(lambda: {"in": 0, "out": 0})
    for r in flows:
        direction = r["direction"]
        if direction not in ("in", "out"):
            continue
        lane = by_lane.get(r["lane_id"])
        persons = r["persons"] or 0
        if lane is not None:
            per_gate[lane.gate_id][direction] += persons
        if top_level(lane):
            hourly[direction][r["hour"]] += persons
            zone_key = lane.gate.zone_id if lane is not None and lane.gate.zone_id else SITE_ZONE
            per_zone[zone_key][direction] += persons
    entered = sum(z["in"] for z in per_zone.values())
    counts_exits = any(
        ln.is_active and ln.direction in (Lane.Direction.OUT, Lane.Direction.BOTH) for ln in lanes
    )
    day_start = at.replace(hour=0, minute=0, second=0, microsecond=0)
    if counts_exits:
        inside = sum(max(z["in"] - z["out"], 0) for z in per_zone.values())
    else:
        inside = _estimated_inside(hourly["in"], day_start, at, site.average_stay_minutes)

    pools = list(_pools(site, day))
    capacity = sum(p.capacity for p in pools if p.zone.parent_id is None)
    slots = [
        {
            "zone": str(p.zone),
            "slot": f"{p.start:%H:%M}–{p.end:%H:%M}" if p.start and p.end else _("all day"),
            "capacity": p.capacity,
            "sold": p.sold,
            "held": p.held,
            "fill": _pct(p.sold, p.capacity),
            "now": bool(p.start and p.end and p.start <= at.time() < p.end),
        }
        for p in sorted(
            pools,
            key=lambda p: (p.zone.parent_id is not None, str(p.zone), p.start or dt.time.min),
        )
    ]

    gates: dict[int, str] = {}
    for ln in lanes:
        if ln.gate.is_active or ln.gate_id in per_gate:
            gates.setdefault(ln.gate_id, str(ln.gate))
    offline = []
    active = [ln for ln in lanes if ln.is_active and ln.gate.is_active]
    for ln in active:
        status = _lane_status(ln)
        contact = status.last_contact_at if status is not None else None
        if contact is None or at - contact > STALE_AFTER:
            offline.append(
                {
                    "lane": str(ln),
                    "gate": str(ln.gate),
                    "last_contact": local(site.pk, contact).strftime("%H:%M") if contact else None,
                }
            )

    origin_rows = (
        OriginDay.objects.filter(site_id=site.pk, day=day)
        .values("province")
        .annotate(persons=Sum("persons"), refunded=Sum("refunded"))
    )
    origins = []
    unknown = 0
    visitors = 0  # persons of the tickets sold today, less those refunded or voided
    for r in origin_rows:
        persons = (r["persons"] or 0) - (r["refunded"] or 0)
        visitors += persons
        if not r["province"]:
            unknown += persons
        elif persons > 0:
            origins.append(
                {"code": r["province"], "name": region_label(r["province"]), "persons": persons}
            )
    origins.sort(key=lambda o: (-o["persons"], o["code"]))
    for o in origins:
        o["name"] = o["name"] or o["code"]

    hours = _hour_range(site, {h for d in hourly.values() for h in d})
    return {
        "site": {"code": site.code, "name": str(site)},
        "day": day.isoformat(),
        "updated": at.strftime("%H:%M:%S"),
        "refresh": refresh_seconds(),
        "sold": sold,
        "persons": visitors,
        "sales": f"{takings:.2f}",
        "currency": "CNY",
        "entered": entered,
        "inside": inside,
        "inside_estimated": not counts_exits,
        "capacity": capacity,
        "inside_pct": _pct(inside, capacity),
        "slots": slots,
        "gates": {
            "labels": list(gates.values()),
            "in": [per_gate[g]["in"] for g in gates],
            "out": [per_gate[g]["out"] for g in gates],
        },
        "hours": {
            "labels": [f"{h:02d}:00" for h in hours],
            # hours still to come stay empty, so the line stops at the current hour
            "in": [hourly["in"].get(h, 0) if h <= at.hour else None for h in hours],
            "out": [hourly["out"].get(h, 0) if h <= at.hour else None for h in hours],
        },
        "origins": origins[:TOP_ORIGINS],
        "origins_unknown": max(unknown, 0),
        "lanes": {"total": len(active), "offline": offline},
        "empty": not (sales["sold"] or flows),
    }


def _pools(site: Site, day: dt.date) -> list[Pool]:
    """The day's pools; made from the capacity templates if nothing made them yet today (as
    the point of sale and the shop do when they show a day)."""
    qs = Pool.objects.filter(site=site, date=day).select_related("zone")
    pools = list(qs)
    if not pools:
        from admit.inventory.services import pools_ensure

        pools_ensure(site=site, day=day)
        pools = list(qs.all())
    return pools


# --- views -----------------------------------------------------------------------------------


def _sites() -> list[Site]:
    return list(Site.objects.filter(is_active=True).order_by("code"))


def _chosen(request: HttpRequest, sites: list[Site]) -> Site | None:
    wanted = request.GET.get("site", "")
    return next((s for s in sites if s.code == wanted), sites[0] if sites else None)


def _strings() -> dict[str, str]:
    """What the script writes on the page, in the reader's language."""
    return {
        "in": _("in"),
        "out": _("out"),
        "persons_in": _("persons in"),
        "persons_out": _("persons out"),
        "visitors": _("visitors"),
        "inside": _("inside"),
        "free": _("room left"),
        "all_day": _("all day"),
        "never": _("never"),
        "last_seen": _("last seen %(time)s"),
        "lanes_ok": _("All lanes online (%(n)s)"),
        "lanes_off": _("%(off)s of %(n)s lanes offline"),
        "no_lanes": _("No lanes set up"),
        "updated": _("Last updated %(time)s"),
        "stale": _("Not updated since %(time)s: the server does not answer. Retrying…"),
        "logged_out": _("Your session has ended: log in again to keep the dashboard running."),
        "unknown_origin": _("origin unknown: %(n)s"),
        "no_origins": _("No origins known yet today."),
        "no_slots": _("No capacity for today (a closed day, or no capacity template)."),
        "estimated": _("estimated: no lane counts exits"),
        "persons_sold": _("for %(n)s visitors, after refunds and voids"),
        "now": _("now"),
    }


@never_cache
@staff_member_required(login_url="/admin/login/")
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    if not has(request.user, PERMISSION):
        return render(request, "reports/dashboard_refused.html", status=403)
    sites = _sites()
    site = _chosen(request, sites)
    data = today(site) if site is not None else None
    refresh = refresh_seconds()
    if (request.GET.get("refresh") or "").isdigit():
        refresh = max(int(request.GET["refresh"]), 5)
    config = {
        "url": reverse("dashboard_data") + (f"?site={site.code}" if site else ""),
        "refresh": refresh,
        "strings": _strings(),
    }
    return render(
        request,
        "reports/dashboard.html",
        {"sites": sites, "site": site, "data": data, "config": config},
    )


def _error(code: str, message: str, status: int) -> JsonResponse:
    return JsonResponse({"error": {"code": code, "message": message, "details": {}}}, status=status)


@never_cache
@require_GET
def dashboard_data(request: HttpRequest) -> JsonResponse:
    """The figures as JSON, for the page to poll. Answers 401 (not a redirect) when the session
    has ended, so that the page can say so."""
    user = request.user
    if not (user.is_authenticated and user.is_active and user.is_staff):
        return _error("not_authenticated", _("Log in first."), 401)
    if not has(user, PERMISSION):
        return _error("permission_denied", _("You do not have the right to do this."), 403)
    code = request.GET.get("site", "")
    qs = Site.objects.filter(is_active=True)
    site = qs.filter(code=code).first() if code else qs.order_by("code").first()
    if site is None:
        return _error("not_found", _("No such site."), 404)
    return JsonResponse(today(site))
