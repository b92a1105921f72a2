"""Webhooks an OCTO reseller registers itself (the ``octo/webhooks`` capability)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from django.db import transaction

from admit.core.models import AuditEntry
from admit.core.services import audit_record, model_save

from ..errors import TooManyWebhooks, WebhookNotFound
from ..models import Partner, PartnerWebhook

MAX_WEBHOOKS = 20  # a partner's, at most


@transaction.atomic
def webhook_register(
    *,
    partner: Partner,
    event: str,
    url: str,
    capabilities: Sequence[str] = (),
    headers: Mapping[str, str] | None = None,
    retry_on_error: bool = True,
    use_contact_language: bool = False,
    actor: Any = None,
) -> PartnerWebhook:
    """Register a notice URL for ``event`` (the caller has checked the URL and the event), at
    most ``MAX_WEBHOOKS`` a partner: registrations of one partner queue on its row, so that two
    at once cannot both be the last."""
    Partner.objects.select_for_update().filter(pk=partner.pk).first()
    if PartnerWebhook.objects.filter(partner=partner).count() >= MAX_WEBHOOKS:
        raise TooManyWebhooks(details={"max": MAX_WEBHOOKS})
    hook = PartnerWebhook(
        partner=partner,
        event=event,
        url=url,
        capabilities=list(capabilities),
        headers=dict(headers or {}),
        retry_on_error=retry_on_error,
        use_contact_language=use_contact_language,
    )
    return model_save(instance=hook, actor=actor, verb="webhook_register")


def webhooks_of(partner: Partner) -> list[PartnerWebhook]:
    return list(PartnerWebhook.objects.filter(partner=partner).order_by("created_at", "pk"))


@transaction.atomic
def webhook_delete(*, partner: Partner, webhook_id: str, actor: Any = None) -> PartnerWebhook:
    """Delete one of the partner's webhooks (another partner's is not found). Messages already
    queued for it are still delivered."""
    try:
        wanted = uuid.UUID(str(webhook_id).strip())
    except ValueError:
        wanted = None
    hook = PartnerWebhook.objects.filter(partner=partner, uuid=wanted).first() if wanted else None
    if hook is None:
        raise WebhookNotFound(details={"webhook": str(webhook_id)[:64]})
    audit_record(actor=actor, action=AuditEntry.Action.DELETE, obj=hook, verb="webhook_delete")
    PartnerWebhook.objects.filter(pk=hook.pk).delete()
    return hook
