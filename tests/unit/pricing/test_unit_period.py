"""Reg Z Appendix J unit-periods, each rule on both sides of its edge (12 CFR 1026 App J (b)(3)-(b)(5))."""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction

import pytest
from typer.testing import CliRunner

from xiaodai.cli.main import app
from xiaodai.money.dates import add_months
from xiaodai.pricing.apr import AppJSeries, Convention, appj_series, apr_regz
from xiaodai.pricing.cashflow import Flow, Positioned
from xiaodai.pricing.flow_input import FlowDocument, rate_for
from xiaodai.pricing.unit_period import (
    DAY,
    MONTH,
    SEMIMONTH,
    WEEK,
    UnitPeriod,
    detect,
    position,
    single_payment_unit,
    standard_interval,
)

START = date(2025, 1, 10)


def loan(payment_dates: list[date], amount: str = "100", advance: str = "-1000") -> list[Flow]:
    return [Flow(START, Decimal(advance)), *(Flow(d, Decimal(amount)) for d in payment_dates)]


def every(months: int, count: int, first: date | None = None) -> list[date]:
    first = first or add_months(START, months)
    return [add_months(first, months * k) for k in range(count)]


# ---------------------------------------------------------------- (b)(3) standard intervals


@pytest.mark.parametrize(
    ("earlier", "later", "expected"),
    [
        (date(2025, 1, 10), date(2025, 2, 10), UnitPeriod(MONTH)),
        (date(2025, 1, 28), date(2025, 2, 28), UnitPeriod(MONTH)),  # the corresponding date
        (date(2025, 1, 31), date(2025, 2, 28), UnitPeriod(MONTH)),  # no 31 Feb: the month's last day
        (date(2025, 1, 10), date(2025, 3, 10), UnitPeriod(MONTH, 2)),  # two months, not a quarter
        (date(2025, 1, 10), date(2025, 4, 10), UnitPeriod(MONTH, 3)),
        (date(2025, 1, 10), date(2026, 1, 10), UnitPeriod(MONTH, 12)),  # exactly a year: still standard
        (date(2025, 1, 10), date(2026, 2, 10), None),  # 13 months: longer than a year
        (date(2025, 1, 10), date(2025, 1, 31), UnitPeriod(WEEK, 3)),
        (date(2025, 1, 10), date(2025, 1, 24), UnitPeriod(WEEK, 2)),
        (date(2025, 1, 10), date(2026, 1, 9), UnitPeriod(WEEK, 52)),
        (date(2025, 1, 1), date(2025, 1, 16), UnitPeriod(SEMIMONTH)),
        (date(2025, 1, 16), date(2025, 2, 1), UnitPeriod(SEMIMONTH)),
        (date(2025, 1, 10), date(2025, 1, 11), UnitPeriod(DAY)),
        (date(2025, 1, 10), date(2025, 1, 20), None),  # ten days: a period, not a standard one
    ],
)
def test_standard_intervals(earlier: date, later: date, expected: UnitPeriod | None) -> None:
    assert standard_interval(earlier, later) == expected


def test_unit_period_names_and_counts_per_year() -> None:
    assert UnitPeriod.parse("2month") == UnitPeriod(MONTH, 2)
    assert UnitPeriod.parse("2month").per_year == 6
    assert UnitPeriod.parse("quarter").per_year == 4
    assert UnitPeriod.parse("12month") == UnitPeriod.YEAR
    assert UnitPeriod.parse("3week").per_year == Fraction(52, 3)
    assert UnitPeriod.parse("biweek").value == "biweek"
    assert UnitPeriod(MONTH, 5).value == "5month"
    with pytest.raises(ValueError, match="cannot be 13"):
        UnitPeriod.parse("13month")  # one past a year
    with pytest.raises(ValueError, match="cannot be 53"):
        UnitPeriod.parse("53week")
    with pytest.raises(ValueError, match="unknown unit period"):
        UnitPeriod.parse("fortnightish")


# ---------------------------------------------------------------- (b)(4) which unit-period


def test_two_month_intervals_make_a_two_month_unit_period() -> None:
    series = appj_series(loan(every(2, 6)))
    assert series.unit == UnitPeriod(MONTH, 2)
    assert series.per_year == 6
    assert [p.t for p in series.payments] == [1, 2, 3, 4, 5, 6]
    assert apr_regz(loan(every(2, 6))).unit == "2month"


@pytest.mark.parametrize(("months", "name"), [(1, "month"), (3, "quarter"), (6, "6month"), (12, "year")])
def test_any_whole_number_of_months_up_to_a_year(months: int, name: str) -> None:
    assert appj_series(loan(every(months, 4))).unit.value == name


def test_the_most_common_period_wins() -> None:
    # a 2-month first period, then monthly: monthly occurs more often
    dates = [add_months(START, 2), *every(1, 5, add_months(START, 3))]
    assert appj_series(loan(dates)).unit == UnitPeriod.MONTH


