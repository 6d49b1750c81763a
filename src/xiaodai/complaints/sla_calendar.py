"""Holiday calendars for the Art. 203 deadline roll: official China statutory holidays, or a fixed list."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Protocol

from xiaodai.money.calendar import CalendarSource, china_business_day

ONE_DAY = timedelta(days=1)


class HolidayCalendar(Protocol):
    def is_holiday(self, day: date) -> bool:
        """True if ``day`` is a statutory holiday (法定节假日) for the Art. 203 roll."""
        ...

    def is_provisional(self, day: date) -> bool:
        """True if the answer for ``day`` comes from a fallback rather than published data."""
        ...


@dataclass(frozen=True, slots=True)
class FixedHolidayCalendar:
    """Exactly the holidays given (e.g. a scenario's ``holiday_calendar``); nothing else rolls."""

    days: frozenset[date]

    def is_holiday(self, day: date) -> bool:
        return day in self.days

    def is_provisional(self, day: date) -> bool:
        return False


@dataclass(frozen=True, slots=True)
class ChinaStatutoryHolidays:
    """Statutory holidays from the official calendar (``xiaodai.money.calendar.china_business_day``).

    A day is a holiday if it is an official non-working weekday, or a non-working weekend day inside a run
    of non-working days that contains such a weekday (e.g. Sat 3 Oct inside 1-7 Oct). A plain weekend is
    not a holiday: the Art. 203 roll is about 节假日. Years the State Council has not published yet fall back
    to weekends only — no holidays at all — and are flagged provisional.
    """

    max_scan: int = 10

    def is_holiday(self, day: date) -> bool:
        if china_business_day(day).is_business_day:
            return False
        if day.weekday() < 5:
            return True
        return any(d.weekday() < 5 for d in self._run(day, -1)) or any(
            d.weekday() < 5 for d in self._run(day, 1)
        )

    def _run(self, day: date, step: int) -> Iterator[date]:
        for i in range(1, self.max_scan + 1):
            other = day + step * i * ONE_DAY
            if china_business_day(other).is_business_day:
                return
            yield other

    def is_provisional(self, day: date) -> bool:
        return china_business_day(day).source is CalendarSource.WEEKEND_FALLBACK
