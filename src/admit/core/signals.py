"""Connect version counters (``core.versions``) to the models whose changes they track."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.db.models.signals import m2m_changed, post_delete, post_save

from .versions import version_bump


def bump_on_change(name: str, *senders: type[models.Model] | Any) -> None:
    def bump(sender: Any, **kwargs: Any) -> None:
        if kwargs.get("raw"):
            return  # fixtures being loaded
        if "action" in kwargs and not kwargs["action"].startswith("post_"):
            return
        version_bump(name)

    for sender in senders:
        uid = f"admit.version.{name}.{sender._meta.label}"
        if sender._meta.auto_created:  # a many-to-many table
            m2m_changed.connect(bump, sender=sender, weak=False, dispatch_uid=uid)
        else:
            post_save.connect(bump, sender=sender, weak=False, dispatch_uid=uid + ".save")
            post_delete.connect(bump, sender=sender, weak=False, dispatch_uid=uid + ".delete")
