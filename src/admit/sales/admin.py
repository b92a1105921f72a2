from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from admit.core.admin import AuditedModelAdmin, ReadOnlyAdmin
from admit.customers.selectors import account_id_of
from admit.tickets.models import Ticket

from .models import Coupon, Order, OrderEvent, Payment, Refund
from .services.common import balance, due


@admin.register(Order)
class OrderAdmin(ReadOnlyAdmin):
    list_display = (
        "code",
        "placed_at",
        "status",
        "site",
        "channel",
        "total",
        "contact_phone",
        "account",
        "created_by",
    )
    list_filter = (
        "status",
        "channel",
        "site",
        "account",
        ("lines__date", admin.DateFieldListFilter),
        ("placed_at", admin.DateFieldListFilter),
    )
    search_fields = (
        "=code",
        "contact_phone",
        "contact_name",
        "=lines__visitors__id_number",
        "=tickets__serial",
    )
    list_select_related = ("site", "channel", "created_by", "account")
    change_form_template = "admin/sales/order/change_form.html"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Order]:
        # An agency's or company's users see their own account's orders only.
        qs = super().get_queryset(request)
        account_id = account_id_of(request.user)
        return qs if account_id is None else qs.filter(account_id=account_id)

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Order], search_term: str
    ) -> tuple[QuerySet[Order], bool]:
        # Codes, ticket numbers and ID numbers are stored in upper case; names match any case.
        qs, _dupes = super().get_search_results(request, queryset, search_term.strip().upper())
        return qs.distinct(), False

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> Any:
        order = (
            self.get_queryset(request)
            .filter(pk=object_id)
            .select_related("site", "channel", "account")
            .first()
        )
        extra = dict(extra_context or {})
        if order is not None:
            timeline = [
                {
                    "at": e.at,
                    "kind": e.kind,
                    "actor": e.actor_label,
                    "ip": e.source_ip,
                    "data": e.data,
                }
                for e in OrderEvent.objects.filter(order=order)
            ]
            extra.update(
                {
                    "order": order,
                    "timeline": timeline,
                    "lines": order.lines.select_related("product", "slot").prefetch_related(
                        "visitors"
                    ),
                    "tickets": Ticket.objects.filter(order=order).select_related("product"),
                    "payments": Payment.objects.filter(order=order),
                    "refunds": Refund.objects.filter(order=order),
                    "balance": balance(order),
                    "due": due(order),
                }
            )
        return super().change_view(request, object_id, form_url, extra)


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin):
    list_display = (
        "at",
        "order",
        "method",
        "amount",
        "tendered",
        "change",
        "provider",
        "provider_txn",
        "actor_label",
    )
    list_filter = ("method", "provider", ("at", admin.DateFieldListFilter))
    search_fields = ("=order__code", "provider_txn", "reference")


@admin.register(Refund)
class RefundAdmin(ReadOnlyAdmin):
    list_display = ("at", "order", "method", "amount", "fee", "reason", "actor_label")
    list_filter = ("method", ("at", admin.DateFieldListFilter))
    search_fields = ("=order__code",)


@admin.register(Coupon)
class CouponAdmin(AuditedModelAdmin):
    list_display = (
        "code",
        "name",
        "percent",
        "amount",
        "min_spend",
        "valid_from",
        "valid_until",
        "used",
        "max_uses",
        "is_active",
    )
    list_filter = ("is_active",)
    search_fields = ("code", "name")
    readonly_fields = ("used",)
    filter_horizontal = ("products",)


@admin.register(Ticket)
class TicketAdmin(ReadOnlyAdmin):
    list_display = (
        "serial",
        "order",
        "product",
        "status",
        "persons",
        "price",
        "valid_from",
        "valid_until",
        "holder_name",
        "entries_used",
    )
    list_filter = ("status", "product", ("valid_from", admin.DateFieldListFilter))
    search_fields = ("=serial", "=order__code", "=holder_id_number", "holder_name")
    list_select_related = ("order", "product")
