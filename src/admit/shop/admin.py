"""The shop's settings, notices and rush days in the back office (every save audited)."""

from __future__ import annotations

from django.contrib import admin

from admit.core.admin import AuditedModelAdmin

from .models import Notice, RushDay, ShopSettings


@admin.register(ShopSettings)
class ShopSettingsAdmin(AuditedModelAdmin):
    list_display = [
        "site",
        "phone_limit_per_day",
        "queue_always",
        "queue_rate_per_minute",
        "queue_admit_minutes",
    ]


@admin.register(Notice)
class NoticeAdmin(AuditedModelAdmin):
    list_display = ["__str__", "site", "starts_on", "ends_on", "is_active", "sort_order"]
    list_filter = ["site", "is_active"]


@admin.register(RushDay)
class RushDayAdmin(AuditedModelAdmin):
    list_display = ["date", "site", "note"]
    list_filter = ["site"]
    date_hierarchy = "date"
