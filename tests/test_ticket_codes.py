"""Ticket codes: Ed25519-signed, compact, verifiable with a public key alone; keys rotate."""

from __future__ import annotations

import base64
import datetime as dt
import io
from dataclasses import replace

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.management import CommandError, call_command
from hypothesis import given, settings
from hypothesis import strategies as st

from admit.tickets import codec, qr
from admit.tickets.keys import key_retire, key_rotate, public_keys
from admit.tickets.models import Ticket
from tests.sales_helpers import MON, line, pay_cash, place

KEY = Ed25519PrivateKey.generate()
PUBLIC = {7: KEY.public_key()}
CLAIMS = codec.TicketClaims(
    key_id=7,
    ticket_id=123456789,
    site_id=1,
    product_id=42,
    valid_from=dt.date(2026, 11, 23),
    valid_until=dt.date(2026, 11, 23),
    slot_start=dt.time(9, 30),
    slot_end=dt.time(11, 30),
    persons=30,
    entries=1,
    real_name=True,
)


def test_a_code_round_trips_and_fits_a_version_7_qr_at_m():
    code = codec.encode(CLAIMS, KEY)
    assert len(code) == codec.CODE_LENGTH == 151
    assert code.isalnum() and code.isupper()
    assert codec.decode(code, PUBLIC) == CLAIMS
    assert codec.decode(code.lower(), PUBLIC) == CLAIMS  # scanners may lower-case
    symbol = qr.make(code)
    assert symbol.version <= 7 and symbol.error == "M" and symbol.mode == "alphanumeric"


def test_open_ended_and_slotless_codes():
    claims = codec.TicketClaims(
        key_id=7,
        ticket_id=1,
        site_id=1,
        product_id=1,
        valid_from=dt.date(2026, 1, 1),
        valid_until=None,
        slot_start=None,
        slot_end=None,
        persons=1,
        entries=None,
    )
    assert codec.decode(codec.encode(claims, KEY), PUBLIC) == claims


