from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from xiaodai.money import Money, MoneyError, Rounding, round_money


def test_float_is_refused() -> None:
    with pytest.raises(MoneyError, match="float"):
        Money.of(0.1)  # type: ignore[arg-type]
    with pytest.raises(MoneyError):
        Money(0.1)  # type: ignore[arg-type]
    with pytest.raises(MoneyError):
        Money.of("10") * 1.5  # type: ignore[operator]


def test_construct_from_str_int_decimal() -> None:
    assert Money.of("1,234.50").amount == Decimal("1234.50")
    assert Money.of(7).amount == Decimal(7)
    assert Money.of(Decimal("0.01")).to_minor() == 1


def test_minor_units_round_trip_and_refuse_sub_cent() -> None:
    assert Money.from_minor(123456).to_json() == "1234.56"
    with pytest.raises(MoneyError, match="fractions of a minor unit"):
        Money.of("0.005").to_minor()
    assert Money.from_minor(5, "JPY").amount == Decimal(5)


def test_currency_mismatch() -> None:
    with pytest.raises(MoneyError, match="mismatch"):
        Money.of("1") + Money.of("1", "USD")


def test_bad_text() -> None:
    for bad in ("abc", "NaN", "Infinity", ""):
        with pytest.raises(MoneyError):
            Money.of(bad)


@given(st.integers(min_value=-(10**12), max_value=10**12))
def test_fen_round_trip(fen: int) -> None:
    assert Money.from_minor(fen).to_minor() == fen


def test_half_up_is_half_up() -> None:
    assert round_money(Decimal("0.125"), rule=Rounding.HALF_UP_CENT) == Decimal("0.13")
    assert round_money(Decimal("0.125"), rule=Rounding.HALF_EVEN_CENT) == Decimal("0.12")
    assert round_money(Decimal("-0.125"), rule=Rounding.HALF_UP_CENT) == Decimal("-0.13")
