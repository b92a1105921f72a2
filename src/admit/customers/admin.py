from __future__ import annotations

from django.contrib import admin

from admit.core.admin import AuditedAdminMixin, AuditedModelAdmin

from .models import Account, AccountMember


class AccountMemberInline(AuditedAdminMixin, admin.TabularInline):
    model = AccountMember
    extra = 0
    autocomplete_fields = ("user",)


@admin.register(Account)
class AccountAdmin(AuditedModelAdmin):
    list_display = ("code", "name", "kind", "contact_phone", "is_active")
    list_filter = ("kind", "is_active")
    search_fields = ("code", "name")
    inlines = [AccountMemberInline]
