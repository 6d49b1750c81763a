"""The 随借随还 daily plan (pure): interest accrues each day on the outstanding principal at a daily rate;
any amount may be repaid on any day (interest first, then principal), with no prepayment fee.

The daily rate is the annual rate over 360 (ACT/360, ``DayCount.ACT_360``: 日利率 = 年利率 / 360, the
Chinese banking convention). The KFS headline is the IRR-based annual rate that ``pricing.apr.apr_cn``
computes from the plan's own cash flows; ``annual_from_daily`` is the inverse of ``daily_rate``, and
``plan_flows`` gives the flows a test feeds to pricing's IRR code to check that the two agree.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

from xiaodai.money.daycount import DayCount
from xiaodai.pricing.cashflow import Flow

DAYCOUNT = DayCount.ACT_360
DAYS_PER_YEAR = 360


def daily_rate(annual_rate: Decimal) -> Fraction:
    """The exact daily rate (a fraction: 0.12 / 360 does not terminate in decimal)."""
    return Fraction(annual_rate) / DAYS_PER_YEAR


def daily_rate_percent(annual_rate: Decimal, places: int = 4) -> Decimal:
    """For display only (after the annual rate, never more prominent): e.g. 0.0333 (% per day)."""
    value = daily_rate(annual_rate) * 100
    return (Decimal(value.numerator) / Decimal(value.denominator)).quantize(
        Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP
    )


def annual_from_daily(rate: Fraction) -> Decimal:
    value = rate * DAYS_PER_YEAR
    return Decimal(value.numerator) / Decimal(value.denominator)


def interest_fen(balance_fen: int, annual_rate: Decimal, days: int) -> int:
    """Interest on ``balance_fen`` for ``days`` days, half up to the fen, in exact arithmetic."""
    if days < 0 or balance_fen < 0:
        raise ValueError("days and balance are not negative")
    exact = Fraction(balance_fen) * daily_rate(annual_rate) * days
    whole, rest = divmod(exact.numerator, exact.denominator)
    return whole + (1 if 2 * rest >= exact.denominator else 0)


@dataclass(frozen=True, slots=True)
class Repayment:
    on: date
    amount_fen: int


@dataclass(frozen=True, slots=True)
class PlanStep:
    on: date
    paid_fen: int
    interest_fen: int
    principal_fen: int
    balance_fen: int


class PlanError(ValueError):
    pass


def run_plan(
    principal_fen: int, annual_rate: Decimal, start_on: date, repayments: Sequence[Repayment]
) -> list[PlanStep]:
    """Apply ``repayments`` (in date order) to a draw of ``principal_fen`` on ``start_on``: each pays the
    interest accrued since the last repayment, then principal. Paying more than is owed is refused."""
    balance, last, steps = principal_fen, start_on, []
    for item in repayments:
        if item.on < last:
            raise PlanError("repayments are in date order, not before the draw")
        accrued = interest_fen(balance, annual_rate, (item.on - last).days)
        if item.amount_fen <= 0 or item.amount_fen > balance + accrued:
            raise PlanError(f"a repayment is between 0.01 and what is owed ({balance + accrued} fen)")
        interest = min(accrued, item.amount_fen)
        if interest < accrued:
            raise PlanError("a repayment covers at least the interest accrued")
        principal = item.amount_fen - interest
        balance -= principal
        last = item.on
        steps.append(PlanStep(item.on, item.amount_fen, interest, principal, balance))
    return steps


def plan_flows(principal_fen: int, start_on: date, steps: Sequence[PlanStep]) -> list[Flow]:
    """The borrower's cash flows: the draw (received) and every repayment (paid), in CNY."""
    flows = [Flow(start_on, -Decimal(principal_fen) / 100)]
    flows += [Flow(s.on, Decimal(s.paid_fen) / 100) for s in steps]
    return flows


def payoff_on(principal_fen: int, annual_rate: Decimal, start_on: date, days: int) -> Repayment:
    """The one repayment that settles a draw ``days`` after it was made."""
    return Repayment(
        start_on + timedelta(days=days), principal_fen + interest_fen(principal_fen, annual_rate, days)
    )
