"""The pages' formatters and form reader (pure): one APR rounding, Beijing time to the minute, codes in
words, amounts as people type them, ranges checked on both sides of each edge, service errors in the page's
language."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from xiaodai.web import format as fmt
from xiaodai.web.errors_i18n import localise
from xiaodai.web.forms import MAX_AMOUNT, MIN_AMOUNT, Form, parse_amount


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("7.9994", "8.00%"),
        ("7.994", "7.99%"),
        ("7.995", "8.00%"),
        ("8", "8.00%"),
        ("8.00", "8.00%"),
        ("x", "—"),
    ],
)
def test_apr_is_rounded_half_up_to_two_places(raw: str, shown: str) -> None:
    assert fmt.apr(raw) == shown


def test_times_are_beijing_to_the_minute_with_the_zone_named() -> None:
    assert fmt.when("2026-12-21T23:59:59+08:00", "zh") == "2026-12-21 23:59 北京时间"
    assert fmt.when("2026-12-21T15:59:59.123456", "en") == "2026-12-21 23:59 Beijing time"  # naive = UTC
    assert fmt.when(datetime(2026, 12, 31, 16, 0, tzinfo=UTC), "zh") == "2027-01-01 00:00 北京时间"
    assert fmt.when(date(2026, 1, 2)) == "2026-01-02"
    assert fmt.when(None) == "—"


def test_codes_are_labelled_or_written_as_words() -> None:
    strings = {"state_settled": "已结清"}
    assert fmt.label(strings, "state", "settled") == "已结清"
    assert fmt.label(strings, "category", "collection_conduct") == "collection conduct"
    assert fmt.label(strings, "state", None) == "—"
    assert fmt.ratio(None) == "—"
    assert fmt.ratio(1) == "100.0%"


@pytest.mark.parametrize(
    ("typed", "value"),
    [
        ("10000", Decimal("10000.00")),
        ("10,000", Decimal("10000.00")),
        ("10，000.5", Decimal("10000.50")),
        ("¥ 12000", Decimal("12000.00")),
        ("1.5万", Decimal("15000.00")),
        ("ten", None),
        ("10,00", None),
        ("1.234", None),
        ("-5", None),
        ("1e4", None),
    ],
)
def test_amounts_as_people_type_them(typed: str, value: Decimal | None) -> None:
    assert parse_amount(typed) == value


@pytest.mark.parametrize(
    ("typed", "ok"),
    [("499.99", False), ("500", True), ("30000", True), ("30000.01", False), ("50,000", False)],
)
def test_amount_range_edges_are_errors_not_clamps(typed: str, ok: bool) -> None:
    form = Form(lang="zh", typed={"amount": typed})
    value = form.amount("amount", low=MIN_AMOUNT, high=MAX_AMOUNT)
    assert (value is not None) is ok
    assert ("amount" in form.errors) is not ok
    if not ok:
        assert "500 元至 30,000 元" in form.errors["amount"]


@pytest.mark.parametrize(
    ("typed", "ok"), [("2", False), ("3", True), ("24", True), ("25", False), ("12.5", False)]
)
def test_term_edges(typed: str, ok: bool) -> None:
    form = Form(lang="en", typed={"term": typed})
    assert (form.whole("term", low=3, high=24, example=12) is not None) is ok
    if not ok:
        assert form.errors["term"].startswith(("Must be between 3 and 24", "Enter a whole number"))


def test_service_errors_in_the_page_language() -> None:
    assert localise("loan not found", "zh") == "未找到"
    assert localise("the cooling-off window has ended: use prepayment instead", "en").startswith(
        "The cooling"
    )
    assert localise("something nobody translated", "en") == "something nobody translated"
