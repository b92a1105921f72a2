"""Writes of customers. Every save is validated and audited."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from admit.core.services import model_save

from .models import Account, AccountMember


def account_save(
    *, instance: Account, actor: Any, m2m: Mapping[str, Iterable[Any]] | None = None
) -> Account:
    return model_save(instance=instance, actor=actor, m2m=m2m)


def account_member_save(
    *, instance: AccountMember, actor: Any, m2m: Mapping[str, Iterable[Any]] | None = None
) -> AccountMember:
    return model_save(instance=instance, actor=actor, m2m=m2m)
