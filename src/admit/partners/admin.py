"""Back office: partners, their bookings, and the outbox with its dead letters."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from admit.core.admin import AuditedModelAdmin, ReadOnlyAdmin

from .models import OutboxMessage, Partner, PartnerBooking
from .services import outbox_retry, partner_key_issue, partner_save


@admin.register(Partner)
class PartnerAdmin(AuditedModelAdmin):
    save_services = {Partner: partner_save}
    list_display = (
        "code",
        "name",
        "kind",
        "connector",
        "channel",
        "account",
        "key_prefix",
        "is_active",
    )
    list_filter = ("kind", "is_active")
    search_fields = ("code", "name")
    readonly_fields = ("key_prefix",)
    actions = ["issue_key"]

    @admin.action(description=gettext_lazy("Issue a new key (the old one stops working)"))
    def issue_key(self, request: HttpRequest, queryset: QuerySet[Partner]) -> None:
        for partner in queryset:
            secret = partner_key_issue(partner=partner, actor=request.user)
            self.message_user(
                request,
                _("New key of %(partner)s (shown once): %(key)s")
                % {"partner": partner, "key": secret},
                messages.WARNING,
            )


@admin.register(PartnerBooking)
class PartnerBookingAdmin(ReadOnlyAdmin):
    list_display = (
        "reference",
        "partner",
        "order",
        "reseller_reference",
        "created_at",
        "cancelled_at",
    )
    list_filter = ("partner",)
    search_fields = ("reference", "reseller_reference", "order__code")
    list_select_related = ("partner", "order")


@admin.register(OutboxMessage)
class OutboxMessageAdmin(ReadOnlyAdmin):
    list_display = ("id", "topic", "partner", "status", "attempts", "next_attempt_at", "last_error")
    list_filter = ("status", "topic", "partner")
    search_fields = ("topic", "body", "url")
    list_select_related = ("partner",)
    actions = ["retry"]

    @admin.action(
        description=gettext_lazy("Retry the selected dead letters"),
        permissions=["retry"],
    )
    def retry(self, request: HttpRequest, queryset: QuerySet[OutboxMessage]) -> None:
        done = sum(outbox_retry(message=m, actor=request.user) for m in queryset)
        self.message_user(
            request, _("%(count)d message(s) queued again.") % {"count": done}, messages.SUCCESS
        )

    def has_retry_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(
            getattr(request.user, "has_perm", lambda _p: False)("partners.retry_outboxmessage")
        )
