"""Back office: terminals, cashiers' rights, window discounts, shifts and their handovers."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from admit.core.admin import AuditedModelAdmin, ReadOnlyAdmin
from admit.core.money import money_str

from .models import CashierRights, DiscountPreset, Shift, ShiftAction, Terminal, TicketPrint


@admin.register(Terminal)
class TerminalAdmin(AuditedModelAdmin):
    list_display = ("code", "name", "site", "kind", "paper", "is_active")
    list_filter = ("site", "kind", "is_active")
    search_fields = ("code", "name")
    filter_horizontal = ("products",)


@admin.register(CashierRights)
class CashierRightsAdmin(AuditedModelAdmin):
    list_display = ("user", "product_count", "has_pin")
    filter_horizontal = ("products",)
    exclude = ("pin_hash",)
    autocomplete_fields = ("user",)

    @admin.display(description=_("products"))
    def product_count(self, obj: CashierRights) -> str:
        n = obj.products.count()
        return str(n) if n else str(_("all"))

    @admin.display(description=_("approval PIN set"), boolean=True)
    def has_pin(self, obj: CashierRights) -> bool:
        return bool(obj.pin_hash)


@admin.register(DiscountPreset)
class DiscountPresetAdmin(AuditedModelAdmin):
    list_display = ("name", "name_en", "percent", "is_active", "sort")
    list_editable = ("sort",)
    filter_horizontal = ("groups",)


class ShiftActionInline(admin.TabularInline):
    model = ShiftAction
    extra = 0
    can_delete = False
    fields = ("at", "kind", "order", "ticket", "amount", "percent", "approver", "reason")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Shift)
class ShiftAdmin(ReadOnlyAdmin):
    """Shifts are opened and closed at the window and confirmed on the handover page."""

    list_display = (
        "pk",
        "terminal",
        "cashier",
        "opened_at",
        "closed_at",
        "status",
        "float_display",
        "expected_display",
        "counted_display",
        "difference_display",
        "handover_link",
    )
    # A date filter, not a date hierarchy: that one needs MariaDB's time zone tables.
    list_filter = ("status", ("opened_at", admin.DateFieldListFilter), "terminal", "cashier")
    inlines = [ShiftActionInline]
    list_select_related = ("terminal", "cashier")

    @admin.display(description=_("cash float"))
    def float_display(self, obj: Shift) -> str:
        return money_str(obj.opening_float)

    @admin.display(description=_("expected cash"))
    def expected_display(self, obj: Shift) -> str:
        return money_str(obj.expected_cash) if obj.expected_cash is not None else "—"

    @admin.display(description=_("counted cash"))
    def counted_display(self, obj: Shift) -> str:
        return money_str(obj.counted_cash) if obj.counted_cash is not None else "—"

    @admin.display(description=_("difference"))
    def difference_display(self, obj: Shift) -> str:
        if obj.difference is None:
            return "—"
        if obj.difference:
            return format_html('<strong style="color:#b00">{}</strong>', money_str(obj.difference))
        return money_str(obj.difference)

    @admin.display(description=_("handover report"))
    def handover_link(self, obj: Shift) -> str:
        return format_html(
            '<a href="{}">{}</a>', reverse("boxoffice:handover", args=[obj.pk]), _("open")
        )


@admin.register(TicketPrint)
class TicketPrintAdmin(ReadOnlyAdmin):
    list_display = ("at", "ticket", "kind", "terminal", "shift", "actor_label", "reason")
    list_filter = ("kind", "terminal")
    search_fields = ("ticket__serial", "ticket__order__code")
    list_select_related = ("ticket", "terminal", "shift")
