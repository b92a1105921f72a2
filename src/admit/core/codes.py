"""Human-friendly random codes (order codes, ticket numbers): Crockford's base 32 alphabet,
without I, L, O and U, so that codes read aloud or typed from paper are not mistaken."""

from __future__ import annotations

import secrets

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def random_code(length: int) -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(length))


def normalize_code(value: str) -> str:
    """What a person typed, read the way it was meant: upper case, O→0, I/L→1, no dashes."""
    table = str.maketrans({"O": "0", "I": "1", "L": "1", "-": None, " ": None})
    return value.strip().upper().translate(table)
