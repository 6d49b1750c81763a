"""Regulation Z Appendix J unit-periods: which one a transaction has, and where each flow falls in it.

12 CFR 1026 Appendix J (b):

* (b)(3) a *period* is the interval between advances or between payments, including the interval from
  the date the finance charge begins to be earned to the first advance or payment after it; a *common
  period* occurs more than once; a *standard interval* is a day, a week, a semimonth, a month, or a
  multiple of a week or of a month up to (not exceeding) one year. Full months run from a date to the
  corresponding date of a later month (to its last day when it has none); other periods are in days.
* (b)(4)(i) the unit-period is the common period, not over a year, that occurs most often; when two
  occur equally often, the smaller; with no common period, the average of all periods rounded to the
  nearest standard interval (the smaller when equally near).
* (b)(4)(ii) a single advance, single payment transaction: the term, but never more than a year.
* (b)(5) counting whole unit-periods back from each flow to the start of the term, the rest a fraction:
  months — days/30; a semimonth or a multiple of a month up to 11 — (30 × whole months + days) divided
  by 15 or 30 × months per unit; days and weeks — days divided by the unit's days; a year — whole years
  back, the rest months/12 when a whole number of months, otherwise days/365; a single advance, single
  payment term under a year is one unit-period with 12/months (whole months) or 365/days a year.
"""

from __future__ import annotations

import itertools
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from fractions import Fraction
from typing import ClassVar

from xiaodai.money.dates import add_half_months, add_months, whole_months_back

DAY = "day"
WEEK = "week"
SEMIMONTH = "semimonth"
MONTH = "month"
TERM = "term"

DAYS_PER_YEAR = 365
_AVERAGE_MONTH_DAYS = Fraction(365, 12)  # only to rank an *average* period against months


@dataclass(frozen=True, slots=True)
class UnitPeriod:
    """A standard interval (``kind`` × ``multiple``), or the term of a single-payment transaction."""

    kind: str
    multiple: int = 1

    MONTH: ClassVar[UnitPeriod]
    SEMIMONTH: ClassVar[UnitPeriod]
    BIWEEK: ClassVar[UnitPeriod]
    WEEK: ClassVar[UnitPeriod]
    FOUR_WEEK: ClassVar[UnitPeriod]
    QUARTER: ClassVar[UnitPeriod]
    YEAR: ClassVar[UnitPeriod]
    DAY: ClassVar[UnitPeriod]
    TERM: ClassVar[UnitPeriod]

    def __post_init__(self) -> None:
        limits = {DAY: DAYS_PER_YEAR, WEEK: 52, SEMIMONTH: 1, MONTH: 12, TERM: 1}
        if self.kind not in limits:
            raise ValueError(f"unknown unit-period kind {self.kind!r}")
        if not 1 <= self.multiple <= limits[self.kind]:
            raise ValueError(f"a {self.kind} unit-period cannot be {self.multiple} long (App J (b)(3))")

    @property
    def value(self) -> str:
        """The name used on the command line and in results: month, 2month, quarter, year, 4week, ..."""
        if self.kind == MONTH:
            return {1: "month", 3: "quarter", 12: "year"}.get(self.multiple, f"{self.multiple}month")
        if self.kind == WEEK:
            return {1: "week", 2: "biweek"}.get(self.multiple, f"{self.multiple}week")
        if self.kind == DAY and self.multiple > 1:
            return f"{self.multiple}day"
        return self.kind

    @property
    def per_year(self) -> Fraction:
        """Unit-periods per year (App J (b)(5)): 12/months, 52/weeks, 24, 365; the term's own is 0 here."""
        if self.kind == MONTH:
            return Fraction(12, self.multiple)
        if self.kind == WEEK:
            return Fraction(52, self.multiple)
        if self.kind == SEMIMONTH:
            return Fraction(24)
        if self.kind == DAY:
            return Fraction(DAYS_PER_YEAR, self.multiple)
        return Fraction(0)

    @property
    def is_year(self) -> bool:
        return self.kind == MONTH and self.multiple == 12

    @classmethod
    def parse(cls, text: str) -> UnitPeriod:
        """month, 2month, quarter, year, semimonth, week, biweek, 4week, 3week, day, term."""
        name = text.strip().lower().replace("-", "").replace("_", "")
        fixed = {
            "month": cls(MONTH),
            "bimonth": cls(MONTH, 2),
            "quarter": cls(MONTH, 3),
            "year": cls(MONTH, 12),
            "semimonth": cls(SEMIMONTH),
            "week": cls(WEEK),
            "biweek": cls(WEEK, 2),
            "day": cls(DAY),
            "term": cls(TERM),
        }
        if name in fixed:
            return fixed[name]
        match = re.fullmatch(r"(\d+)(month|months|week|weeks|day|days)", name)
        if match:
            kinds = {"m": MONTH, "w": WEEK, "d": DAY}
            return cls(kinds[match.group(2)[0]], int(match.group(1)))
        raise ValueError(
            f"unknown unit period {text!r}; expected month|<N>month (N ≤ 12)|quarter|year|semimonth|"
            "week|biweek|<N>week (N ≤ 52)|day|<N>day (N ≤ 365)|term"
        )


