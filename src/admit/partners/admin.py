"""Back office: partners, their bookings, and the outbox with its dead letters."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from admit.core.admin import AuditedModelAdmin, ReadOnlyAdmin

from .models import OutboxMessage, Partner, PartnerBooking, PartnerWebhook
from .services import outbox_retry, partner_key_issue, partner_save
from .services.webhooks import webhook_delete


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


def _messages(status: str) -> Coalesce:
    """How many outbox messages to a webhook's URL, of its partner, have this status."""
    counted = (
        OutboxMessage.objects.filter(
            partner_id=OuterRef("partner_id"), url=OuterRef("url"), status=status
        )
        .order_by()
        .values("partner_id")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


@admin.register(PartnerWebhook)
class PartnerWebhookAdmin(ReadOnlyAdmin):
    """The webhooks OCTO resellers registered themselves (``POST /octo/webhooks``), with how
    their deliveries went; staff remove one a partner has abandoned (audited)."""

    list_display = (
        "partner",
        "event",
        "url",
        "retry_on_error",
        "created_at",
        "delivered",
        "pending",
        "dead",
    )
    list_filter = ("partner", "event")
    search_fields = ("url", "partner__code", "partner__name")
    list_select_related = ("partner",)
    actions = ["remove"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[PartnerWebhook]:
        return (
            super()
            .get_queryset(request)
            .annotate(
                n_delivered=_messages(OutboxMessage.Status.DELIVERED),
                n_pending=_messages(OutboxMessage.Status.PENDING),
                n_dead=_messages(OutboxMessage.Status.DEAD),
            )
        )

    def _count(self, obj: Any, status: str, n: int) -> Any:
        if not n:
            return 0
        url = reverse("admin:partners_outboxmessage_changelist")
        query = urlencode(
            {"q": obj.url, "status__exact": status, "partner__id__exact": obj.partner_id}
        )
        return format_html('<a href="{}?{}">{}</a>', url, query, n)

    @admin.display(description=gettext_lazy("delivered"), ordering="n_delivered")
    def delivered(self, obj: Any) -> Any:
        return self._count(obj, OutboxMessage.Status.DELIVERED, obj.n_delivered)

    @admin.display(description=gettext_lazy("to deliver"), ordering="n_pending")
    def pending(self, obj: Any) -> Any:
        return self._count(obj, OutboxMessage.Status.PENDING, obj.n_pending)

    @admin.display(description=gettext_lazy("dead letters"), ordering="n_dead")
    def dead(self, obj: Any) -> Any:
        return self._count(obj, OutboxMessage.Status.DEAD, obj.n_dead)

    @admin.action(
        description=gettext_lazy("Remove the selected webhooks (no new events are sent)"),
        permissions=["remove"],
    )
    def remove(self, request: HttpRequest, queryset: QuerySet[PartnerWebhook]) -> None:
        removed = 0
        for hook in queryset.select_related("partner"):
            webhook_delete(partner=hook.partner, webhook_id=str(hook.uuid), actor=request.user)
            removed += 1
        self.message_user(
            request, _("%(count)d webhook(s) removed.") % {"count": removed}, messages.SUCCESS
        )

    def has_remove_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(
            getattr(request.user, "has_perm", lambda _p: False)("partners.delete_partnerwebhook")
        )


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
