"""Annualised rates from cash flows, in three conventions (RULES.md §1; conformance ``conventions``).

* ``us-regz`` — Regulation Z Appendix J actuarial method. Unit-period rate ``i`` solves
  Σ A_k / ((1+e_k i)(1+i)^q_k) = Σ P_j / ((1+f_j i)(1+i)^t_j); APR = w·i (nominal, not compounded).
  Fractions of a unit-period earn *simple* interest (App. J (b)(6), (b)(8)).
* ``cn`` — PBOC announcement 2021 No. 3: 12 × monthly IRR on the net amount received (单利), plus the
  compound (1+i)^12 − 1 (复利). With an odd first period the monthly IRR follows App J (f = days/30).
  A single-payment loan is annualised simply over its term: finance charge / net × 12/n.
* ``eu`` — Consumer Credit Directive 2008/48/EC Annex I: X solves Σ C_k(1+X)^−t_k = Σ D_l(1+X)^−s_l with
  t in years (equal months = 1/12; odd days /365, or /366 in a leap year, counted backwards);
  disclosed to one decimal, half up (remark (d)).
"""

from __future__ import annotations

import enum
import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from fractions import Fraction

from xiaodai.money.dates import add_half_months, add_months, last_day, whole_months_back
from xiaodai.money.rounding import round_half_up
from xiaodai.pricing.cashflow import Flow, Positioned, YearPositioned, check_sign_change, split_sides
from xiaodai.pricing.irr_fast import periodic_irr
from xiaodai.pricing.solver import NoRateError, bracketed_newton

HUNDRED = Decimal(100)
MAX_FAST_PERIODS = 1200


class Convention(enum.Enum):
    CN = "cn"
    US_REGZ = "us-regz"
    EU = "eu"


class UnitPeriod(enum.Enum):
    """Reg Z App J unit-periods and their per-year counts (w)."""

    MONTH = "month"
    SEMIMONTH = "semimonth"
    BIWEEK = "biweek"
    WEEK = "week"
    FOUR_WEEK = "4week"
    QUARTER = "quarter"
    YEAR = "year"
    TERM = "term"  # single-payment transaction: the unit-period is the term itself

    @property
    def per_year(self) -> Fraction:
        return _PER_YEAR[self]


_PER_YEAR = {
    UnitPeriod.MONTH: Fraction(12),
    UnitPeriod.SEMIMONTH: Fraction(24),
    UnitPeriod.BIWEEK: Fraction(26),
    UnitPeriod.WEEK: Fraction(52),
    UnitPeriod.FOUR_WEEK: Fraction(13),
    UnitPeriod.QUARTER: Fraction(4),
    UnitPeriod.YEAR: Fraction(1),
    UnitPeriod.TERM: Fraction(0),  # set from the term
}
_FIXED_DAYS = {UnitPeriod.WEEK: 7, UnitPeriod.BIWEEK: 14, UnitPeriod.FOUR_WEEK: 28}


def _to_float(value: Decimal | Fraction) -> float:
    return float(value)  # float-ok: rate solving only; money never leaves Decimal


# ---------------------------------------------------------------- the App J equation


def _series(items: Sequence[Positioned]) -> list[tuple[float, int, int, float]]:
    """Compress runs of equal amounts at consecutive t with equal f into (amount, count, t0, f)."""
    runs: list[tuple[float, int, int, float]] = []
    last: Positioned | None = None
    for item in sorted(items, key=lambda p: (p.t, p.f)):
        if (
            runs
            and last is not None
            and item.amount == last.amount
            and item.f == last.f
            and item.t == last.t + 1
        ):
            amount, count, t0, f = runs[-1]
            runs[-1] = (amount, count + 1, t0, f)
        else:
            runs.append((_to_float(item.amount), 1, item.t, _to_float(item.f)))
        last = item
    return runs


