"""Back office for access control: the lane monitor (modes, last contact, last scans), the
occupancy page, scans, offline conflicts and bound ticket media."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.timesince import timesince
from django.utils.translation import get_language, gettext, ngettext
from django.utils.translation import gettext_lazy as _

from admit.catalog.models import Lane, Site
from admit.core.admin import ReadOnlyAdmin
from admit.core.errors import DomainError
from admit.tickets.models import Ticket, TicketMedium

from . import decision, selectors, services
from .decision import Reason
from .models import Conflict, LaneStatus, Scan

STALE_AFTER = dt.timedelta(minutes=2)
REFRESH_SECONDS = 10
RECENT_SCANS = 5


def reason_text(code: str) -> str:
    """A scan reason as the gate shows it, in the language of the page."""
    try:
        return decision.reason_text(Reason(code), get_language() or "zh")
    except ValueError:
        return code


def ago(moment: dt.datetime | None, now: dt.datetime) -> str:
    """'never', '12 s ago', '3 min ago' or '2 hours, 5 minutes ago'."""
    if moment is None:
        return gettext("never")
    seconds = max(int((now - moment).total_seconds()), 0)
    if seconds < 60:
        return gettext("%(n)d s ago") % {"n": seconds}
    if seconds < 3600:
        minutes = seconds // 60
        return ngettext("%(n)d min ago", "%(n)d min ago", minutes) % {"n": minutes}
    return gettext("%(time)s ago") % {"time": timesince(moment, now)}


def site_time(scan: Scan) -> str:
    """When a scan was made, in its site's time zone."""
    return f"{scan.scanned_at.astimezone(zoneinfo.ZoneInfo(scan.site.time_zone)):%Y-%m-%d %H:%M:%S}"


# --- Lane monitor ---------------------------------------------------------------------------


@dataclass
class LaneRow:
    lane: Lane
    status: LaneStatus | None
    contact: str
    stale: bool
    scans: list[dict[str, Any]]

    @property
    def mode_label(self) -> str:
        return str(self.lane.get_mode_display())


@dataclass
class GateGroup:
    name: str
    zone: str
    lanes: list[LaneRow] = field(default_factory=list)


@dataclass
class SiteGroup:
    site: Site
    gates: list[GateGroup] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        out = {mode: 0 for mode in Lane.Mode.values}
        for gate in self.gates:
            for row in gate.lanes:
                out[row.lane.mode] += 1
        return out


def _scan_rows(scans: Iterable[Scan], tz: zoneinfo.ZoneInfo, serials: dict[int, str]) -> list[Any]:
    return [
        {
            "at": s.scanned_at.astimezone(tz),
            "allowed": s.result == Scan.Result.ALLOW,
            "result": s.get_result_display(),
            "reason": reason_text(s.reason),
            "persons": s.admitted if s.result == Scan.Result.ALLOW else s.persons,
            "ticket": serials.get(s.ticket_id or 0, s.presented),
            "offline": s.offline,
        }
        for s in scans
    ]


def lane_board(site: Site | None = None) -> list[SiteGroup]:
    """Every active lane, grouped by site and gate, with its status and last scans."""
    lanes = (
        Lane.objects.filter(is_active=True, gate__is_active=True, gate__site__is_active=True)
        .select_related("gate__site", "gate__zone")
        .order_by("gate__site__code", "gate__code", "code")
    )
    if site is not None:
        lanes = lanes.filter(gate__site=site)
    lanes_list = list(lanes)
    statuses = {s.lane_id: s for s in LaneStatus.objects.filter(lane__in=lanes_list)}
    recent = selectors.recent_scans([ln.pk for ln in lanes_list], per_lane=RECENT_SCANS)
    ticket_ids = {s.ticket_id for scans in recent.values() for s in scans if s.ticket_id}
    serials = dict(Ticket.objects.filter(pk__in=ticket_ids).values_list("pk", "serial"))
    now = timezone.now()
    sites: dict[int, SiteGroup] = {}
    gates: dict[int, GateGroup] = {}
    for lane in lanes_list:
        gate = lane.gate
        group = sites.setdefault(gate.site_id, SiteGroup(site=gate.site))
        if gate.pk not in gates:
            gates[gate.pk] = GateGroup(name=str(gate), zone=str(gate.zone) if gate.zone else "")
            group.gates.append(gates[gate.pk])
        status = statuses.get(lane.pk)
        contact = status.last_contact_at if status else None
        gates[gate.pk].lanes.append(
            LaneRow(
                lane=lane,
                status=status,
                contact=ago(contact, now),
                stale=contact is None or now - contact > STALE_AFTER,
                scans=_scan_rows(
                    recent.get(lane.pk, []), zoneinfo.ZoneInfo(gate.site.time_zone), serials
                ),
            )
        )
    return list(sites.values())


