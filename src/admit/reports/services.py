"""Closing a business day: from then on its figures do not change."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from admit.catalog.models import Site
from admit.core.services import audit_record

from . import errors
from .facts import local
from .models import DayClose


def day_close(*, site: Site, day: dt.date, actor: Any, now: dt.datetime | None = None) -> DayClose:
    """Close ``day`` at ``site``: only a day that has ended, once. Scans from that day that
    reach the server afterwards (an offline lane uploading late) count on the day they arrive."""
    now = now or timezone.now()
    if day >= local(site.pk, now).date():
        raise errors.DayNotOver(details={"day": day.isoformat()})
    try:
        with transaction.atomic():
            row = DayClose.objects.create(
                site=site,
                day=day,
                closed_at=now,
                closed_by=actor if getattr(actor, "pk", None) else None,
            )
            audit_record(actor=actor, action="action", obj=row, verb="close business day")
    except IntegrityError as exc:
        raise errors.DayAlreadyClosed(details={"day": day.isoformat()}) from exc
    return row
