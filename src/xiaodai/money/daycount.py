"""Day-count conventions: an explicit enum, never a hidden default."""

from __future__ import annotations

import enum
from datetime import date
from decimal import Decimal


class DayCount(enum.Enum):
    ACT_360 = "act/360"
    ACT_365 = "act/365"
    ACT_365L = "act/365l"  # 366 when the period contains 29 February
    THIRTY_360 = "30/360"

    @classmethod
    def parse(cls, text: str) -> DayCount:
        for member in cls:
            if member.value == text.strip().lower():
                return member
        allowed = ", ".join(m.value for m in cls)
        raise ValueError(f"unknown day count {text!r}; expected one of {allowed}")


def days_between(start: date, end: date, convention: DayCount) -> int:
    """Days counted by the convention (first day excluded, last included)."""
    if convention is DayCount.THIRTY_360:
        d1 = min(start.day, 30)
        d2 = 30 if (end.day == 31 and d1 == 30) else end.day
        return 360 * (end.year - start.year) + 30 * (end.month - start.month) + (d2 - d1)
    return (end - start).days


def year_fraction(start: date, end: date, convention: DayCount) -> Decimal:
    days = Decimal(days_between(start, end, convention))
    if convention in (DayCount.ACT_360, DayCount.THIRTY_360):
        return days / 360
    if convention is DayCount.ACT_365:
        return days / 365
    return days / (366 if _contains_feb29(start, end) else 365)


def _contains_feb29(start: date, end: date) -> bool:
    for year in range(start.year, end.year + 1):
        if year % 4 == 0 and (year % 100 != 0 or year % 400 == 0):
            leap_day = date(year, 2, 29)
            if start < leap_day <= end:
                return True
    return False