def _series_value(runs: list[tuple[float, int, int, float]], i: float) -> tuple[float, float]:
    """Σ amount / ((1+f i)(1+i)^t) over every run, and its derivative in i."""
    total = 0.0
    deriv = 0.0
    v = 1.0 / (1.0 + i)
    for amount, count, t0, f in runs:
        if count == 1 or abs(1.0 - v) < 1e-9:
            s = 0.0
            ds = 0.0  # d/dv
            for t in range(t0, t0 + count):
                vt = v**t
                s += vt
                ds += t * vt / v if t else 0.0
        else:
            a, b = t0, t0 + count - 1
            va, vb1 = v**a, v ** (b + 1)
            one_v = 1.0 - v
            s = (va - vb1) / one_v
            ds = ((a * va / v - (b + 1) * vb1 / v) * one_v + (va - vb1)) / (one_v * one_v)
        simple = 1.0 + f * i
        ds_di = ds * (-v * v)
        total += amount * s / simple
        deriv += amount * (ds_di / simple - s * f / (simple * simple))
    return total, deriv


def solve_unit_rate(advances: Sequence[Positioned], payments: Sequence[Positioned]) -> float:
    """Unit-period rate i of the App J equation (float, ~1e-14)."""
    if not advances or not payments:
        raise NoRateError("cash flows need both an advance and a payment")
    last = max(p.t for p in (*advances, *payments))
    if last <= MAX_FAST_PERIODS and all(p.f == 0 for p in (*advances, *payments)):
        # whole unit-periods only: the equally spaced fast path (same equation, no fractions)
        amounts = [0.0] * (last + 1)
        for p in payments:
            amounts[p.t] += _to_float(p.amount)
        for a in advances:
            amounts[a.t] -= _to_float(a.amount)
        return periodic_irr(amounts)
    adv = _series(advances)
    pay = _series(payments)

    def objective(i: float) -> tuple[float, float]:
        pv_pay, d_pay = _series_value(pay, i)
        pv_adv, d_adv = _series_value(adv, i)
        return pv_pay - pv_adv, d_pay - d_adv

    total_paid = sum(p.amount for p in payments)
    total_adv = sum(a.amount for a in advances)
    span = max(1, *(p.t for p in payments))
    guess = _to_float((total_paid - total_adv) / total_adv) / span * 2 if total_adv else 0.01
    guess = min(max(guess, -0.5), 5.0)
    return bracketed_newton(objective, guess=guess)


# ---------------------------------------------------------------- positioning dated flows


def detect_unit_period(flows: Sequence[Flow]) -> UnitPeriod:
    """App J (b)(3): the most common interval between payments; a single payment makes it the term."""
    _advances, payments = split_sides(list(flows))
    dates = sorted({p.on for p in payments})
    if len(dates) <= 1:
        return UnitPeriod.TERM
    counts: dict[UnitPeriod, int] = {}
    for earlier, later in itertools.pairwise(dates):
        unit = _classify_interval(earlier, later)
        counts[unit] = counts.get(unit, 0) + 1
    order = [
        UnitPeriod.WEEK,
        UnitPeriod.BIWEEK,
        UnitPeriod.SEMIMONTH,
        UnitPeriod.FOUR_WEEK,
        UnitPeriod.MONTH,
        UnitPeriod.QUARTER,
        UnitPeriod.YEAR,
    ]
    best = max(counts.values())
    # ties go to the shorter unit-period
    return next(u for u in order if counts.get(u) == best)


def _classify_interval(earlier: date, later: date) -> UnitPeriod:
    days = (later - earlier).days
    for months, unit in ((12, UnitPeriod.YEAR), (3, UnitPeriod.QUARTER), (1, UnitPeriod.MONTH)):
        if add_months(earlier, months) == later or (
            _is_month_end(earlier) and add_months(earlier, months, anchor_day=31) == later
        ):
            return unit
    if add_half_months(earlier, 1) == later:
        return UnitPeriod.SEMIMONTH
    if days == 7:
        return UnitPeriod.WEEK
    if days == 14:
        return UnitPeriod.BIWEEK
    if days == 28:
        return UnitPeriod.FOUR_WEEK
    # nearest by length
    candidates = [
        (abs(days - 7), UnitPeriod.WEEK),
        (abs(days - 14), UnitPeriod.BIWEEK),
        (abs(days - 15.2), UnitPeriod.SEMIMONTH),
        (abs(days - 28), UnitPeriod.FOUR_WEEK),
        (abs(days - 30.4), UnitPeriod.MONTH),
        (abs(days - 91.3), UnitPeriod.QUARTER),
        (abs(days - 365), UnitPeriod.YEAR),
    ]
    return min(candidates, key=lambda c: c[0])[1]


def _is_month_end(day: date) -> bool:
    return day.day == last_day(day.year, day.month)


