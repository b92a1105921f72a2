from __future__ import annotations

import base64
from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from .models import SigningKey


@admin.register(SigningKey)
class SigningKeyAdmin(admin.ModelAdmin):
    """Read-only: keys are made and retired with `admit keys rotate|retire` (audited)."""

    list_display = ["key_id", "is_current", "created_at", "retired_at", "public_key_b64"]
    fields = ["key_id", "is_current", "created_at", "retired_at", "public_key_b64"]
    readonly_fields = ["key_id", "is_current", "created_at", "retired_at", "public_key_b64"]

    @admin.display(description=_("public key"))
    def public_key_b64(self, obj: SigningKey) -> str:
        return base64.b64encode(bytes(obj.public_key)).decode()

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
