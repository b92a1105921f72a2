"""PRC resident ID numbers: checksum, birth date, region; fuzzed."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from admit.core.prc_id import InvalidResidentId, age_on, check_char, parse_resident_id
from tests.sales_helpers import IDS


@pytest.mark.parametrize("number", IDS)
def test_valid_numbers(number):
    parsed = parse_resident_id(number.lower())
    assert parsed.number == number
    assert parsed.region == number[:6]


def test_fields():
    p = parse_resident_id("11010519491231002X")
    assert p.birth_date == dt.date(1949, 12, 31) and p.male is False
    assert parse_resident_id("51010420000229002X").birth_date == dt.date(2000, 2, 29)
    assert age_on(dt.date(2000, 2, 29), dt.date(2018, 2, 28)) == 17
    assert age_on(dt.date(2000, 2, 29), dt.date(2018, 3, 1)) == 18


@pytest.mark.parametrize(
    ("number", "reason"),
    [
        ("11010519491231002", "length"),
        ("11010519491231002XX", "length"),
        ("1101051949123100AX", "characters"),
        ("１１０１０５１９４９１２３１００２X", "characters"),
        ("99010519491231002X", "region"),
        ("110105194913310025", "birth_date"),
        ("110105190002290021", "birth_date"),  # 1900 was not a leap year
        ("110105209901010011", "birth_date"),  # born in the future
        ("110105194912310021", "checksum"),
    ],
)
def test_invalid_numbers_say_why(number, reason):
    with pytest.raises(InvalidResidentId) as info:
        parse_resident_id(number, today=dt.date(2026, 11, 22))
    assert info.value.reason == reason


@given(st.text(max_size=25))
def test_any_text_is_parsed_or_refused_with_a_reason(text):
    try:
        parsed = parse_resident_id(text)
    except InvalidResidentId as exc:
        assert exc.reason in {"length", "characters", "region", "birth_date", "checksum"}
    else:
        assert parsed.number[17] == check_char(parsed.number[:17])


@given(st.sampled_from(IDS), st.integers(min_value=0, max_value=17), st.integers(0, 9))
def test_changing_one_digit_is_caught(number, position, digit):
    changed = number[:position] + str(digit) + number[position + 1 :]
    if changed == number:
        return
    with pytest.raises(InvalidResidentId):
        parse_resident_id(changed)