def test_equally_common_periods_go_to_the_smaller() -> None:
    # start -> +1 month -> +2 months -> +2 weeks -> +2 weeks: month once, 2 weeks twice, ... then level:
    a, b = add_months(START, 1), add_months(START, 2)
    dates = [a, b, b + timedelta(days=14), b + timedelta(days=28), add_months(b, 2)]
    # periods: 1 month x2 (start->a, a->b), 2 weeks x2, and one odd stretch
    assert detect(START, [START], dates) == UnitPeriod(WEEK, 2)
    # one more monthly period tips it back to months
    assert detect(START, [START], [*dates, add_months(b, 3)]) == UnitPeriod.MONTH


def test_a_common_period_of_days_is_the_unit_period_even_when_not_standard() -> None:
    # every 30 days (not monthly): the common period is 30 days, 365/30 a year (App J (b)(4)(i))
    dates = [START + timedelta(days=30 * k) for k in range(1, 7)]
    series = appj_series(loan(dates))
    assert series.unit == UnitPeriod(DAY, 30)
    assert series.unit.value == "30day"
    assert series.per_year == Fraction(365, 30)
    assert [(p.t, p.f) for p in series.payments] == [(k, Fraction(0)) for k in range(1, 7)]
    # the same dates one day later each: a long first period of 31 days (once), then 30-day periods
    later = [d + timedelta(days=1) for d in dates]
    assert appj_series(loan(later)).payments[0] == Positioned(Decimal(100), 1, Fraction(1, 30))
    assert UnitPeriod.parse("15day").per_year == Fraction(365, 15)
    with pytest.raises(ValueError, match="cannot be 366"):
        UnitPeriod.parse("366day")


def test_no_common_period_takes_the_average_rounded_to_the_nearest_standard_interval() -> None:
    # periods of 40 and 50 days: no common period, average 45 days -> 6 weeks (42) is nearest
    dates = [START + timedelta(days=40), START + timedelta(days=90)]
    assert detect(START, [START], dates) == UnitPeriod(WEEK, 6)
    # periods of 31 and 30 days that are not whole months... here they are (Jan 10 -> Feb 10 -> Mar 10)
    assert detect(START, [START], [date(2025, 2, 10), date(2025, 3, 12)]) == UnitPeriod.MONTH


# ---------------------------------------------------------------- (b)(4)(ii): single advance, single payment


@pytest.mark.parametrize(
    ("paid_on", "unit", "per_year"),
    [
        (date(2025, 12, 10), UnitPeriod.TERM, Fraction(12, 11)),  # 11 months: the term
        (date(2025, 12, 9), UnitPeriod.TERM, Fraction(365, 333)),  # not whole months: 365/days
        (date(2026, 1, 9), UnitPeriod.TERM, Fraction(365, 364)),  # a day short of a year
        (date(2026, 1, 10), UnitPeriod.YEAR, Fraction(1)),  # exactly a year
        (date(2026, 2, 10), UnitPeriod.YEAR, Fraction(1)),  # 13 months: never more than a year
    ],
)
def test_single_payment_unit_period_is_the_term_but_never_more_than_a_year(
    paid_on: date, unit: UnitPeriod, per_year: Fraction
) -> None:
    assert single_payment_unit(START, paid_on) == (unit, per_year)


def test_single_payment_of_13_months_is_one_year_and_a_twelfth() -> None:
    flows = loan([date(2026, 2, 10)], amount="1130")
    series = appj_series(flows)
    assert series.unit == UnitPeriod.YEAR
    assert [(p.t, p.f) for p in series.payments] == [(1, Fraction(1, 12))]
    # i solves 1000 (1 + i/12)(1 + i) = 1130; the old term unit (13 months) would give 12/13 x 13% = 12.0%
    apr = apr_regz(flows).apr_percent
    i = float(apr) / 100
    assert 1000 * (1 + i / 12) * (1 + i) == pytest.approx(1130, abs=1e-6)
    assert apr < Decimal(12)  # compounding after the first year: below the simple 13%-over-13-months figure


def test_single_payment_of_11_months_is_simple_over_the_term() -> None:
    flows = loan([date(2025, 12, 10)], amount="1110")
    result = apr_regz(flows)
    assert result.unit == "term"
    assert result.apr_percent == Decimal("12.0000000000")  # 11% over 11 months, 12/11 a year


def test_single_payment_year_and_odd_days_counts_the_days_over_365() -> None:
    # 1 year 1 month 5 days: (b)(5)(v)(B) the rest is not whole months, so days / 365
    paid_on = date(2026, 2, 15)
    series = appj_series(loan([paid_on], amount="1130"))
    assert [(p.t, p.f) for p in series.payments] == [(1, Fraction((date(2025, 2, 15) - START).days, 365))]


def test_explicit_term_unit_needs_one_advance_and_one_payment() -> None:
    with pytest.raises(ValueError, match="one advance and one payment"):
        appj_series(loan(every(1, 3)), UnitPeriod.TERM)


