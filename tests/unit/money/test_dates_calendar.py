from datetime import date
from decimal import Decimal

import pytest

from xiaodai.money.calendar import CalendarSource, RollConvention, china_business_day, roll
from xiaodai.money.dates import add_half_months, add_months, whole_months_back
from xiaodai.money.daycount import DayCount, year_fraction


@pytest.mark.parametrize(
    ("start", "months", "want"),
    [
        (date(2026, 1, 31), 1, date(2026, 2, 28)),
        (date(2028, 1, 31), 1, date(2028, 2, 29)),
        (date(2026, 1, 31), 2, date(2026, 3, 31)),
        (date(2026, 12, 15), 1, date(2027, 1, 15)),
        (date(2026, 3, 31), -1, date(2026, 2, 28)),
    ],
)
def test_add_months_clamps_to_month_end(start: date, months: int, want: date) -> None:
    assert add_months(start, months) == want


def test_anchor_day_restores_after_clamp() -> None:
    assert add_months(date(2026, 2, 28), 1, anchor_day=31) == date(2026, 3, 31)


def test_whole_months_back() -> None:
    assert whole_months_back(date(2024, 3, 25), date(2024, 1, 10)) == (2, date(2024, 1, 25))
    assert whole_months_back(date(2026, 2, 28), date(2026, 1, 31), anchor_day=31) == (1, date(2026, 1, 31))
    assert whole_months_back(date(2026, 2, 5), date(2026, 1, 10)) == (0, date(2026, 2, 5))


def test_semimonths() -> None:
    assert add_half_months(date(1978, 3, 1), 1) == date(1978, 3, 16)
    assert add_half_months(date(1978, 3, 16), 1) == date(1978, 4, 1)
    assert add_half_months(date(1978, 3, 1), -1) == date(1978, 2, 16)


def test_daycount() -> None:
    assert year_fraction(date(2024, 1, 10), date(2024, 2, 25), DayCount.ACT_360) == Decimal(46) / 360
    assert year_fraction(date(2024, 1, 1), date(2025, 1, 1), DayCount.ACT_365L) == 1
    assert DayCount.parse("ACT/365") is DayCount.ACT_365
    with pytest.raises(ValueError, match="unknown day count"):
        DayCount.parse("act/999")


def test_official_china_calendar() -> None:
    national_day = china_business_day(date(2025, 10, 1))
    assert national_day.source is CalendarSource.OFFICIAL
    assert not national_day.is_business_day
    # 2025-09-28 was a Sunday worked in lieu (调休)
    assert china_business_day(date(2025, 9, 28)).is_business_day


def test_fallback_is_flagged_for_unpublished_years() -> None:
    answer = china_business_day(date(2028, 1, 3))
    assert answer.source is CalendarSource.WEEKEND_FALLBACK
    assert answer.is_business_day  # a Monday
    rolled = roll(date(2028, 1, 1), RollConvention.FOLLOWING)  # Saturday
    assert rolled.rolled == date(2028, 1, 3)
    assert rolled.provisional


def test_following_rolls_past_golden_week() -> None:
    rolled = roll(date(2025, 10, 1), RollConvention.FOLLOWING)
    assert rolled.rolled == date(2025, 10, 9)
    assert not rolled.provisional
    modified = roll(date(2025, 5, 31), RollConvention.MODIFIED_FOLLOWING)
    assert modified.rolled.month == 5
