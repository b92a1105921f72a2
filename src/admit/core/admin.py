"""Back-office plumbing shared by every app: saves go through services, so they are audited."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from django.contrib import admin, messages
from django.db import models
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from .errors import DomainError
from .models import AuditEntry, SandboxSms
from .services import model_delete, model_save


class AuditedAdminMixin:
    """Routes the admin's writes (saves, inlines, deletes) through the apps' services.

    ``save_services`` maps a model to its ``<entity>_save(*, instance, actor, m2m)`` service;
    a model not listed is saved with the generic audited ``model_save``.
    """

    save_services: dict[type[models.Model], Callable[..., Any]] = {}

    def _save_service(self, model: type[models.Model]) -> Callable[..., Any]:
        return self.save_services.get(model, model_save)

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        m2m = {
            f.name: form.cleaned_data[f.name]
            for f in obj._meta.many_to_many
            if f.name in form.cleaned_data
        }
        self._save_service(type(obj))(instance=obj, actor=request.user, m2m=m2m)

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        # Many-to-many fields were saved (and audited) by the service in save_model.
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        instances = formset.save(commit=False)
        for obj in formset.deleted_objects:
            model_delete(instance=obj, actor=request.user)
        for obj in instances:
            self._save_service(type(obj))(instance=obj, actor=request.user)

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        model_delete(instance=obj, actor=request.user)

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        for obj in queryset:
            model_delete(instance=obj, actor=request.user)

    def changeform_view(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return super().changeform_view(request, *args, **kwargs)  # type: ignore[misc]
        except DomainError as exc:
            # The whole save was rolled back; say why and let the user correct it.
            self.message_user(request, str(exc.message), level=messages.ERROR)  # type: ignore[attr-defined]
            return HttpResponseRedirect(request.get_full_path())


class AuditedModelAdmin(AuditedAdminMixin, admin.ModelAdmin):
    pass


def _render_changes(changes: dict[str, list[Any]]) -> str:
    if not changes:
        return "—"
    rows = format_html_join(
        "",
        "<tr><th>{}</th><td>{}</td><td>→</td><td>{}</td></tr>",
        (
            (k, json.dumps(v[0], ensure_ascii=False), json.dumps(v[1], ensure_ascii=False))
            for k, v in changes.items()
        ),
    )
    return format_html('<table class="audit-changes">{}</table>', rows)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows that only services write (audit entries, orders, payments, keys): look, never edit."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    list_display = (
        "at",
        "actor_label",
        "action",
        "verb",
        "content_type",
        "object_repr",
        "short_changes",
        "source_ip",
    )
    list_filter = (
        "action",
        ("content_type", admin.RelatedOnlyFieldListFilter),
        "via",
        ("at", admin.DateFieldListFilter),
    )
    search_fields = ("object_repr", "actor_label", "source_ip", "object_id", "request_id", "verb")
    list_per_page = 50
    readonly_fields = (
        "at",
        "actor_label",
        "actor",
        "source_ip",
        "user_agent",
        "request_id",
        "via",
        "action",
        "verb",
        "content_type",
        "object_id",
        "object_repr",
        "changes_table",
        "before",
        "after",
        "note",
    )
    exclude = ("changes",)

    @admin.display(description=_("changes"))
    def short_changes(self, obj: AuditEntry) -> str:
        if obj.action != AuditEntry.Action.UPDATE:
            return "—"
        keys = list((obj.changes or {}).keys())
        return ", ".join(keys[:6]) + ("…" if len(keys) > 6 else "")

    @admin.display(description=_("changes"))
    def changes_table(self, obj: AuditEntry) -> str:
        return _render_changes(obj.changes or {})


@admin.register(SandboxSms)
class SandboxSmsAdmin(ReadOnlyAdmin):
    """What the sandbox SMS sender kept instead of delivering (a member's sign-in code in the
    demo shop is read here)."""

    list_display = ("sent_at", "phone", "text")
    search_fields = ("phone",)
    list_per_page = 50