def position(
    on: date, origin: date, unit: UnitPeriod, *, anchor_day: int | None = None
) -> tuple[int, Fraction]:
    """(t, f) of ``on`` measured back to ``origin`` in whole unit-periods plus a fraction (App J (b)(5))."""
    if on < origin:
        raise ValueError(f"flow on {on} is before the first advance on {origin}")
    if unit in (UnitPeriod.MONTH, UnitPeriod.QUARTER, UnitPeriod.YEAR):
        months, reached = whole_months_back(on, origin, anchor_day=anchor_day)
        per = {UnitPeriod.MONTH: 1, UnitPeriod.QUARTER: 3, UnitPeriod.YEAR: 12}[unit]
        whole, spare_months = divmod(months, per)
        days = (reached - origin).days
        if unit is UnitPeriod.MONTH:
            return whole, Fraction(days, 30)
        if unit is UnitPeriod.QUARTER:
            return whole, Fraction(spare_months * 30 + days, 90)
        return whole, Fraction(spare_months * 30 + days, 360) if spare_months else Fraction(days, 365)
    if unit is UnitPeriod.SEMIMONTH:
        halves = 0
        while add_half_months(on, -(halves + 1)) >= origin:
            halves += 1
        reached = add_half_months(on, -halves) if halves else on
        return halves, Fraction((reached - origin).days, 15)
    if unit in _FIXED_DAYS:
        whole, days = divmod((on - origin).days, _FIXED_DAYS[unit])
        return whole, Fraction(days, _FIXED_DAYS[unit])
    raise ValueError(f"cannot position by unit-period {unit.value}")


@dataclass(frozen=True, slots=True)
class AppJSeries:
    advances: list[Positioned]
    payments: list[Positioned]
    per_year: Fraction
    unit: UnitPeriod


def appj_series(
    flows: Sequence[Flow], unit: UnitPeriod | None = None, *, anchor_day: int | None = None
) -> AppJSeries:
    check_sign_change(list(flows))
    chosen = unit or detect_unit_period(flows)
    advances, payments = split_sides(list(flows))
    origin = min(a.on for a in advances)
    if chosen is UnitPeriod.TERM:
        last = max(p.on for p in payments)
        months, reached = whole_months_back(last, origin, anchor_day=anchor_day)
        if reached == origin and months > 0:
            per_year = Fraction(12, months)
        else:
            per_year = Fraction(365, max(1, (last - origin).days))
        adv = [Positioned(a.amount, 0 if a.on == origin else 1, Fraction(0)) for a in advances]
        pay = [
            Positioned(
                p.amount,
                1 if p.on == last else 0,
                Fraction(0) if p.on == last else Fraction((p.on - origin).days, max(1, (last - origin).days)),
            )
            for p in payments
        ]
        return AppJSeries(adv, pay, per_year, chosen)

    def place(items: list[Flow]) -> list[Positioned]:
        placed = []
        for item in items:
            t, f = position(item.on, origin, chosen, anchor_day=anchor_day)
            placed.append(Positioned(item.amount, t, f))
        return placed

    return AppJSeries(place(advances), place(payments), chosen.per_year, chosen)


# ---------------------------------------------------------------- results


@dataclass(frozen=True, slots=True)
class RateResult:
    convention: Convention
    unit: str  # unit-period used (or "year" for EU)
    periodic_rate: Decimal  # unit-period rate (fraction), or X for EU
    apr_percent: Decimal  # the headline annual figure in percent, unrounded (~10 dp)
    ear_percent: Decimal | None = None  # CN compound figure
    aprc_percent: Decimal | None = None  # EU disclosed to 1 dp, half up
    per_year: Fraction = Fraction(12)


def _dec(x: float) -> Decimal:
    return Decimal(repr(x))


def _pct(x: Decimal) -> Decimal:
    return round_half_up(x * HUNDRED, 10)


def apr_from_series(series: AppJSeries) -> RateResult:
    i = solve_unit_rate(series.advances, series.payments)
    rate = _dec(i)
    per_year = Decimal(series.per_year.numerator) / Decimal(series.per_year.denominator)
    return RateResult(
        Convention.US_REGZ, series.unit.value, rate, _pct(rate * per_year), per_year=series.per_year
    )


def apr_regz(
    flows: Sequence[Flow], unit: UnitPeriod | None = None, *, anchor_day: int | None = None
) -> RateResult:
    return apr_from_series(appj_series(flows, unit, anchor_day=anchor_day))