@pytest.mark.parametrize(
    ("t", "f", "per_year", "unit", "positioned"),
    [
        (11, Fraction(0), Fraction(12, 11), "term", (1, Fraction(0))),
        (12, Fraction(0), Fraction(1), "year", (1, Fraction(0))),
        (13, Fraction(0), Fraction(1), "year", (1, Fraction(1, 12))),
        (18, Fraction(0), Fraction(1), "year", (1, Fraction(6, 12))),
    ],
)
def test_positioned_single_payment_is_capped_at_a_year(
    t: int, f: Fraction, per_year: Fraction, unit: str, positioned: tuple[int, Fraction]
) -> None:
    series = AppJSeries(
        [Positioned(Decimal(1000), 0)], [Positioned(Decimal(1100), t, f)], Fraction(12), UnitPeriod.MONTH
    )
    result = rate_for(FlowDocument(positioned=series), Convention.US_REGZ)
    assert result.unit == unit
    assert result.per_year == per_year
    if unit == "year":
        i = float(result.periodic_rate)
        years, frac = positioned
        assert 1000 * (1 + float(frac) * i) * (1 + i) ** years == pytest.approx(1100, abs=1e-6)


# ---------------------------------------------------------------- (b)(5) counting back


def test_months_count_back_with_odd_days_over_30() -> None:
    assert position(date(1978, 4, 1), date(1978, 2, 10), UnitPeriod.MONTH) == (1, Fraction(19, 30))


def test_multi_month_unit_counts_30_days_a_month() -> None:
    # App J (c)(4)(ii): 1 Mar from 10 Jan is 1 month 22 days = 52 days of a 60-day unit-period
    assert position(date(1978, 3, 1), date(1978, 1, 10), UnitPeriod(MONTH, 2)) == (0, Fraction(52, 60))
    assert position(date(1978, 5, 1), date(1978, 1, 10), UnitPeriod(MONTH, 2)) == (1, Fraction(52, 60))


def test_semimonths_count_30_days_a_month_over_15() -> None:
    origin = date(1978, 2, 23)
    assert position(date(1978, 3, 1), origin, UnitPeriod.SEMIMONTH) == (0, Fraction(6, 15))
    assert position(date(1978, 3, 16), origin, UnitPeriod.SEMIMONTH) == (1, Fraction(6, 15))
    assert position(date(1978, 4, 16), origin, UnitPeriod.SEMIMONTH) == (3, Fraction(6, 15))


def test_year_unit_rest_is_months_over_12_or_days_over_365() -> None:
    assert position(date(2026, 7, 10), START, UnitPeriod.YEAR) == (1, Fraction(6, 12))
    assert position(date(2026, 7, 11), START, UnitPeriod.YEAR) == (1, Fraction(182, 365))


def test_days_and_weeks_divide_the_days() -> None:
    assert position(date(2025, 1, 27), START, UnitPeriod(WEEK, 2)) == (1, Fraction(3, 14))
    assert position(date(2025, 1, 27), START, UnitPeriod.DAY) == (17, Fraction(0))


def test_cli_unit_period_flag() -> None:
    runner = CliRunner()
    payments = [{"date": d.isoformat(), "amount": "180"} for d in every(2, 6)]
    flows = json.dumps({"flows": [{"date": START.isoformat(), "amount": "-1000"}, *payments]})
    ok = runner.invoke(
        app, ["apr", "--convention", "us-regz", "--json", "--unit-period", "2month"], input=flows
    )
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.stdout)["unit_periods_per_year"] == "6"
    for unit in ("13month", "term"):  # one past a year; the term of a many-payment loan
        bad = runner.invoke(app, ["apr", "--convention", "us-regz", "--unit-period", unit], input=flows)
        assert bad.exit_code == 2, unit


@pytest.mark.parametrize(
    ("start", "paid_on", "unit", "per_year"),
    [
        # a day short of a year across 29 Feb 2024 is 365 actual days: still the term, 365/365 a year
        (date(2024, 1, 10), date(2025, 1, 9), UnitPeriod.TERM, Fraction(1)),
        # the same in a common year is 364 days
        (date(2023, 1, 10), date(2024, 1, 9), UnitPeriod.TERM, Fraction(365, 364)),
        # 29 Feb 2024 -> 28 Feb 2025 is 12 whole months (no 29th: the month's last day): a year
        (date(2024, 2, 29), date(2025, 2, 28), UnitPeriod.YEAR, Fraction(1)),
        # 28 Feb 2023 -> 29 Feb 2024 runs month end to month end: 12 months, a year
        (date(2023, 2, 28), date(2024, 2, 29), UnitPeriod.YEAR, Fraction(1)),
        # 1 Mar 2023 -> 29 Feb 2024: 365 days, not whole months, under a year
        (date(2023, 3, 1), date(2024, 2, 29), UnitPeriod.TERM, Fraction(1)),
    ],
)
def test_single_payment_terms_across_29_february(
    start: date, paid_on: date, unit: UnitPeriod, per_year: Fraction
) -> None:
    assert single_payment_unit(start, paid_on) == (unit, per_year)
