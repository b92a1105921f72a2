"""Signing keys for ticket codes: rotate, retire, sign, and the public keys gates verify with.

``admit keys rotate`` makes a new current key; codes already issued keep verifying with their
own key (its id travels in the code) until it is retired with ``admit keys retire``.
"""

from __future__ import annotations

import os
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from admit.core.errors import NotFound
from admit.core.services import audit_record
from admit.core.versions import remember, version_bump

from . import codec
from .models import SigningKey

KEYS = "ticket-keys"
_AAD = b"admit signing key v1"


class KeyNotFound(NotFound):
    code = "key_not_found"
    default_message = _("No such signing key.")


def _wrapping_key() -> bytes:
    return HKDF(
        algorithm=hashes.SHA256(), length=32, salt=b"admit", info=b"ticket signing keys"
    ).derive(settings.SECRET_KEY.encode("utf-8"))


def _seal(private: Ed25519PrivateKey) -> bytes:
    raw = private.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    nonce = os.urandom(12)
    return nonce + AESGCM(_wrapping_key()).encrypt(nonce, raw, _AAD)


def _open(sealed: bytes) -> Ed25519PrivateKey:
    sealed = bytes(sealed)
    raw = AESGCM(_wrapping_key()).decrypt(sealed[:12], sealed[12:], _AAD)
    return Ed25519PrivateKey.from_private_bytes(raw)


def _make_key(*, actor: Any, only_if_none: bool) -> SigningKey | None:
    """Make the next key, one maker at a time: bumping the keys' version counter first takes
    its row lock (SQLite runs one writer at a time anyway), so concurrent makers queue instead
    of colliding on the key id. With ``only_if_none`` a maker that finds a current key made
    meanwhile makes none."""
    with transaction.atomic():
        version_bump(KEYS)
        current = SigningKey.objects.filter(is_current=True, retired_at__isnull=True)
        if only_if_none and current.exists():
            return None
        private = Ed25519PrivateKey.generate()
        public = private.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        last = SigningKey.objects.aggregate(m=Max("key_id"))["m"] or 0
        SigningKey.objects.filter(is_current=True).update(is_current=False)
        key = SigningKey.objects.create(
            key_id=last + 1, public_key=public, private_key=_seal(private), is_current=True
        )
        audit_record(
            actor=actor, action="create", obj=key, verb="key_rotated", after={"key_id": key.key_id}
        )
        return key


def key_rotate(*, actor: Any) -> SigningKey:
    """Make a new signing key and let it sign from now on."""
    key = _make_key(actor=actor, only_if_none=False)
    assert key is not None
    return key


def key_retire(*, key_id: int, actor: Any) -> SigningKey:
    """Stop accepting codes signed with this key (and stop signing with it)."""
    with transaction.atomic():
        key = SigningKey.objects.select_for_update().filter(key_id=key_id).first()
        if key is None:
            raise KeyNotFound(details={"key_id": key_id})
        if key.retired_at is None:
            key.retired_at = timezone.now()
            key.is_current = False
            key.save(update_fields=["retired_at", "is_current"])
            audit_record(
                actor=actor, action="update", obj=key, verb="key_retired", after={"key_id": key_id}
            )
            version_bump(KEYS)
    return key


def _load_signer() -> tuple[int, Ed25519PrivateKey] | None:
    key = SigningKey.objects.filter(is_current=True, retired_at__isnull=True).first()
    return None if key is None else (key.key_id, _open(key.private_key))


def signer() -> tuple[int, Ed25519PrivateKey]:
    """The current key (made on first use)."""
    found = remember(KEYS, "signer", _load_signer)
    if found is None:
        # The first ticket ever: make the first key (once, however many sell at this moment).
        _make_key(actor=None, only_if_none=True)
        found = _load_signer()
        assert found is not None
    return found


def _load_public() -> dict[int, Ed25519PublicKey]:
    return {
        k: codec.public_key_from_bytes(bytes(raw))
        for k, raw in SigningKey.objects.filter(retired_at__isnull=True).values_list(
            "key_id", "public_key"
        )
    }


def public_keys() -> dict[int, Ed25519PublicKey]:
    """The keys gates verify with: every key not retired."""
    return remember(KEYS, "public", _load_public)