def _chosen_site(request: HttpRequest, sites: list[Site]) -> Site | None:
    wanted = request.GET.get("site") or request.POST.get("site") or ""
    return next((s for s in sites if str(s.pk) == wanted), None)


@admin.register(LaneStatus)
class LaneStatusAdmin(ReadOnlyAdmin):
    """The lane monitor stands in for the changelist: every lane's mode, contact and scans."""

    def get_urls(self) -> list[Any]:
        return [
            path(
                "mode/",
                self.admin_site.admin_view(self.mode_view),
                name="access_lanestatus_mode",
            ),
            path(
                "occupancy/",
                self.admin_site.admin_view(self.occupancy_view),
                name="access_lanestatus_occupancy",
            ),
            *super().get_urls(),
        ]

    def changelist_view(self, request: HttpRequest, extra_context: Any = None) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        sites = list(Site.objects.filter(is_active=True).order_by("code"))
        site = _chosen_site(request, sites)
        board = lane_board(site)
        context = {
            **self.admin_site.each_context(request),
            "title": _("Lane monitor"),
            "opts": self.model._meta,
            "sites": sites,
            "site": site,
            "board": board,
            "modes": dict(Lane.Mode.choices),
            "can_set_mode": request.user.has_perm("access.set_lane_mode"),
            "can_add_lane": request.user.has_perm("catalog.add_lane"),
            "open_conflicts": (
                Conflict.objects.filter(status=Conflict.Status.OPEN).count()
                if request.user.has_perm("access.view_conflict")
                else None
            ),
            "refresh": REFRESH_SECONDS,
            "stale_minutes": int(STALE_AFTER.total_seconds() // 60),
            "now": timezone.now(),
        }
        return TemplateResponse(request, "admin/access/lanestatus/monitor.html", context)

    def mode_view(self, request: HttpRequest) -> HttpResponse:
        """Switch one lane's mode (POST only); the lane obeys at its next scan."""
        if request.method != "POST":
            return HttpResponseRedirect(reverse("admin:access_lanestatus_changelist"))
        if not request.user.has_perm("access.set_lane_mode"):
            raise PermissionDenied
        code = request.POST.get("lane", "")
        mode = request.POST.get("mode", "")
        try:
            lane = services.lane_mode_set(lane_code=code, mode=mode, actor=request.user)
        except DomainError as exc:
            self.message_user(request, str(exc.message), level=messages.ERROR)
        else:
            level = messages.SUCCESS if lane.mode == Lane.Mode.NORMAL else messages.WARNING
            self.message_user(
                request,
                gettext("Lane %(lane)s is now: %(mode)s.")
                % {"lane": lane.code, "mode": lane.get_mode_display()},
                level=level,
            )
        url = reverse("admin:access_lanestatus_changelist")
        site = request.POST.get("site", "")
        return HttpResponseRedirect(f"{url}?site={site}" if site.isdigit() else url)

    def occupancy_view(self, request: HttpRequest) -> HttpResponse:
        """People inside each zone of a site now, with entries and exits today."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        sites = list(Site.objects.filter(is_active=True).order_by("code"))
        site = _chosen_site(request, sites) or (sites[0] if sites else None)
        zones = selectors.occupancy(site=site) if site else []
        biggest = max([z.inside for z in zones] + [z.entered for z in zones] + [1])
        rows = [
            {
                "zone": z,
                "inside_pct": round(100 * z.inside / biggest, 1),
                "entered_pct": round(100 * z.entered / biggest, 1),
            }
            for z in zones
        ]
        context = {
            **self.admin_site.each_context(request),
            "title": _("Occupancy"),
            "opts": self.model._meta,
            "sites": sites,
            "site": site,
            "rows": rows,
            **selectors.occupancy_totals(zones),
            "estimated": any(z.estimated for z in zones),
            "scanned": any(z.entered or z.exited for z in zones),
            "refresh": REFRESH_SECONDS,
            "local_now": (
                timezone.now().astimezone(zoneinfo.ZoneInfo(site.time_zone)) if site else None
            ),
        }
        return TemplateResponse(request, "admin/access/lanestatus/occupancy.html", context)


# --- Scans ----------------------------------------------------------------------------------


class ReasonFilter(admin.SimpleListFilter):
    title = _("reason")
    parameter_name = "reason"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(r.value, f"{reason_text(r.value)} ({r.value})") for r in Reason]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        return queryset.filter(reason=value) if value else queryset


class SiteFilter(admin.RelatedFieldListFilter):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.title = gettext("site")


@admin.register(Scan)
class ScanAdmin(ReadOnlyAdmin):
    list_display = (
        "scanned_local",
        "lane",
        "ticket_serial",
        "direction",
        "persons",
        "admitted",
        "result_badge",
        "reason_display",
        "offline",
        "medium",
    )
    list_filter = (
        ("site", SiteFilter),
        "lane",
        "result",
        ReasonFilter,
        "offline",
        # A date filter, not a date hierarchy: that one needs MariaDB's time zone tables.
        ("scanned_at", admin.DateFieldListFilter),
    )
    search_fields = ("=ticket__serial", "=scan_id")
    search_help_text = _("Ticket number or the device's scan id")
    list_select_related = ("lane", "ticket", "site")
    list_per_page = 50
    show_full_result_count = False
    fields = (
        "scanned_at",
        "received_at",
        "site",
        "lane",
        "device",
        "operator",
        "ticket",
        "medium",
        "presented",
        "direction",
        "persons",
        "admitted",
        "consumed",
        "result",
        "reason_display",
        "remaining",
        "offline",
        "scan_id",
    )
    readonly_fields = fields

    @admin.display(description=_("scanned"), ordering="scanned_at")
    def scanned_local(self, obj: Scan) -> str:
        return site_time(obj)

    @admin.display(description=_("ticket number"), ordering="ticket__serial")
    def ticket_serial(self, obj: Scan) -> str:
        return obj.ticket.serial if obj.ticket else obj.presented or "—"

    @admin.display(description=_("result"), ordering="result")
    def result_badge(self, obj: Scan) -> str:
        css = "allow" if obj.result == Scan.Result.ALLOW else "deny"
        return format_html(
            '<span class="scan-result scan-{}">{}</span>', css, obj.get_result_display()
        )

    @admin.display(description=_("reason"), ordering="reason")
    def reason_display(self, obj: Scan) -> str:
        return reason_text(obj.reason)


# --- Offline conflicts ----------------------------------------------------------------------


@admin.register(Conflict)
class ConflictAdmin(ReadOnlyAdmin):
    list_display = (
        "pk",
        "status_badge",
        "ticket_serial",
        "lane",
        "scanned_local",
        "reason_display",
        "created_at",
        "resolved_by",
        "note",
        "resolve_link",
    )
    list_display_links = ("pk",)
    list_filter = ("status", "scan__site", "scan__lane")
    search_fields = ("=ticket__serial",)
    search_help_text = _("Ticket number")
    list_select_related = ("scan__lane", "scan__site", "ticket", "resolved_by")
    actions = ["resolve_selected"]
    fields = (
        "status",
        "ticket",
        "scan",
        "lane",
        "scanned_local",
        "reason_display",
        "created_at",
        "resolved_at",
        "resolved_by",
        "note",
    )
    readonly_fields = fields

    def get_urls(self) -> list[Any]:
        return [
            path(
                "<int:conflict_id>/resolve/",
                self.admin_site.admin_view(self.resolve_view),
                name="access_conflict_resolve",
            ),
            *super().get_urls(),
        ]

    def has_resolve_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("access.resolve_conflict")

    @admin.display(description=_("status"), ordering="status")
    def status_badge(self, obj: Conflict) -> str:
        return format_html(
            '<span class="conflict-{}">{}</span>', obj.status, obj.get_status_display()
        )

    @admin.display(description=_("ticket number"), ordering="ticket__serial")
    def ticket_serial(self, obj: Conflict) -> str:
        return obj.ticket.serial if obj.ticket else obj.scan.presented or "—"

    @admin.display(description=_("lane"), ordering="scan__lane__code")
    def lane(self, obj: Conflict) -> str:
        return str(obj.scan.lane)

    @admin.display(description=_("scanned"), ordering="scan__scanned_at")
    def scanned_local(self, obj: Conflict) -> str:
        return site_time(obj.scan)

    @admin.display(description=_("server's reason"), ordering="reason")
    def reason_display(self, obj: Conflict) -> str:
        return reason_text(obj.reason)

    @admin.display(description="")
    def resolve_link(self, obj: Conflict) -> str:
        if obj.status != Conflict.Status.OPEN:
            return ""
        return format_html(
            '<a class="button resolve-conflict" href="{}">{}</a>',
            reverse("admin:access_conflict_resolve", args=[obj.pk]),
            gettext("Resolve"),
        )

    def get_list_display(self, request: HttpRequest) -> Any:
        shown = super().get_list_display(request)
        if not self.has_resolve_permission(request):
            return [f for f in shown if f != "resolve_link"]
        return shown

    def _resolve(self, request: HttpRequest, conflicts: Iterable[Conflict], note: str) -> int:
        done = 0
        for conflict in conflicts:
            services.conflict_resolve(conflict_id=conflict.pk, note=note, actor=request.user)
            done += 1
        return done

    def _render_resolve(
        self, request: HttpRequest, conflicts: list[Conflict], action: bool, error: str = ""
    ) -> HttpResponse:
        context = {
            **self.admin_site.each_context(request),
            "title": _("Resolve offline conflicts"),
            "opts": self.model._meta,
            "conflicts": conflicts,
            "rows": [
                {
                    "pk": c.pk,
                    "ticket": self.ticket_serial(c),
                    "lane": self.lane(c),
                    "scanned": self.scanned_local(c),
                    "reason": self.reason_display(c),
                }
                for c in conflicts
            ],
            "action": action,
            "action_checkbox_name": ACTION_CHECKBOX_NAME,
            "error": error,
            "note": request.POST.get("note", ""),
        }
        return TemplateResponse(request, "admin/access/conflict/resolve.html", context)

    @admin.action(description=_("Resolve the selected conflicts…"), permissions=["resolve"])
    def resolve_selected(
        self, request: HttpRequest, queryset: QuerySet[Conflict]
    ) -> HttpResponse | None:
        conflicts = list(queryset.filter(status=Conflict.Status.OPEN))
        if not conflicts:
            self.message_user(request, gettext("The selected conflicts are already resolved."))
            return None
        note = request.POST.get("note", "").strip()
        if "apply" in request.POST:
            if not note:
                return self._render_resolve(
                    request, conflicts, True, gettext("Say what was done or found.")
                )
            done = self._resolve(request, conflicts, note)
            self.message_user(
                request,
                ngettext("%(n)d conflict resolved.", "%(n)d conflicts resolved.", done)
                % {"n": done},
                level=messages.SUCCESS,
            )
            return None
        return self._render_resolve(request, conflicts, True)

    def resolve_view(self, request: HttpRequest, conflict_id: int) -> HttpResponse:
        if not self.has_resolve_permission(request):
            raise PermissionDenied
        conflict = get_object_or_404(
            Conflict.objects.select_related("scan__lane", "scan__site", "ticket"), pk=conflict_id
        )
        changelist = reverse("admin:access_conflict_changelist")
        if conflict.status != Conflict.Status.OPEN:
            self.message_user(request, gettext("This conflict is already resolved."))
            return HttpResponseRedirect(changelist)
        if request.method == "POST":
            note = request.POST.get("note", "").strip()
            if not note:
                return self._render_resolve(
                    request, [conflict], False, gettext("Say what was done or found.")
                )
            self._resolve(request, [conflict], note)
            self.message_user(
                request,
                gettext("Conflict #%(id)s resolved.") % {"id": conflict.pk},
                level=messages.SUCCESS,
            )
            return HttpResponseRedirect(changelist)
        return self._render_resolve(request, [conflict], False)


# --- Ticket media ---------------------------------------------------------------------------


@admin.register(TicketMedium)
class TicketMediumAdmin(ReadOnlyAdmin):
    """Cards, ID cards and face tokens bound to tickets, shown masked; bound and unbound
    through the API (``/tickets/{serial}/media``), never edited here."""

    list_display = ("ticket_serial", "kind", "masked_value", "bound_at", "unbound_at", "bound")
    list_filter = ("kind", ("unbound_at", admin.EmptyFieldListFilter))
    search_fields = ("=ticket__serial",)
    search_help_text = _("Ticket number")
    list_select_related = ("ticket",)
    fields = ("ticket", "kind", "masked_value", "bound_at", "unbound_at")
    readonly_fields = fields

    @admin.display(description=_("ticket number"), ordering="ticket__serial")
    def ticket_serial(self, obj: TicketMedium) -> str:
        return obj.ticket.serial

    @admin.display(description=_("value"))
    def masked_value(self, obj: TicketMedium) -> str:
        return obj.masked

    @admin.display(description=_("bound"), boolean=True)
    def bound(self, obj: TicketMedium) -> bool:
        return obj.active_value is not None