UnitPeriod.MONTH = UnitPeriod(MONTH)
UnitPeriod.SEMIMONTH = UnitPeriod(SEMIMONTH)
UnitPeriod.BIWEEK = UnitPeriod(WEEK, 2)
UnitPeriod.WEEK = UnitPeriod(WEEK)
UnitPeriod.FOUR_WEEK = UnitPeriod(WEEK, 4)
UnitPeriod.QUARTER = UnitPeriod(MONTH, 3)
UnitPeriod.YEAR = UnitPeriod(MONTH, 12)
UnitPeriod.DAY = UnitPeriod(DAY)
UnitPeriod.TERM = UnitPeriod(TERM)


def _nominal_days(unit: UnitPeriod) -> Fraction:
    """A unit's length for ranking only (ties, averages): months 365/12 days, a semimonth half of it."""
    if unit.kind == MONTH:
        return _AVERAGE_MONTH_DAYS * unit.multiple
    if unit.kind == SEMIMONTH:
        return _AVERAGE_MONTH_DAYS / 2
    if unit.kind == WEEK:
        return Fraction(7 * unit.multiple)
    return Fraction(unit.multiple)


def _month_index(day: date) -> int:
    return day.year * 12 + day.month - 1


def whole_months_between(earlier: date, later: date) -> int | None:
    """The number of full months from ``earlier`` to ``later`` if the interval is exactly that (App J
    (b)(3)(iv): to the corresponding date, or the month's last day when there is none; a month-end start
    also runs month-end to month-end), else None."""
    months = _month_index(later) - _month_index(earlier)
    if months <= 0:
        return None
    if add_months(earlier, months) == later:
        return months
    if is_month_end(earlier) and add_months(earlier, months, anchor_day=31) == later:
        return months
    return None


def months_back(later: date, earlier: date, *, anchor_day: int | None = None) -> tuple[int, date]:
    """Whole months counted back from ``later`` without passing ``earlier``, and the date reached.

    An interval that is exactly whole months (App J (b)(3)(iv)) counts as such (Jan 28 -> Feb 28 is a
    month); otherwise months are stepped back on ``anchor_day`` (a schedule's due day) or, without one,
    on ``later``'s day, month-end to month-end."""
    exact = whole_months_between(earlier, later)
    if exact is not None:
        return exact, earlier
    return whole_months_back(later, earlier, anchor_day=anchor_day)


def is_month_end(day: date) -> bool:
    return (day + timedelta(days=1)).day == 1


def standard_interval(earlier: date, later: date) -> UnitPeriod | None:
    """The standard interval (App J (b)(3)(iii)) this period is, or None (an odd number of days, or
    longer than a year). Whole months are tried first, then whole weeks, a semimonth, a day."""
    period = period_of(earlier, later)
    if period is None or (period.kind == DAY and period.multiple > 1):
        return None
    return period


