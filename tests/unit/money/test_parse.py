"""The one parser of typed amounts and dates (``money.parse``): both sides of every edge."""

from __future__ import annotations

from datetime import date

import pytest

from xiaodai.money.money import MoneyError
from xiaodai.money.parse import MAX_AMOUNT_FEN, DateInputError, parse_amount_fen, parse_iso_date, within
from xiaodai.servicing.backdating import backdate_verdict

BAD_AMOUNTS = [
    "１２",  # full-width digits
    "١٢",  # Arabic-Indic digits
    "1_0",
    "1,000",
    "1e2",
    "1E2",
    "+1",
    "-1",
    "",
    " ",
    " 12",
    "12 ",
    "NaN",
    "nan",
    "Infinity",
    "-Infinity",
    "1.234",
    "1.",
    ".5",
    "0x10",
    "1" * 30,
    "1e308",
    "12\x00",
    "１２.00",
]


@pytest.mark.parametrize("text", BAD_AMOUNTS)
def test_what_is_not_an_amount(text: str) -> None:
    with pytest.raises(MoneyError):
        parse_amount_fen(text)


@pytest.mark.parametrize("value", [12, 12.0, None, b"12", ["12"]])
def test_only_text_is_parsed(value: object) -> None:
    with pytest.raises(MoneyError, match="must be a string"):
        parse_amount_fen(value)


@pytest.mark.parametrize(
    ("text", "fen"),
    [("1", 100), ("0.01", 1), ("1.5", 150), ("1.50", 150), ("1234.56", 123_456), ("007", 700)],
)
def test_what_is(text: str, fen: int) -> None:
    assert parse_amount_fen(text) == fen


def test_the_upper_bound_and_zero() -> None:
    assert parse_amount_fen("10000000") == MAX_AMOUNT_FEN  # exactly at the limit
    assert parse_amount_fen("10000000.00") == MAX_AMOUNT_FEN
    with pytest.raises(MoneyError, match="largest amount"):
        parse_amount_fen("10000000.01")  # one fen past it
    with pytest.raises(MoneyError, match="positive"):
        parse_amount_fen("0.00")
    assert parse_amount_fen("0", allow_zero=True) == 0
    assert parse_amount_fen("500", max_fen=50_000) == 50_000
    with pytest.raises(MoneyError):
        parse_amount_fen("500.01", max_fen=50_000)


@pytest.mark.parametrize(
    "text",
    [
        "20260110",
        "2026-W02-6",
        "2026-1-10",
        "2026-01-10T00:00",
        "２０２６-01-10",
        "",
        " 2026-01-10",
        "2026-02-30",
    ],
)
def test_only_iso_dates(text: str) -> None:
    with pytest.raises(DateInputError):
        parse_iso_date(text)


def test_an_iso_date_and_its_bounds() -> None:
    today = date(2026, 1, 10)
    assert parse_iso_date("2026-01-10") == today
    assert within(date(2026, 1, 10), what="on", today=today) == today  # days_ahead 0: today itself
    with pytest.raises(DateInputError, match="after"):
        within(date(2026, 1, 11), what="on", today=today)
    assert within(date(2025, 12, 11), what="on", today=today, days_back=30) == date(2025, 12, 11)
    with pytest.raises(DateInputError, match="30 days back"):
        within(date(2025, 12, 10), what="on", today=today, days_back=30)


def test_back_dating_limits() -> None:
    business, lent = date(2026, 3, 1), date(2026, 1, 10)
    assert backdate_verdict(business, business_date=business, disbursed_on=lent) == "ALLOWED"
    assert (
        backdate_verdict(date(2026, 3, 2), business_date=business, disbursed_on=lent) == "BACKDATE_IN_FUTURE"
    )
    assert (
        backdate_verdict(date(2026, 1, 30), business_date=business, disbursed_on=lent) == "ALLOWED"
    )  # 30 back
    assert (
        backdate_verdict(date(2026, 1, 29), business_date=business, disbursed_on=lent) == "BACKDATE_TOO_FAR"
    )
    early = date(2026, 2, 10)
    assert backdate_verdict(early, business_date=business, disbursed_on=early) == "ALLOWED"
    assert (
        backdate_verdict(date(2026, 2, 9), business_date=business, disbursed_on=early)
        == "BACKDATE_BEFORE_DISBURSAL"
    )
    assert (
        backdate_verdict(business, business_date=business, disbursed_on=None) == "BACKDATE_BEFORE_DISBURSAL"
    )
