from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from admit.core.admin import AuditedAdminMixin, AuditedModelAdmin

from . import services
from .models import (
    CalendarDay,
    Channel,
    ComboComponent,
    Gate,
    Lane,
    Medium,
    Price,
    Product,
    Site,
    VisitorCategory,
    Zone,
)
from .pricing import periods_overlap


class CatalogAdmin(AuditedModelAdmin):
    save_services = services.SAVE_SERVICES


class CatalogInline(AuditedAdminMixin, admin.TabularInline):
    save_services = services.SAVE_SERVICES
    extra = 0


@admin.register(Site)
class SiteAdmin(CatalogAdmin):
    list_display = ("code", "name", "time_zone", "opens_at", "closes_at", "is_active")
    search_fields = ("code", "name", "name_en")
    list_filter = ("is_active",)
    fieldsets = (
        (None, {"fields": ("code", "name", "name_en", "is_active")}),
        (
            _("Opening hours"),
            {"fields": ("time_zone", "opens_at", "last_entry_at", "closes_at", "weekend_days")},
        ),
        (_("Contact"), {"fields": ("address", "phone", "notice")}),
    )


@admin.register(CalendarDay)
class CalendarDayAdmin(CatalogAdmin):
    list_display = ("date", "site", "day_type", "closed", "opens_at", "closes_at", "note")
    list_filter = ("site", "day_type", "closed")
    date_hierarchy = "date"
    search_fields = ("note",)


@admin.register(Zone)
class ZoneAdmin(CatalogAdmin):
    list_display = ("code", "name", "site", "parent", "is_active")
    list_filter = ("site", "is_active")
    search_fields = ("code", "name", "name_en")
    autocomplete_fields = ("parent",)


class LaneInline(CatalogInline):
    model = Lane
    fields = ("code", "name", "name_en", "direction", "device_kind", "mode", "is_active")


@admin.register(Gate)
class GateAdmin(CatalogAdmin):
    list_display = ("code", "name", "site", "zone", "lane_count", "is_active")
    list_filter = ("site", "is_active")
    search_fields = ("code", "name")
    inlines = [LaneInline]

    @admin.display(description=_("lanes"))
    def lane_count(self, obj: Gate) -> int:
        return obj.lanes.count()


@admin.register(Lane)
class LaneAdmin(CatalogAdmin):
    list_display = ("code", "name", "gate", "mode", "is_active", "summary")
    list_filter = ("gate__site", "gate", "direction", "device_kind", "mode")
    list_editable = ("mode",)
    search_fields = ("code", "name", "name_en", "gate__name")
    filter_horizontal = ("admits_products", "admits_categories")
    readonly_fields = ("summary",)
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "gate",
                    "code",
                    "name",
                    "name_en",
                    "direction",
                    "device_kind",
                    "mode",
                    "is_active",
                )
            },
        ),
        (
            _("Who may pass (放行规则)"),
            {"fields": ("admits_products", "admits_categories", "anti_passback")},
        ),
        (
            _("When (放行时间)"),
            {"fields": ("enforce_hours", "early_minutes", "late_minutes")},
        ),
        (_("In a sentence"), {"fields": ("summary",)}),
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[Lane]:
        return (
            super()
            .get_queryset(request)
            .select_related("gate")
            .prefetch_related("admits_products", "admits_categories")
        )

    @admin.display(description=_("rules"))
    def summary(self, obj: Lane) -> str:
        return obj.rules_summary() if obj.pk else "—"


@admin.register(VisitorCategory)
class VisitorCategoryAdmin(CatalogAdmin):
    list_display = ("code", "name", "proof_required", "proof", "min_age", "max_age", "sort_order")
    search_fields = ("code", "name", "name_en")


@admin.register(Channel)
class ChannelAdmin(CatalogAdmin):
    list_display = ("code", "name", "kind", "is_active")
    list_filter = ("kind", "is_active")
    search_fields = ("code", "name")


class PriceInlineFormSet(forms.BaseInlineFormSet):
    def clean(self) -> None:
        super().clean()
        seen: list[tuple[Any, ...]] = []
        for form in self.forms:
            data = getattr(form, "cleaned_data", None)
            if not data or data.get("DELETE") or not data.get("valid_from"):
                continue
            key = (data.get("channel"), data.get("day_type") or "")
            for other_key, start, end in seen:
                if other_key == key and periods_overlap(
                    data["valid_from"], data.get("valid_until"), start, end
                ):
                    raise ValidationError(
                        _("Two prices of the same channel and day type overlap in time.")
                    )
            seen.append((key, data["valid_from"], data.get("valid_until")))


class PriceInline(CatalogInline):
    model = Price
    formset = PriceInlineFormSet
    fields = ("channel", "day_type", "amount", "valid_from", "valid_until")
    extra = 1


class ComboComponentInline(CatalogInline):
    model = ComboComponent
    fields = ("name", "name_en", "zone", "entries", "sort_order")


class ProductForm(forms.ModelForm):
    allowed_media = forms.MultipleChoiceField(
        label=_("allowed media"),
        choices=Medium.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )

    class Meta:
        model = Product
        exclude: list[str] = []


@admin.register(Product)
class ProductAdmin(CatalogAdmin):
    form = ProductForm
    list_display = (
        "code",
        "name",
        "site",
        "kind",
        "category",
        "persons",
        "validity",
        "real_name_required",
        "slot_required",
        "is_active",
    )
    list_filter = ("site", "kind", "category", "is_active", "channels", "real_name_required")
    search_fields = ("code", "name", "name_en")
    filter_horizontal = ("channels", "zones")
    inlines = [PriceInline, ComboComponentInline]
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "site",
                    "code",
                    "name",
                    "name_en",
                    "kind",
                    "category",
                    "is_active",
                    "sort_order",
                )
            },
        ),
        (_("Who and where"), {"fields": ("persons", "max_persons", "zones")}),
        (
            _("Validity and entries"),
            {
                "fields": (
                    "validity",
                    "validity_days",
                    "validity_months",
                    "valid_from",
                    "valid_until",
                    "entries",
                    "entries_per_day",
                    "reentry",
                )
            },
        ),
        (
            _("Sale"),
            {
                "fields": (
                    "channels",
                    "real_name_required",
                    "slot_required",
                    "allowed_media",
                    "limit_per_id_per_day",
                )
            },
        ),
        (
            _("Refunds and date changes"),
            {
                "fields": (
                    "refundable",
                    "refund_fee_percent",
                    "refund_deadline_hours",
                    "reschedule_allowed",
                    "reschedule_deadline_hours",
                )
            },
        ),
        (_("Texts"), {"fields": ("description", "terms"), "classes": ("collapse",)}),
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[Product]:
        return super().get_queryset(request).select_related("site", "category")


@admin.register(Price)
class PriceAdmin(CatalogAdmin):
    list_display = ("product", "channel", "day_type", "amount", "valid_from", "valid_until")
    list_filter = ("product__site", "channel", "day_type")
    search_fields = ("product__name", "product__code")
    autocomplete_fields = ("product",)
