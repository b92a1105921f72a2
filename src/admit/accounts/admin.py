from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from admit.core.admin import AuditedAdminMixin, AuditedModelAdmin
from admit.core.services import model_save

from . import services
from .models import ApiToken, Device, User
from .roles import ROLES


@admin.register(User)
class UserAdmin(AuditedAdminMixin, DjangoUserAdmin):
    save_services = services.SAVE_SERVICES
    list_display = ("username", "display_name", "roles", "is_active", "locked_until", "last_login")
    list_filter = ("is_active", "is_superuser", "groups")
    search_fields = ("username", "display_name", "phone", "email")
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (_("Person"), {"fields": ("display_name", "first_name", "last_name", "email", "phone")}),
        (_("Rights"), {"fields": ("is_active", "is_staff", "is_superuser", "groups")}),
        (_("Login"), {"fields": ("last_login", "date_joined", "failed_logins", "locked_until")}),
    )
    readonly_fields = ("last_login", "date_joined", "failed_logins")
    actions = ["unlock"]

    @admin.display(description=_("roles"))
    def roles(self, obj: User) -> str:
        return ", ".join(
            str(ROLES[g.name].label) if g.name in ROLES else g.name for g in obj.groups.all()
        )

    def get_queryset(self, request: HttpRequest) -> QuerySet[User]:
        return super().get_queryset(request).prefetch_related("groups")

    @admin.action(description=_("Unlock the selected accounts"))
    def unlock(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        for user in queryset:
            user.locked_until = None
            user.failed_logins = 0
            model_save(instance=user, actor=request.user, verb="user_unlock", validate=False)
        self.message_user(request, _("Unlocked."), messages.SUCCESS)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = (
        "prefix",
        "name",
        "user",
        "device",
        "created_at",
        "expires_at",
        "last_used_at",
        "revoked_at",
    )
    list_filter = (("revoked_at", admin.EmptyFieldListFilter), "created_at")
    search_fields = ("prefix", "name", "user__username", "device__code")
    readonly_fields = (
        "prefix",
        "name",
        "user",
        "device",
        "created_at",
        "expires_at",
        "last_used_at",
        "revoked_at",
    )
    exclude = ("token_hash",)
    actions = ["revoke"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description=_("Revoke the selected tokens"), permissions=["change"])
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        for token in queryset:
            services.token_revoke(token=token, actor=request.user)
        self.message_user(request, _("Revoked."), messages.SUCCESS)


@admin.register(Device)
class DeviceAdmin(AuditedModelAdmin):
    save_services = services.SAVE_SERVICES
    list_display = ("code", "name", "kind", "lane", "is_active", "last_seen_at")
    list_filter = ("kind", "is_active")
    search_fields = ("code", "name", "lane__code")
    autocomplete_fields = ("lane",)
    actions = ["issue_credential"]

    @admin.action(description=_("Issue a new credential (shown once)"), permissions=["change"])
    def issue_credential(self, request: HttpRequest, queryset: QuerySet[Device]) -> None:
        for device in queryset:
            _token, secret = services.device_credential_issue(device=device, actor=request.user)
            self.message_user(
                request,
                _("Credential for %(device)s — copy it now, it is not shown again: %(secret)s")
                % {"device": device.code, "secret": secret},
                messages.WARNING,
            )
