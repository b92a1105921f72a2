"""The ticket-code codec: pack, sign, encode — and decode, verify. No Django.

A code is ``base32(payload || signature)`` without padding, upper case, so that a QR code holds
it in alphanumeric mode (151 characters: version 7 at error correction M holds 224). The payload
is 30 bytes, big-endian, and the Ed25519 signature (64 bytes) covers ``DOMAIN || payload``.
``docs/ticket-codes.md`` specifies the format byte by byte; gate software can embed this module
(its only dependency is ``cryptography``) to verify codes offline with public keys alone.

    offset size field
    0      1    version (1)
    1      2    key id
    3      8    ticket id
    11     2    site id
    13     4    product id
    17     2    first valid day   (days since 2020-01-01)
    19     2    last valid day    (days since 2020-01-01; 0xFFFF: no end)
    21     2    slot start        (minutes after midnight; 0xFFFF: no slot)
    23     2    slot end          (minutes after midnight; 0xFFFF: no slot)
    25     2    persons
    27     2    entries allowed   (0: unlimited)
    29     1    flags             (bit 0: real-name ticket; other bits 0)
    30     64   Ed25519 signature over DOMAIN || bytes 0..29
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import struct
from collections.abc import Mapping
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

VERSION = 1
DOMAIN = b"admit-ticket-v1\x00"
EPOCH = dt.date(2020, 1, 1)
NONE16 = 0xFFFF
FLAG_REAL_NAME = 0x01
_LAYOUT = struct.Struct(">BHQHIHHHHHHB")
PAYLOAD_SIZE = _LAYOUT.size  # 30
SIGNATURE_SIZE = 64
CODE_SIZE = PAYLOAD_SIZE + SIGNATURE_SIZE  # 94 bytes
CODE_LENGTH = (CODE_SIZE * 8 + 4) // 5  # 151 characters


class CodeError(ValueError):
    """A code that is not a valid ticket code; ``reason`` is machine-readable."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class TicketClaims:
    """What a code says about its ticket."""

    key_id: int
    ticket_id: int
    site_id: int
    product_id: int
    valid_from: dt.date
    valid_until: dt.date | None
    slot_start: dt.time | None
    slot_end: dt.time | None
    persons: int
    entries: int | None  # None: unlimited
    real_name: bool = False
    version: int = VERSION


def _day(value: dt.date) -> int:
    n = (value - EPOCH).days
    if not 0 <= n < NONE16:
        raise ValueError(f"date out of range for a ticket code: {value}")
    return n


def _minutes(value: dt.time | None) -> int:
    return NONE16 if value is None else value.hour * 60 + value.minute


def _time(n: int) -> dt.time | None:
    if n == NONE16:
        return None
    if n >= 24 * 60:
        raise CodeError("malformed")
    return dt.time(n // 60, n % 60)


def _u16(name: str, value: int) -> int:
    if not 0 <= value < NONE16:
        raise ValueError(f"{name} out of range for a ticket code: {value}")
    return value


def pack(claims: TicketClaims) -> bytes:
    """The 30-byte payload."""
    if not 0 <= claims.ticket_id < 2**64 or not 0 <= claims.product_id < 2**32:
        raise ValueError("ticket or product id out of range for a ticket code")
    if claims.persons < 1:
        raise ValueError("a ticket admits at least one person")
    return _LAYOUT.pack(
        VERSION,
        _u16("key id", claims.key_id),
        claims.ticket_id,
        _u16("site id", claims.site_id),
        claims.product_id,
        _day(claims.valid_from),
        NONE16 if claims.valid_until is None else _day(claims.valid_until),
        _minutes(claims.slot_start),
        _minutes(claims.slot_end),
        _u16("persons", claims.persons),
        0 if claims.entries is None else _u16("entries", claims.entries),
        FLAG_REAL_NAME if claims.real_name else 0,
    )


def unpack(payload: bytes) -> TicketClaims:
    if len(payload) != PAYLOAD_SIZE:
        raise CodeError("malformed")
    (
        version,
        key_id,
        ticket_id,
        site_id,
        product_id,
        first,
        last,
        start,
        end,
        persons,
        entries,
        flags,
    ) = _LAYOUT.unpack(payload)
    if version != VERSION:
        raise CodeError("unknown_version")
    if persons < 1 or flags & ~FLAG_REAL_NAME or first == NONE16:
        raise CodeError("malformed")
    if last != NONE16 and last < first:
        raise CodeError("malformed")
    if (start == NONE16) != (end == NONE16):
        raise CodeError("malformed")
    return TicketClaims(
        key_id=key_id,
        ticket_id=ticket_id,
        site_id=site_id,
        product_id=product_id,
        valid_from=EPOCH + dt.timedelta(days=first),
        valid_until=None if last == NONE16 else EPOCH + dt.timedelta(days=last),
        slot_start=_time(start),
        slot_end=_time(end),
        persons=persons,
        entries=entries or None,
        real_name=bool(flags & FLAG_REAL_NAME),
        version=version,
    )


def encode(claims: TicketClaims, private_key: Ed25519PrivateKey) -> str:
    """Sign ``claims`` and return the printable code."""
    payload = pack(claims)
    signature = private_key.sign(DOMAIN + payload)
    return base64.b32encode(payload + signature).decode("ascii").rstrip("=")


def split(code: str) -> tuple[bytes, bytes]:
    """The payload and signature of a code, or ``CodeError('malformed')``."""
    text = code.strip().upper()
    if len(text) != CODE_LENGTH or not text.isascii():
        raise CodeError("malformed")
    try:
        raw = base64.b32decode(text + "=" * (-len(text) % 8))
    except (binascii.Error, ValueError) as exc:
        raise CodeError("malformed") from exc
    if len(raw) != CODE_SIZE:
        raise CodeError("malformed")
    return raw[:PAYLOAD_SIZE], raw[PAYLOAD_SIZE:]


def peek(code: str) -> TicketClaims:
    """The claims of a code without checking its signature (for display only)."""
    payload, _signature = split(code)
    return unpack(payload)


def decode(code: str, public_keys: Mapping[int, Ed25519PublicKey]) -> TicketClaims:
    """Verify ``code`` with the key its key id names and return its claims.

    Raises ``CodeError`` with reason ``malformed``, ``unknown_version``, ``unknown_key`` or
    ``forged``. The signature is checked before any claim is trusted.
    """
    payload, signature = split(code)
    if payload[0] != VERSION:
        raise CodeError("unknown_version")
    key_id = struct.unpack_from(">H", payload, 1)[0]
    key = public_keys.get(key_id)
    if key is None:
        raise CodeError("unknown_key")
    try:
        key.verify(signature, DOMAIN + payload)
    except InvalidSignature as exc:
        raise CodeError("forged") from exc
    return unpack(payload)


def public_key_from_bytes(raw: bytes) -> Ed25519PublicKey:
    return Ed25519PublicKey.from_public_bytes(raw)
