"""How phones and card numbers are shown masked on pages, staff screens and in logs."""

from admit.core.text import mask


def test_a_phone_keeps_its_first_three_and_last_four_digits():
    assert mask("13912344321") == "139****4321"


def test_a_card_number_hides_all_but_the_ends():
    assert mask("A1B2C3D4E5") == "A1B***D4E5"
    assert mask("1234567") == "123" + "4567"  # seven characters: nothing in between to hide


def test_a_short_value_shows_only_its_first_character():
    assert mask("123456") == "1*****"
    assert mask("7") == "7"
    assert mask("") == ""
