"""Writes every app shares: the audit trail and audited saves of plain rows."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils.translation import gettext as _

from .audit import diff, snapshot
from .context import current_context
from .errors import ValidationFailed
from .models import AuditEntry

M = TypeVar("M", bound=models.Model)


def actor_label(actor: Any) -> str:
    if actor is None:
        return "system"
    return str(getattr(actor, "get_username", lambda: actor)())


def audit_record(
    *,
    actor: Any,
    action: str,
    obj: models.Model | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    verb: str = "",
    note: str = "",
) -> AuditEntry:
    """Append one entry to the audit trail, with the caller's address from the request context."""
    ctx = current_context()
    user = actor if getattr(actor, "_meta", None) is not None and actor.pk else None
    return AuditEntry.objects.create(
        actor=user,
        actor_label=actor_label(actor)[:150],
        source_ip=ctx.source_ip,
        user_agent=ctx.user_agent,
        request_id=ctx.request_id,
        via=ctx.via,
        action=action,
        verb=verb[:64],
        content_type=ContentType.objects.get_for_model(obj, for_concrete_model=True)
        if obj is not None
        else None,
        object_id=str(obj.pk) if obj is not None and obj.pk is not None else "",
        object_repr=str(obj)[:200] if obj is not None else "",
        before=before,
        after=after,
        changes=diff(before, after),
        note=note,
    )


def full_clean_or_raise(instance: models.Model, *, exclude: Iterable[str] | None = None) -> None:
    try:
        instance.full_clean(exclude=list(exclude) if exclude else None)
    except ValidationError as exc:
        raise ValidationFailed.from_django(exc) from exc


@transaction.atomic
def model_save(
    *,
    instance: M,
    actor: Any,
    m2m: Mapping[str, Iterable[Any]] | None = None,
    verb: str = "",
    validate: bool = True,
) -> M:
    """Validate and save one row (and its many-to-many sets), recording before and after.

    Every app's create/update services end here, so that every change is audited the same way.
    An update that changes nothing writes no audit entry.
    """
    adding = instance._state.adding or instance.pk is None
    before = None
    if not adding:
        stored = type(instance)._default_manager.select_for_update().get(pk=instance.pk)
        before = snapshot(stored)
    if validate:
        full_clean_or_raise(instance)
    instance.save()
    for name, values in (m2m or {}).items():
        getattr(instance, name).set(values)
    after = snapshot(instance)
    if adding or diff(before, after):
        audit_record(
            actor=actor,
            action=AuditEntry.Action.CREATE if adding else AuditEntry.Action.UPDATE,
            obj=instance,
            before=before,
            after=after,
            verb=verb,
        )
    return instance


@transaction.atomic
def model_delete(*, instance: models.Model, actor: Any, verb: str = "") -> None:
    before = snapshot(instance)
    audit_record(
        actor=actor, action=AuditEntry.Action.DELETE, obj=instance, before=before, verb=verb
    )
    try:
        instance.delete()
    except models.ProtectedError as exc:
        raise ValidationFailed(
            _("%(object)s is still in use and cannot be deleted; deactivate it instead.")
            % {"object": instance},
            code="in_use",
        ) from exc