def flip(code: str, bit: int) -> str:
    raw = bytearray(base64.b32decode(code + "=" * (-len(code) % 8)))
    raw[bit // 8] ^= 1 << (bit % 8)
    return base64.b32encode(bytes(raw)).decode().rstrip("=")


def test_any_flipped_bit_is_refused():
    code = codec.encode(CLAIMS, KEY)
    for bit in range(codec.CODE_SIZE * 8):
        with pytest.raises(codec.CodeError) as exc:
            codec.decode(flip(code, bit), PUBLIC)
        assert exc.value.reason in ("forged", "unknown_key", "unknown_version", "malformed")


def test_malformed_truncated_and_foreign_codes_are_refused_with_reasons():
    code = codec.encode(CLAIMS, KEY)
    cases = {
        "": "malformed",
        code[:-1]: "malformed",
        code + "A": "malformed",
        "1" * 151: "malformed",  # not base32
        "中" * 151: "malformed",
        codec.encode(CLAIMS, Ed25519PrivateKey.generate()): "forged",
        codec.encode(codec.TicketClaims(**{**CLAIMS.__dict__, "key_id": 8}), KEY): "unknown_key",
    }
    for text, reason in cases.items():
        with pytest.raises(codec.CodeError) as exc:
            codec.decode(text, PUBLIC)
        assert exc.value.reason == reason, text


@settings(max_examples=500, deadline=None)
@given(st.text(max_size=200) | st.binary(max_size=120).map(lambda b: base64.b32encode(b).decode()))
def test_the_decoder_never_crashes_on_any_input(text):
    try:
        codec.decode(text, PUBLIC)
    except codec.CodeError as exc:
        assert exc.reason in ("malformed", "forged", "unknown_key", "unknown_version")


@settings(max_examples=200, deadline=None)
@given(
    ticket=st.integers(min_value=0, max_value=2**64 - 1),
    product=st.integers(min_value=0, max_value=2**32 - 1),
    persons=st.integers(min_value=1, max_value=65534),
    first=st.dates(min_value=dt.date(2020, 1, 1), max_value=dt.date(2150, 1, 1)),
    days=st.one_of(st.none(), st.integers(min_value=0, max_value=3000)),
)
def test_any_claims_round_trip(ticket, product, persons, first, days):
    claims = codec.TicketClaims(
        key_id=7,
        ticket_id=ticket,
        site_id=3,
        product_id=product,
        valid_from=first,
        valid_until=None if days is None else min(first + dt.timedelta(days), dt.date(2199, 1, 1)),
        slot_start=None,
        slot_end=None,
        persons=persons,
        entries=3,
    )
    assert codec.decode(codec.encode(claims, KEY), PUBLIC) == claims


# --- Tickets get codes; keys rotate and retire ---------------------------------------------


@pytest.fixture
def paid(clock, cashier_api):
    order = place(cashier_api, [line(cashier_api, "adult", 2)])
    pay_cash(cashier_api, order["code"])
    return order["code"]


@pytest.mark.django_db
def test_paid_tickets_carry_codes_that_verify_with_the_public_keys(paid, cashier_api):
    response = cashier_api.get(f"/api/v1/orders/{paid}/tickets")
    assert response.status_code == 200
    tickets = response.json()["tickets"]
    assert len(tickets) == 2
    for t in tickets:
        claims = codec.decode(t["code"], public_keys())
        row = Ticket.objects.get(serial=t["serial"])
        assert (claims.ticket_id, claims.product_id, claims.persons) == (row.pk, row.product_id, 1)
        assert claims.valid_from == row.valid_from == MON
        svg = cashier_api.get(t["qr_svg"].replace("http://testserver", ""))
        assert svg.status_code == 200 and svg["Content-Type"] == "image/svg+xml"
        assert b"<svg" in svg.content
        png = cashier_api.get(t["qr_png"].replace("http://testserver", ""))
        assert png.status_code == 200 and png.content.startswith(b"\x89PNG")
    # Another order's ticket is not reachable through this order.
    other = place(cashier_api, [line(cashier_api, "adult", 1)])
    pay_cash(cashier_api, other["code"])
    serial = tickets[0]["serial"]
    r = cashier_api.get(f"/api/v1/orders/{other['code']}/tickets/{serial}/qr.svg")
    assert r.status_code == 404 and r.json()["error"]["code"] == "ticket_not_found"
    r = cashier_api.get(f"/api/v1/orders/{paid}/tickets/{serial}/qr.gif")
    assert r.status_code == 404 and r.json()["error"]["code"] == "ticket_not_found"


@pytest.mark.django_db
def test_codes_need_a_token_with_the_right(paid, client):
    assert client.get(f"/api/v1/orders/{paid}/tickets").status_code == 401


@pytest.mark.django_db
def test_rotation_keeps_old_codes_valid_until_the_key_is_retired(paid, cashier_api):
    old = Ticket.objects.filter(order__code=paid).first()
    old_key = codec.peek(old.code).key_id
    new = key_rotate(actor=None)
    assert new.key_id == old_key + 1
    assert codec.decode(old.code, public_keys()).ticket_id == old.pk
    order = place(cashier_api, [line(cashier_api, "adult", 1)])
    pay_cash(cashier_api, order["code"])
    fresh = Ticket.objects.get(order__code=order["code"])
    assert codec.peek(fresh.code).key_id == new.key_id
    key_retire(key_id=old_key, actor=None)
    with pytest.raises(codec.CodeError) as exc:
        codec.decode(old.code, public_keys())
    assert exc.value.reason == "unknown_key"
    assert codec.decode(fresh.code, public_keys()).ticket_id == fresh.pk


@pytest.mark.django_db
def test_private_keys_are_stored_encrypted(paid):
    from cryptography.hazmat.primitives import serialization

    from admit.tickets.keys import _open
    from admit.tickets.models import SigningKey

    key = SigningKey.objects.get()
    sealed = bytes(key.private_key)
    assert len(sealed) == 12 + 32 + 16  # nonce, key, tag: not the raw key
    raw = _open(sealed).private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    assert raw not in sealed


@pytest.mark.django_db
def test_the_keys_command_lists_rotates_and_retires(db):
    out = io.StringIO()
    call_command("keys", "list", stdout=out)
    assert "No signing keys yet" in out.getvalue()
    call_command("keys", "rotate", stdout=out)
    call_command("keys", "rotate", stdout=out)
    call_command("keys", "retire", "1", stdout=out)
    text = out.getvalue()
    assert "Key 2 now signs new tickets" in text and "Key 1 retired" in text
    assert "current" in text and "retired" in text
    with pytest.raises(CommandError, match="No such signing key"):
        call_command("keys", "retire", "99", stdout=out)
    with pytest.raises(CommandError, match="Say which key"):
        call_command("keys", "retire", stdout=out)


def test_the_documented_test_vector():
    from pathlib import Path

    doc = (Path(__file__).parent.parent / "docs" / "ticket-codes.md").read_text("utf-8")
    key = Ed25519PrivateKey.from_private_bytes(bytes(range(1, 33)))
    claims = replace(CLAIMS, key_id=1, real_name=False)
    code = codec.encode(claims, key)
    assert code in doc
    assert codec.pack(claims).hex() in doc.replace(" ", "")
    assert codec.decode(code, {1: key.public_key()}) == claims


def test_the_offline_verification_benchmark_runs_and_refuses_a_forgery():
    from admit.demo.bench import run_codes

    lines = run_codes(n=50, say=lambda _m: None)
    assert "verified offline   50 codes" in lines[1]
    assert lines[2].endswith("refused")
