"""Annualised rates from cash flows, in three conventions (RULES.md §1; conformance ``conventions``).

* ``us-regz`` — Regulation Z Appendix J actuarial method. Unit-period rate ``i`` solves
  Σ A_k / ((1+e_k i)(1+i)^q_k) = Σ P_j / ((1+f_j i)(1+i)^t_j); APR = w·i (nominal, not compounded).
  Fractions of a unit-period earn *simple* interest (App. J (b)(6), (b)(8)). Which unit-period, and
  where each flow falls in it: ``pricing/unit_period.py`` (App J (b)(3)-(b)(5)).
* ``cn`` — PBOC announcement 2021 No. 3: 12 × monthly IRR on the net amount received (单利), plus the
  compound (1+i)^12 − 1 (复利). With an odd first period the monthly IRR follows App J (f = days/30).
  A single-payment loan is annualised simply over its term: finance charge / net × 12/n.
* ``eu`` — Consumer Credit Directive 2008/48/EC Annex I: X solves Σ C_k(1+X)^−t_k = Σ D_l(1+X)^−s_l with
  t in years (equal months = 1/12, weeks = 1/52 or whole years, counted back; then the odd days over
  the days of the complete year counted back from the last of them, 365 or 366: ``eu_years``);
  disclosed to one decimal, half up (remark (d)).
"""

from __future__ import annotations

import enum
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction

from xiaodai.money.dates import add_months
from xiaodai.money.rounding import round_half_up
from xiaodai.pricing.cashflow import Flow, Positioned, YearPositioned, check_sign_change, split_sides
from xiaodai.pricing.irr_fast import periodic_irr
from xiaodai.pricing.solver import NoRateError, bracketed_newton
from xiaodai.pricing.unit_period import (
    UnitPeriod,
    detect,
    is_month_end,
    months_back,
    position,
    single_payment_unit,
)

HUNDRED = Decimal(100)
MAX_FAST_PERIODS = 1200


class Convention(enum.Enum):
    CN = "cn"
    US_REGZ = "us-regz"
    EU = "eu"


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


@dataclass(frozen=True, slots=True)
class AppJSeries:
    advances: list[Positioned]
    payments: list[Positioned]
    per_year: Fraction
    unit: UnitPeriod


def appj_series(
    flows: Sequence[Flow], unit: UnitPeriod | None = None, *, anchor_day: int | None = None
) -> AppJSeries:
    """Place dated flows in App J unit-periods (``unit`` given, or detected by App J (b)(4))."""
    check_sign_change(list(flows))
    advances, payments = split_sides(list(flows))
    origin = min(a.on for a in advances)
    chosen = unit or detect(origin, [a.on for a in advances], [p.on for p in payments])
    if chosen == UnitPeriod.TERM:
        if len({a.on for a in advances}) != 1 or len({p.on for p in payments}) != 1:
            raise ValueError("the term unit-period needs one advance and one payment (App J (b)(4)(ii))")
        chosen, per_year = single_payment_unit(origin, payments[0].on)
        if chosen == UnitPeriod.TERM:
            adv = [Positioned(a.amount, 0, Fraction(0)) for a in advances]
            pay = [Positioned(p.amount, 1, Fraction(0)) for p in payments]
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


class EuStep(enum.Enum):
    """The equal period counted back first under Annex I remark (c): 12 equal months, 52 weeks or a year."""

    MONTH = "month"
    WEEK = "week"
    YEAR = "year"


def complete_year_days(last_day: date) -> int:
    """Days of the complete year counted back from ``last_day`` to the same day of the previous year
    (366 when that year holds a 29 February; from a 29 February back to the 28th)."""
    return (last_day - add_months(last_day, -12)).days


def eu_years(
    on: date,
    origin: date,
    *,
    step: EuStep = EuStep.MONTH,
    leap_years: bool = True,
    by_days: bool = False,
    anchor_day: int | None = None,
) -> Fraction:
    """Time from ``origin`` to ``on`` in years (Directive 2014/17/EU Annex I (c), the CCD's Annex I (c)):
    equal periods (months = 1/12, weeks = 1/52, or whole years) counted back from ``on``, then the days
    left, every day counted, divided by the days of the complete year counted back from the last of them
    (365, or 366 across a 29 February; ``leap_years=False`` always 365). ``by_days``: actual days / 365
    throughout (the 1998 directive's examples, Excel XIRR)."""
    if by_days:
        return Fraction((on - origin).days, 365)
    if step is EuStep.WEEK:
        weeks, _ = divmod((on - origin).days, 7)
        whole = Fraction(weeks, 52)
        reached = on - timedelta(days=7 * weeks)
    else:
        months, reached = months_back(on, origin, anchor_day=anchor_day)
        if step is EuStep.YEAR:
            years, spare = divmod(months, 12)
            whole = Fraction(years)
            if spare:  # count back whole years only; the spare months become days
                anchor = anchor_day if anchor_day is not None else (31 if is_month_end(on) else on.day)
                reached = add_months(on, -12 * years, anchor_day=anchor) if years else on
        else:
            whole = Fraction(months, 12)
    days = (reached - origin).days
    if not days:
        return whole
    return whole + Fraction(days, complete_year_days(reached) if leap_years else 365)


def aprc_eu(
    flows: Sequence[Flow],
    *,
    step: EuStep = EuStep.MONTH,
    leap_years: bool = True,
    by_days: bool = False,
    anchor_day: int | None = None,
) -> RateResult:
    check_sign_change(list(flows))
    advances, payments = split_sides(list(flows))
    origin = min(a.on for a in advances)

    def place(items: list[Flow]) -> list[YearPositioned]:
        return [
            YearPositioned(
                x.amount,
                eu_years(
                    x.on, origin, step=step, leap_years=leap_years, by_days=by_days, anchor_day=anchor_day
                ),
            )
            for x in items
        ]

    return aprc_from_years(place(advances), place(payments))


def xirr_act365_percent(flows: Sequence[Flow]) -> Decimal:
    """Effective annual rate with t = actual days / 365 (Excel XIRR / pyxirr convention)."""
    result = aprc_eu(flows, by_days=True)
    return result.apr_percent
