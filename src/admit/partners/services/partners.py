"""Partners: their set-up and their keys."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable, Mapping
from typing import Any

from django.db import transaction

from admit.core.services import model_save
from admit.core.versions import remember

from ..errors import PartnerUnauthorized
from ..models import PARTNERS_VERSION, Partner

KEY_PREFIX = "prt_"


def key_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def partner_save(
    *, instance: Partner, actor: Any, m2m: Mapping[str, Iterable[Any]] | None = None
) -> Partner:
    return model_save(instance=instance, actor=actor, m2m=m2m)


@transaction.atomic
def partner_key_issue(*, partner: Partner, actor: Any) -> str:
    """A new bearer key for the partner (the old one stops working); shown once, only its hash
    is kept."""
    secret = KEY_PREFIX + secrets.token_urlsafe(32)
    partner.key_prefix = secret[: len(KEY_PREFIX) + 6]
    partner.key_hash = key_hash(secret)
    model_save(instance=partner, actor=actor, verb="partner_key_issue")
    return secret


def _partner_by_hash(digest: str) -> Partner | None:
    return (
        Partner.objects.filter(key_hash=digest, is_active=True)
        .select_related("channel", "retail_channel", "account")
        .first()
    )


def partner_authenticate(*, key: str, kind: str | None = None) -> Partner:
    """The active partner whose bearer key this is (kept in memory until partners change)."""
    if not key or len(key) > 200:
        raise PartnerUnauthorized()
    digest = key_hash(key)
    partner = remember(
        PARTNERS_VERSION, ("key", digest), lambda: _partner_by_hash(digest), keep_none=False
    )
    if partner is None or (kind is not None and partner.kind != kind):
        raise PartnerUnauthorized()
    return partner


def partner_channels() -> frozenset[int]:
    """The ids of the channels partners sell on (kept in memory until partners change)."""
    return remember(
        PARTNERS_VERSION,
        "channels",
        lambda: frozenset(Partner.objects.values_list("channel_id", flat=True)),
    )
