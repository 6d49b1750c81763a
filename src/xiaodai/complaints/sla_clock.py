"""The regulatory clock: the deadline day of a period (excluded days, holiday roll), local days and ends of
day, and the escalation level of an open complaint."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from xiaodai.complaints.sla_calendar import ONE_DAY, HolidayCalendar

_END_OF_DAY = time(23, 59, 59)
_MAX_HOLIDAY_RUN = 366  # a supplied calendar longer than this would be a data error


def deadline_day(
    start: date,
    days: int,
    excluded: frozenset[date],
    calendar: HolidayCalendar,
    holiday_roll: bool = True,
) -> tuple[date, bool]:
    """Last day of a ``days``-day period from ``start`` (not counted), skipping ``excluded`` days, rolled
    past a holiday run; with whether any day inspected for the roll was provisional."""
    day, counted = start, 0
    while counted < days:
        day += ONE_DAY
        if day not in excluded:
            counted += 1
    if not holiday_roll:
        return day, False
    provisional = calendar.is_provisional(day)
    for _ in range(_MAX_HOLIDAY_RUN):
        if not calendar.is_holiday(day):
            return day, provisional
        day += ONE_DAY
        provisional = provisional or calendar.is_provisional(day)
    raise ValueError(f"holiday run longer than {_MAX_HOLIDAY_RUN} days after {start}")


def local_day(t: datetime, zone: ZoneInfo) -> date:
    return t.astimezone(zone).date()


def end_of_day_at(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, _END_OF_DAY, tzinfo=zone)


def escalation_level(
    first_day: date, last_day: date, zone: ZoneInfo, as_of: datetime, thresholds: Sequence[tuple[str, float]]
) -> str | None:
    """Share of [00:00 of ``first_day``, 24:00 of ``last_day``) elapsed at ``as_of`` (real time, in UTC)."""
    start = datetime.combine(first_day, time(0), tzinfo=zone).astimezone(UTC)
    end = datetime.combine(last_day + ONE_DAY, time(0), tzinfo=zone).astimezone(UTC)
    now = as_of.astimezone(UTC)
    if now >= end:
        return "breached"
    fraction = (now - start) / (end - start)
    level = None
    for name, threshold in thresholds:
        if fraction >= threshold:
            level = name
    return level
