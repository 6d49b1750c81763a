"""Card numbers: Luhn, length 16-19, BIN ranges (data), masking — each rule on both sides of its edge."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from xiaodai.payments.card import (
    BinRange,
    check_card,
    default_ranges,
    luhn_check_digit,
    luhn_ok,
    masked,
)


def card(prefix: str, length: int) -> str:
    body = (prefix + "1234567890123456789")[: length - 1]
    return body + luhn_check_digit(body)


def test_known_luhn_numbers() -> None:
    assert luhn_ok("4111111111111111")
    assert not luhn_ok("4111111111111112")
    assert luhn_ok("79927398713")


@given(st.text(alphabet="0123456789", min_size=1, max_size=18))
def test_check_digit_completes_and_any_other_digit_breaks(payload: str) -> None:
    digit = luhn_check_digit(payload)
    assert luhn_ok(payload + digit)
    assert all(not luhn_ok(payload + d) for d in "0123456789" if d != digit)


def test_a_valid_icbc_card_passes_with_its_bank() -> None:
    verdict = check_card(card("622202", 16))
    assert verdict.ok
    assert verdict.bank == "ICBC"


@pytest.mark.parametrize(("length", "ok"), [(15, False), (16, True), (19, True), (20, False)])
def test_length_edges(length: int, ok: bool) -> None:
    # ICBC 6222xx issues 16 and 19 digits; 15 and 20 are outside 16-19
    verdict = check_card(card("622202", length))
    assert verdict.ok is ok
    if not ok:
        assert verdict.reasons == ("CARD_LENGTH",)


def test_length_the_bin_does_not_issue() -> None:
    assert check_card(card("622202", 17)).reasons == ("CARD_LENGTH_FOR_BIN",)


def test_luhn_failure_is_a_reason() -> None:
    good = card("622202", 16)
    bad = good[:-1] + str((int(good[-1]) + 1) % 10)
    assert check_card(bad).reasons == ("CARD_LUHN",)


@pytest.mark.parametrize(
    ("prefix", "known"),
    [("622848", True), ("622849", True), ("622850", False), ("621483", True), ("621482", False)],
)
def test_bin_range_edges(prefix: str, known: bool) -> None:
    length = 16 if prefix.startswith("6214") else 19
    verdict = check_card(card(prefix, length))
    assert ("CARD_BIN_UNKNOWN" not in verdict.reasons) is known


def test_not_digits_and_spaces() -> None:
    assert check_card("6222 02ab").reasons == ("CARD_NOT_DIGITS",)
    assert check_card("").reasons == ("CARD_NOT_DIGITS",)
    assert check_card("６２２２０２１２３４５６７８９０１").reasons == ("CARD_NOT_DIGITS",)  # full-width
    spaced = card("622202", 16)
    assert check_card(" ".join([spaced[:4], spaced[4:8], spaced[8:12], spaced[12:]])).ok


def test_ranges_are_data() -> None:
    ranges = default_ranges()
    assert len(ranges) >= 5
    only = (BinRange("999900", "999999", "TEST", "测试", (16,)),)
    assert check_card(card("999950", 16), only).bank == "TEST"
    assert check_card(card("622202", 16), only).reasons == ("CARD_BIN_UNKNOWN",)


@pytest.mark.parametrize("length", [16, 17, 18, 19])
def test_masked_shows_first_six_and_last_four(length: int) -> None:
    number = card("622202", length)
    shown = masked(number)
    assert shown[:6] == number[:6]
    assert shown[-4:] == number[-4:]
    assert set(shown[6:-4]) == {"*"}
    assert len(shown) == length
