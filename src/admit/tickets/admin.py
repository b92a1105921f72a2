from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from admit.core.admin import ReadOnlyAdmin

from .models import SigningKey


@admin.register(SigningKey)
class SigningKeyAdmin(ReadOnlyAdmin):
    """Keys are made and retired with `admit keys rotate|retire` (audited), never here."""

    list_display = ["key_id", "is_current", "created_at", "retired_at", "public_key_b64"]
    fields = ["key_id", "is_current", "created_at", "retired_at", "public_key_b64"]
    readonly_fields = ["key_id", "is_current", "created_at", "retired_at", "public_key_b64"]

    @admin.display(description=_("public key"))
    def public_key_b64(self, obj: SigningKey) -> str:
        return obj.public_key_b64
