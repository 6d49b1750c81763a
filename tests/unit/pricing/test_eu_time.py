"""EU Annex I remark (c): time in years — equal months (1/12), weeks (1/52) or whole years counted back
from each flow, then the days left over the complete year counted back from the last of them (365, or
366 across a 29 February). Each rule on both sides of its edge."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from fractions import Fraction

import pytest
from typer.testing import CliRunner

from xiaodai.cli.main import app
from xiaodai.pricing.apr import EuStep, aprc_eu, complete_year_days, eu_years
from xiaodai.pricing.cashflow import Flow


@pytest.mark.parametrize(
    ("origin", "on", "expected"),
    [
        # odd days ending 15 Jan 2012: the year back (15 Jan 2011) has no 29 February -> /365
        (date(2012, 1, 12), date(2012, 2, 15), Fraction(1, 12) + Fraction(3, 365)),
        # odd days ending 15 Jan 2013: the year back (15 Jan 2012) holds 29 Feb 2012 -> /366
        (date(2013, 1, 12), date(2013, 2, 15), Fraction(1, 12) + Fraction(3, 366)),
        # the last odd day is 29 Feb 2012 itself: counted back to 28 Feb 2011 -> 366 days
        (date(2012, 2, 26), date(2012, 3, 29), Fraction(1, 12) + Fraction(3, 366)),
        # the day after: 1 Mar 2013 back to 1 Mar 2012 -> 365 days
        (date(2013, 2, 26), date(2013, 4, 1), Fraction(1, 12) + Fraction(3, 365)),
        # whole months only: no days, no year length
        (date(2024, 1, 31), date(2024, 2, 29), Fraction(1, 12)),
        (date(2023, 1, 28), date(2023, 2, 28), Fraction(1, 12)),  # the corresponding date is a month
    ],
)
def test_months_then_days_over_the_complete_year_counted_back(
    origin: date, on: date, expected: Fraction
) -> None:
    assert eu_years(on, origin) == expected


def test_always_365_when_leap_years_are_switched_off() -> None:
    assert eu_years(date(2013, 2, 15), date(2013, 1, 12), leap_years=False) == Fraction(1, 12) + Fraction(
        3, 365
    )


def test_complete_year_days() -> None:
    assert complete_year_days(date(2024, 2, 28)) == 365  # 28 Feb 2023 .. 28 Feb 2024: no 29th
    assert complete_year_days(date(2024, 2, 29)) == 366
    assert complete_year_days(date(2024, 3, 1)) == 366  # 1 Mar 2023 .. 1 Mar 2024 holds 29 Feb
    assert complete_year_days(date(2025, 3, 1)) == 365


@pytest.mark.parametrize(
    ("step", "expected"),
    [
        (EuStep.MONTH, Fraction(18, 12)),  # 18 equal months
        (EuStep.WEEK, Fraction(78, 52)),  # 546 days = 78 weeks
        (EuStep.YEAR, 1 + Fraction(181, 365)),  # a year back to 1 Jul 1994, then 181 days
    ],
)
def test_the_equal_period_counted_back(step: EuStep, expected: Fraction) -> None:
    assert eu_years(date(1995, 7, 1), date(1994, 1, 1), step=step) == expected


def test_years_counted_back_then_days_over_365_or_366() -> None:
    # 1 Mar 2023 -> 1 Jun 2024: one year back to 1 Jun 2023, 92 days; 1 Jun 2022..2023 has 365 days
    assert eu_years(date(2024, 6, 1), date(2023, 3, 1), step=EuStep.YEAR) == 1 + Fraction(92, 365)
    # a year later the stretch ends 1 Jun 2024, whose year back holds 29 Feb 2024 -> 366
    assert eu_years(date(2025, 6, 1), date(2024, 3, 1), step=EuStep.YEAR) == 1 + Fraction(92, 366)
    # under a year there is no whole year: all days, over the year counted back from 1 Dec
    assert eu_years(date(2024, 12, 1), date(2024, 3, 1), step=EuStep.YEAR) == Fraction(275, 366)
    assert eu_years(date(2025, 12, 1), date(2025, 3, 1), step=EuStep.YEAR) == Fraction(275, 365)
    # exactly whole years: no days
    assert eu_years(date(2026, 3, 1), date(2024, 3, 1), step=EuStep.YEAR) == 2


def test_weeks_then_days() -> None:
    # 18 days: 2 weeks and 4 days; the 4 days end 26 Jan 2012, the year back from it has 365 days
    assert eu_years(date(2012, 1, 30), date(2012, 1, 12), step=EuStep.WEEK) == Fraction(2, 52) + Fraction(
        4, 365
    )
    assert eu_years(date(2013, 1, 10), date(2012, 1, 12), step=EuStep.WEEK) == 1  # 52 weeks


def test_leap_year_counting_moves_the_aprc() -> None:
    flows = [Flow(date(2024, 1, 10), Decimal("-1000")), Flow(date(2024, 3, 25), Decimal("1050"))]
    with_leap = aprc_eu(flows)
    without = aprc_eu(flows, leap_years=False)
    # 2 months and 15 days: the 15 days end 25 Jan 2024 -> year back has no 29 Feb: identical
    assert with_leap.apr_percent == without.apr_percent
    flows = [Flow(date(2024, 3, 10), Decimal("-1000")), Flow(date(2024, 5, 25), Decimal("1050"))]
    # the 15 days end 25 Mar 2024 -> year back holds 29 Feb 2024: /366, a shorter time, a higher X
    assert aprc_eu(flows).apr_percent > aprc_eu(flows, leap_years=False).apr_percent


def test_cli_eu_unit_period_and_leap_flags() -> None:
    runner = CliRunner()
    flows = json.dumps(
        {"flows": [{"date": "1994-01-01", "amount": "-1000"}, {"date": "1995-07-01", "amount": "1200"}]}
    )

    def x(*extra: str) -> Decimal:
        result = runner.invoke(app, ["apr", "--convention", "eu", "--json", *extra], input=flows)
        assert result.exit_code == 0, result.output
        return Decimal(json.loads(result.stdout)["aprc_x_percent"])

    by_month = x()
    assert x("--unit-period", "week") == by_month  # 78 weeks = 18 months = 1.5 years
    assert x("--unit-period", "year") > by_month  # 1 + 181/365 < 1.5 years
    assert x("--unit-period", "year", "--no-leap-years") == x("--unit-period", "year")
    bad = runner.invoke(app, ["apr", "--convention", "eu", "--unit-period", "quarter"], input=flows)
    assert bad.exit_code == 2
