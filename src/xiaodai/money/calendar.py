"""China business-day awareness.

Official holiday and adjusted-workday (调休) data comes from the ``chinesecalendar`` package, which only
covers the years the State Council has published (2004–2026 in 1.11). A 24-month loan signed today reaches
2028, so for uncovered years we fall back to "Monday–Friday are business days" and *flag* the answer:
a caller can show that a due date was rolled on a provisional calendar.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, timedelta

import chinese_calendar


class CalendarSource(enum.Enum):
    OFFICIAL = "official"  # State Council schedule, via chinesecalendar
    WEEKEND_FALLBACK = "weekend-fallback"  # year not published yet: weekends only


@dataclass(frozen=True, slots=True)
class BusinessDay:
    day: date
    is_business_day: bool
    source: CalendarSource


class RollConvention(enum.Enum):
    NONE = "none"
    FOLLOWING = "following"  # next business day
    MODIFIED_FOLLOWING = "modified-following"  # next, unless it leaves the month: then previous


_FIRST_YEAR = min(chinese_calendar.holidays).year
_LAST_YEAR = max(chinese_calendar.holidays).year


def source_for(day: date) -> CalendarSource:
    """Whether the official calendar covers ``day``'s year (cheap: no lookup)."""
    return (
        CalendarSource.OFFICIAL if _FIRST_YEAR <= day.year <= _LAST_YEAR else CalendarSource.WEEKEND_FALLBACK
    )


def china_business_day(day: date) -> BusinessDay:
    try:
        working = bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        return BusinessDay(day, day.weekday() < 5, CalendarSource.WEEKEND_FALLBACK)
    return BusinessDay(day, working, CalendarSource.OFFICIAL)


@dataclass(frozen=True, slots=True)
class RolledDate:
    scheduled: date
    rolled: date
    source: CalendarSource  # WEEKEND_FALLBACK if any day inspected was outside the official data

    @property
    def provisional(self) -> bool:
        return self.source is CalendarSource.WEEKEND_FALLBACK


def roll(day: date, convention: RollConvention) -> RolledDate:
    """Move ``day`` to a China business day by ``convention``; flag answers from the fallback."""
    if convention is RollConvention.NONE:
        return RolledDate(day, day, source_for(day))
    fallback = False
    step = timedelta(days=1)
    candidate = day
    for _ in range(60):
        answer = china_business_day(candidate)
        fallback = fallback or answer.source is CalendarSource.WEEKEND_FALLBACK
        if answer.is_business_day:
            break
        candidate += step
    if convention is RollConvention.MODIFIED_FOLLOWING and candidate.month != day.month:
        candidate = day
        for _ in range(60):
            answer = china_business_day(candidate)
            fallback = fallback or answer.source is CalendarSource.WEEKEND_FALLBACK
            if answer.is_business_day:
                break
            candidate -= step
    source = CalendarSource.WEEKEND_FALLBACK if fallback else CalendarSource.OFFICIAL
    return RolledDate(day, candidate, source)