def period_of(earlier: date, later: date) -> UnitPeriod | None:
    """What App J (b)(3)(iv) measures this period as: whole months, else days — as a standard interval
    when it is one, else a number of days; None past a year."""
    months = whole_months_between(earlier, later)
    if months is not None:
        return UnitPeriod(MONTH, months) if months <= 12 else None
    days = (later - earlier).days
    if days > 0 and days % 7 == 0 and days // 7 <= 52:
        return UnitPeriod(WEEK, days // 7)
    if add_half_months(earlier, 1) == later:
        return UnitPeriod(SEMIMONTH)
    if 0 < days <= DAYS_PER_YEAR:
        return UnitPeriod(DAY, days)
    return None


def _nearest_standard(days: Fraction) -> UnitPeriod:
    """App J (b)(4)(i)(B): the standard interval nearest an average period; equally near, the smaller."""
    candidates = [
        UnitPeriod(DAY),
        UnitPeriod(SEMIMONTH),
        *(UnitPeriod(WEEK, k) for k in range(1, 53)),
        *(UnitPeriod(MONTH, k) for k in range(1, 13)),
    ]
    return min(candidates, key=lambda u: (abs(_nominal_days(u) - days), _nominal_days(u)))


def periods(
    start: date, advance_dates: Sequence[date], payment_dates: Sequence[date]
) -> list[tuple[date, date]]:
    """Every App J (b)(3)(i) period: between advances, between payments, and from the start of the term
    to the first advance after it and to the first payment."""
    out: list[tuple[date, date]] = []
    for dates in (sorted(set(advance_dates)), sorted(set(payment_dates))):
        if not dates:
            continue
        if dates[0] > start:
            out.append((start, dates[0]))
        out.extend(itertools.pairwise(dates))
    return out


def detect(start: date, advance_dates: Sequence[date], payment_dates: Sequence[date]) -> UnitPeriod:
    """App J (b)(4): the unit-period of a transaction (``TERM`` for a single advance and a single payment;
    the caller caps that at a year)."""
    if len(set(advance_dates)) == 1 and len(set(payment_dates)) == 1:
        return UnitPeriod.TERM
    found = periods(start, advance_dates, payment_dates)
    if not found:
        raise ValueError("the flows have no period between them")
    counts = Counter(u for u in (period_of(a, b) for a, b in found) if u is not None)
    common = {unit: n for unit, n in counts.items() if n > 1}
    if common:
        most = max(common.values())
        return min((u for u, n in common.items() if n == most), key=_nominal_days)
    average = Fraction(sum((b - a).days for a, b in found), len(found))
    return _nearest_standard(average)


def single_payment_unit(start: date, paid_on: date) -> tuple[UnitPeriod, Fraction]:
    """App J (b)(4)(ii), (b)(5)(vi)/(vii): a single advance, single payment transaction. Under a year the
    term is the unit-period (12/months a year when whole months, else 365/days); from a year on, a year."""
    days = (paid_on - start).days
    if days <= 0:
        raise ValueError("the single payment must fall after the advance")
    months = whole_months_between(start, paid_on)
    if months is not None and months < 12:
        return UnitPeriod.TERM, Fraction(12, months)
    if months is None and paid_on < add_months(start, 12):
        return UnitPeriod.TERM, Fraction(DAYS_PER_YEAR, days)
    return UnitPeriod.YEAR, Fraction(1)


def position(
    on: date, origin: date, unit: UnitPeriod, *, anchor_day: int | None = None
) -> tuple[int, Fraction]:
    """(t, f): whole unit-periods counted back from ``on`` towards ``origin``, and the fraction left
    (App J (b)(5)). ``anchor_day`` is a schedule's due day, so a due date clamped to a short month
    (Feb 28 of a loan due on the 31st) still counts back whole months."""
    if on < origin:
        raise ValueError(f"flow on {on} is before the start of the term on {origin}")
    days = (on - origin).days
    if unit.kind == DAY:
        whole, rest = divmod(days, unit.multiple)
        return whole, Fraction(rest, unit.multiple)
    if unit.kind == WEEK:
        whole, rest = divmod(days, 7 * unit.multiple)
        return whole, Fraction(rest, 7 * unit.multiple)
    if unit.kind == TERM:
        raise ValueError("the term unit-period has no positions: it is one unit-period long")
    months, reached = months_back(on, origin, anchor_day=anchor_day)
    odd_days = (reached - origin).days
    if unit.kind == SEMIMONTH:
        whole, rest = divmod(30 * months + odd_days, 15)
        return whole, Fraction(rest, 15)
    if unit.multiple == 1:
        return months, Fraction(odd_days, 30)
    if unit.multiple < 12:
        span = 30 * unit.multiple
        whole, rest = divmod(30 * months + odd_days, span)
        return whole, Fraction(rest, span)
    years, spare_months = divmod(months, 12)
    if odd_days == 0:
        return years, Fraction(spare_months, 12)
    anchor = anchor_day if anchor_day is not None else (31 if is_month_end(on) else on.day)
    year_reached = add_months(on, -12 * years, anchor_day=anchor) if years else on
    return years, Fraction((year_reached - origin).days, DAYS_PER_YEAR)
