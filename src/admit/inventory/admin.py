from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.translation import gettext_lazy as _

from admit.catalog.models import Site
from admit.core.admin import AuditedAdminMixin, AuditedModelAdmin

from . import services
from .models import Allocation, CapacityTemplate, Pool, TemplateAllocation, TemplateSlot


class TemplateSlotInline(AuditedAdminMixin, admin.TabularInline):
    model = TemplateSlot
    extra = 1


class TemplateAllocationInline(AuditedAdminMixin, admin.TabularInline):
    model = TemplateAllocation
    extra = 0


@admin.register(CapacityTemplate)
class CapacityTemplateAdmin(AuditedModelAdmin):
    save_services = {CapacityTemplate: services.template_save}
    list_display = (
        "name",
        "site",
        "zone",
        "weekdays",
        "valid_from",
        "valid_until",
        "priority",
        "is_active",
    )
    list_filter = ("site", "zone", "is_active")
    inlines = [TemplateSlotInline, TemplateAllocationInline]


class AllocationInline(admin.TabularInline):
    model = Allocation
    extra = 0
    fields = ("channel", "quota", "held", "sold", "release_at", "released")
    readonly_fields = ("channel", "quota", "held", "sold", "release_at", "released")
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


def fill_level(pool: Pool) -> str:
    if pool.closed:
        return "closed"
    used = pool.held + pool.sold
    share = used / pool.capacity if pool.capacity else 1
    return "full" if share >= 0.9 else "busy" if share >= 0.6 else "free"


@admin.register(Pool)
class PoolAdmin(AuditedModelAdmin):
    save_services = {Pool: services.pool_save}
    list_display = (
        "date",
        "zone",
        "start",
        "end",
        "capacity",
        "sold",
        "held",
        "reserved",
        "free_places",
        "closed",
    )
    list_filter = ("site", "zone", "closed")
    date_hierarchy = "date"
    fields = (
        "site",
        "zone",
        "date",
        "start",
        "end",
        "capacity",
        "closed",
        "returns_on_refund",
        "held",
        "sold",
        "reserved",
    )
    readonly_fields = ("held", "sold", "reserved")
    inlines = [AllocationInline]
    change_list_template = "admin/inventory/pool/change_list.html"

    @admin.display(description=_("free"))
    def free_places(self, obj: Pool) -> int:
        return obj.free

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is not None:
            return (*self.readonly_fields, "site", "zone", "date", "start", "end")
        return self.readonly_fields

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_urls(self) -> list[Any]:
        return [
            path(
                "calendar/",
                self.admin_site.admin_view(self.calendar_view),
                name="inventory_pool_calendar",
            ),
            *super().get_urls(),
        ]

    def calendar_view(self, request: HttpRequest) -> HttpResponse:
        """Sold, held and free per slot as a colour-coded grid: days down, slots across."""
        if not self.has_view_permission(request):
            from django.core.exceptions import PermissionDenied

            raise PermissionDenied
        sites = list(Site.objects.filter(is_active=True))
        site = next(
            (s for s in sites if str(s.pk) == request.GET.get("site")), sites[0] if sites else None
        )
        try:
            start = dt.date.fromisoformat(request.GET.get("start", ""))
        except ValueError:
            start = dt.date.today()
        days = max(1, min(int(request.GET.get("days", "14") or 14), 62))
        if site is not None and request.GET.get("generate"):
            services.pools_generate(site=site, start=start, days=days)
        dates = [start + dt.timedelta(days=n) for n in range(days)]
        pools = (
            list(
                Pool.objects.filter(site=site, date__in=dates)
                .select_related("zone")
                .order_by("zone__code", "slot_key")
            )
            if site
            else []
        )
        columns = sorted(
            {(p.zone.code, p.zone.display_name, p.slot_key, p.start, p.end) for p in pools},
            key=lambda c: (c[0], c[2]),
        )
        cells: dict[tuple[dt.date, str, str], Pool] = {
            (p.date, p.zone.code, p.slot_key): p for p in pools
        }
        rows = []
        for day in dates:
            row = []
            for zone_code, _name, key, _s, _e in columns:
                pool = cells.get((day, zone_code, key))
                row.append({"pool": pool, "level": fill_level(pool) if pool else "none"})
            rows.append({"date": day, "cells": row})
        context = {
            **self.admin_site.each_context(request),
            "title": _("Capacity calendar"),
            "opts": self.model._meta,
            "sites": sites,
            "site": site,
            "start": start,
            "days": days,
            "columns": columns,
            "rows": rows,
            "previous": start - dt.timedelta(days=days),
            "next": start + dt.timedelta(days=days),
        }
        return TemplateResponse(request, "admin/inventory/pool/calendar.html", context)
