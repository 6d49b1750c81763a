"""Published worked examples restated as *dated* flows, so the date → (t, f) positioning and the
unit-period detection are exercised end to end through ``xiaodai apr``."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from typer.testing import CliRunner

from xiaodai.cli.main import app
from xiaodai.money.dates import add_half_months, add_months

runner = CliRunner()


def monthly(first: date, count: int, amount: str) -> list[dict[str, str]]:
    return [{"date": add_months(first, k).isoformat(), "amount": amount} for k in range(count)]


def semimonthly(first: date, count: int, amount: str) -> list[dict[str, str]]:
    return [{"date": add_half_months(first, k).isoformat(), "amount": amount} for k in range(count)]


def apr(convention: str, flows: list[dict[str, str]], *extra: str) -> dict[str, Any]:
    result = runner.invoke(
        app, ["apr", "--convention", convention, "--json", *extra], input=json.dumps({"flows": flows})
    )
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


CASES = [
    # Reg Z App J (c)(1)(i): regular monthly
    (
        "us-regz",
        [{"date": "1978-01-10", "amount": "-5000"}, *monthly(date(1978, 2, 10), 24, "230")],
        "apr_percent_2dp",
        "9.69",
        "month",
    ),
    # App J (c)(1)(iii): semimonthly, short first period (1st and 16th)
    (
        "us-regz",
        [{"date": "1978-02-23", "amount": "-5000"}, *semimonthly(date(1978, 3, 1), 24, "219.17")],
        "apr_percent_2dp",
        "10.34",
        "semimonth",
    ),
    # App J (c)(2)(i): irregular first payment
    (
        "us-regz",
        [
            {"date": "1978-01-10", "amount": "-5000"},
            {"date": "1978-02-10", "amount": "250"},
            *monthly(date(1978, 3, 10), 23, "230"),
        ],
        "apr_percent_2dp",
        "10.08",
        "month",
    ),
    # App J (c)(5)(i): single advance, single payment, 255 days
    (
        "us-regz",
        [{"date": "1978-01-03", "amount": "-1000"}, {"date": "1978-09-15", "amount": "1080"}],
        "apr_percent_2dp",
        "11.45",
        "term",
    ),
    # PBOC 2021 No. 3 worked example
    (
        "cn",
        [{"date": "2021-03-15", "amount": "-99000"}, *monthly(date(2021, 4, 15), 12, "8833.3")],
        "apr_percent_2dp",
        "12.80",
        "month",
    ),
    # EU Commission 2015 example 1: 240 months
    (
        "eu",
        [{"date": "2015-01-15", "amount": "-196000"}, *monthly(date(2015, 2, 15), 240, "1432.86")],
        "aprc_percent",
        "6.4",
        "year",
    ),
]


@pytest.mark.parametrize(("convention", "flows", "key", "want", "unit"), CASES)
def test_published_examples_from_dates(
    convention: str, flows: list[dict[str, str]], key: str, want: str, unit: str
) -> None:
    out = apr(convention, flows)
    assert out[key] == want
    assert out["unit_period"] == unit


def test_pboc_compound_figure() -> None:
    out = apr("cn", [{"date": "2021-03-15", "amount": "-99000"}, *monthly(date(2021, 4, 15), 12, "8833.3")])
    assert Decimal(out["ear_percent"]).quantize(Decimal("0.01")) == Decimal("13.58")


def test_eu_1987_directive_day_count() -> None:
    out = apr(
        "eu",
        [{"date": "1994-01-01", "amount": "-1000"}, {"date": "1995-07-01", "amount": "1200"}],
        "--eu-days",
    )
    assert abs(Decimal(out["aprc_x_percent"]) - Decimal("12.96")) <= Decimal("0.005")
    assert out["aprc_percent"] == "13.0"


def test_eu_ex1_precise_x() -> None:
    out = apr(
        "eu", [{"date": "2015-01-15", "amount": "-196000"}, *monthly(date(2015, 2, 15), 240, "1432.86")]
    )
    assert abs(Decimal(out["aprc_x_percent"]) - Decimal("6.434412")) <= Decimal("0.000001")


def test_month_end_loan_counts_back_month_end_to_month_end() -> None:
    # disbursed Jan 31, due on the last day of each month: every payment is a whole number of months
    flows = [
        {"date": "2026-01-31", "amount": "-3000"},
        *[{"date": add_months(date(2026, 1, 31), k).isoformat(), "amount": "1020.07"} for k in (1, 2, 3)],
    ]
    out = apr("us-regz", flows)
    regular = apr(
        "us-regz", [{"date": "2026-01-10", "amount": "-3000"}, *monthly(date(2026, 2, 10), 3, "1020.07")]
    )
    assert out["apr_percent"] == regular["apr_percent"]
