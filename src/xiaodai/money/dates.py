"""Month arithmetic for due dates: same day each month, clamped to month end (Jan 31 -> Feb 28/29)."""

from __future__ import annotations

import calendar
from datetime import date

_DAYS = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def last_day(year: int, month: int) -> int:
    if month == 2 and calendar.isleap(year):
        return 29
    return _DAYS[month - 1]


def is_month_end(day: date) -> bool:
    return day.day == last_day(day.year, day.month)


def add_months(start: date, months: int, *, anchor_day: int | None = None) -> date:
    """``start`` moved by ``months`` (negative allowed), on ``anchor_day`` (default start.day), clamped."""
    anchor = anchor_day if anchor_day is not None else start.day
    index = start.year * 12 + (start.month - 1) + months
    year, month0 = divmod(index, 12)
    month = month0 + 1
    return date(year, month, min(anchor, last_day(year, month)))


def add_half_months(day: date, halves: int) -> date:
    """Semimonthly stepping used by Reg Z App J: the 1st<->16th, day d <-> d±15 within a month pair."""
    result = day
    step = 1 if halves > 0 else -1
    for _ in range(abs(halves)):
        if step < 0:
            if result.day > 15:
                result = result.replace(day=result.day - 15)
            else:
                result = add_months(result, -1, anchor_day=min(result.day + 15, 31))
        elif result.day <= 15:
            result = result.replace(day=min(result.day + 15, last_day(result.year, result.month)))
        else:
            result = add_months(result, 1, anchor_day=result.day - 15)
    return result


def whole_months_back(later: date, earlier: date, *, anchor_day: int | None = None) -> tuple[int, date]:
    """Count whole months back from ``later`` without passing ``earlier``.

    Returns (months, the date reached). With an ``anchor_day`` (the schedule's due day), a clamped
    due date such as Feb 28 of a loan due on the 31st counts back to Jan 31. Without one, a
    month-end date counts back month-end to month-end.
    """
    if later < earlier:
        raise ValueError(f"{later} is before {earlier}")
    anchor = anchor_day
    if anchor is None:
        anchor = 31 if is_month_end(later) else later.day
    months = max(0, (later.year - earlier.year) * 12 + later.month - earlier.month)
    while months and add_months(later, -months, anchor_day=anchor) < earlier:
        months -= 1
    reached = add_months(later, -months, anchor_day=anchor) if months else later
    return months, reached