def cn_from_series(monthly: AppJSeries) -> RateResult:
    """CN figures from flows positioned in months (t whole months, f = days/30)."""
    i = solve_unit_rate(monthly.advances, monthly.payments)
    rate = _dec(i)
    ear = _pct(_dec(math.expm1(12 * math.log1p(i))))
    payment_times = {(p.t, p.f) for p in monthly.payments}
    if (
        len(payment_times) == 1
        and len(monthly.advances) == 1
        and monthly.advances[0].t == 0
        and monthly.advances[0].f == 0
    ):
        # single payment: simple annualisation over the term (PBOC figure; App J unit-period = term)
        ((t, f),) = payment_times
        months = Decimal(t) + Decimal(f.numerator) / Decimal(f.denominator)
        charge = sum((p.amount for p in monthly.payments), Decimal(0)) - monthly.advances[0].amount
        apr = charge / monthly.advances[0].amount * 12 / months
        return RateResult(Convention.CN, "term", rate, _pct(apr), ear_percent=ear, per_year=Fraction(12))
    return RateResult(Convention.CN, UnitPeriod.MONTH.value, rate, _pct(rate * 12), ear_percent=ear)


def apr_cn(flows: Sequence[Flow], *, anchor_day: int | None = None) -> RateResult:
    return cn_from_series(appj_series(flows, UnitPeriod.MONTH, anchor_day=anchor_day))


def solve_years(drawdowns: Sequence[YearPositioned], payments: Sequence[YearPositioned]) -> float:
    """X of Σ D (1+X)^-s = Σ P (1+X)^-t (EU Annex I)."""
    if not drawdowns or not payments:
        raise NoRateError("cash flows need both a drawdown and a payment")
    pay = [(_to_float(p.amount), _to_float(p.t_years)) for p in payments]
    adv = [(_to_float(d.amount), _to_float(d.t_years)) for d in drawdowns]

    def objective(x: float) -> tuple[float, float]:
        log1p = math.log1p(x)
        g = 0.0
        dg = 0.0
        for amount, t in pay:
            d = math.exp(-t * log1p)
            g += amount * d
            dg -= amount * t * d / (1 + x)
        for amount, t in adv:
            d = math.exp(-t * log1p)
            g -= amount * d
            dg += amount * t * d / (1 + x)
        return g, dg

    return bracketed_newton(objective, guess=0.1)


def aprc_from_years(drawdowns: Sequence[YearPositioned], payments: Sequence[YearPositioned]) -> RateResult:
    x = _dec(solve_years(drawdowns, payments))
    return RateResult(
        Convention.EU, "year", x, _pct(x), aprc_percent=round_half_up(x * HUNDRED, 1), per_year=Fraction(1)
    )


def eu_years(
    on: date, origin: date, *, leap_years: bool = False, by_days: bool = False, anchor_day: int | None = None
) -> Fraction:
    """Time in years per Annex I remark (c): whole months /12, then odd days counted backwards /365 (/366)."""
    if by_days:
        return Fraction((on - origin).days, 365)
    months, reached = whole_months_back(on, origin, anchor_day=anchor_day)
    days = (reached - origin).days
    year_days = 365
    if leap_years and days:
        # the complete year counted backwards from the end of the odd-day stretch
        year_back = add_months(reached, -12)
        year_days = (reached - year_back).days
    return Fraction(months, 12) + Fraction(days, year_days)


def aprc_eu(
    flows: Sequence[Flow], *, leap_years: bool = False, by_days: bool = False, anchor_day: int | None = None
) -> RateResult:
    check_sign_change(list(flows))
    advances, payments = split_sides(list(flows))
    origin = min(a.on for a in advances)

    def place(items: list[Flow]) -> list[YearPositioned]:
        return [
            YearPositioned(
                x.amount,
                eu_years(x.on, origin, leap_years=leap_years, by_days=by_days, anchor_day=anchor_day),
            )
            for x in items
        ]

    return aprc_from_years(place(advances), place(payments))


def xirr_act365_percent(flows: Sequence[Flow]) -> Decimal:
    """Effective annual rate with t = actual days / 365 (Excel XIRR / pyxirr convention)."""
    result = aprc_eu(flows, by_days=True)
    return result.apr_percent
