"""Early repayment: a payoff quote for any date and re-amortisation after a partial prepayment.

Interest is owed only for the days actually used (民法典 Art. 677): for the instalment period that is
running on the payoff date, the scheduled interest is pro-rated by days elapsed / days in the period.
No prepayment fee unless the product discloses one.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from xiaodai.money.daycount import DayCount
from xiaodai.pricing.fees import FeeSchedule
from xiaodai.pricing.schedule import LoanTerms, Method, annuity_payment, build_schedule
from xiaodai.servicing.accrual import prorated_fen


class PrepayMode(enum.Enum):
    SHORTEN_TERM = "shorten-term"  # keep the instalment, finish earlier
    LOWER_INSTALMENT = "lower-instalment"  # keep the end date, pay less each month


@dataclass(frozen=True, slots=True)
class PeriodView:
    """What the payoff needs to know about one instalment (integer fen)."""

    period: int
    start_on: date  # the period's accrual start (previous due date or disbursement)
    due_on: date
    principal_fen: int
    interest_fen: int
    fee_fen: int
    billed: bool
    paid_principal_fen: int
    paid_interest_fen: int
    paid_fee_fen: int


@dataclass(frozen=True, slots=True)
class PayoffQuote:
    on: date
    principal_fen: int
    interest_fen: int  # billed unpaid + days used in the running period
    fees_fen: int  # billed unpaid fees + the running period's fee for the days used
    penalties_fen: int
    prepayment_fee_fen: int
    overpayment_credit_fen: int

    @property
    def total_fen(self) -> int:
        return max(
            0,
            self.principal_fen
            + self.interest_fen
            + self.fees_fen
            + self.penalties_fen
            + self.prepayment_fee_fen
            - self.overpayment_credit_fen,
        )


def payoff_quote(
    periods: Sequence[PeriodView],
    *,
    on: date,
    penalties_fen: int,
    overpayment_fen: int,
    prepayment_fee_fen: int = 0,
) -> PayoffQuote:
    principal = sum(p.principal_fen - p.paid_principal_fen for p in periods)
    interest = 0
    fees = 0
    for p in periods:
        if p.billed:
            interest += p.interest_fen - p.paid_interest_fen
            fees += p.fee_fen - p.paid_fee_fen
        elif p.start_on < on:
            # the running period (or an unbilled one already reached): only the days used
            used = (on - p.start_on).days
            span = (p.due_on - p.start_on).days
            interest += prorated_fen(p.interest_fen, used, span) - p.paid_interest_fen
            fees += prorated_fen(p.fee_fen, used, span) - p.paid_fee_fen
    return PayoffQuote(
        on, principal, max(0, interest), max(0, fees), penalties_fen, prepayment_fee_fen, overpayment_fen
    )


@dataclass(frozen=True, slots=True)
class NewInstalment:
    period: int
    due_on: date
    principal_fen: int
    interest_fen: int
    fee_fen: int


def reschedule(
    *,
    balance_fen: int,
    on: date,
    next_due_on: date,
    remaining_periods: int,
    annual_rate: Decimal,
    method: Method,
    mode: PrepayMode,
    current_payment_fen: int,
    monthly_fee_fen: int,
    first_period_number: int,
    odd_period_daycount: DayCount = DayCount.ACT_360,
) -> list[NewInstalment]:
    """Re-amortise ``balance_fen`` from ``on`` with the first due date kept; interest of the broken first
    period by the product day count. SHORTEN_TERM keeps the instalment and drops periods at the end."""
    if balance_fen <= 0:
        return []
    periods = remaining_periods
    if mode is PrepayMode.SHORTEN_TERM and method is Method.EQUAL_INSTALLMENT:
        balance = Decimal(balance_fen) / 100
        r = annual_rate / 12
        target = Decimal(max(current_payment_fen - monthly_fee_fen, 1)) / 100
        periods = 1
        while periods < remaining_periods and annuity_payment(balance, r, periods) > target:
            periods += 1
    elif mode is PrepayMode.SHORTEN_TERM and method in (Method.EQUAL_PRINCIPAL, Method.FLAT_FEE):
        step = max(current_payment_fen, 1)
        periods = min(remaining_periods, max(1, -(-balance_fen // step)))
    fees = FeeSchedule(monthly_fixed=Decimal(monthly_fee_fen) / 100)
    start = on if on < next_due_on else next_due_on
    terms = LoanTerms(
        principal=Decimal(balance_fen) / 100,
        term=periods,
        method=method,
        annual_rate=annual_rate,
        start_on=start,
        first_due_on=next_due_on if start < next_due_on else None,
        fees=fees,
        odd_period_daycount=odd_period_daycount,
    )
    schedule = build_schedule(terms)
    return [
        NewInstalment(
            first_period_number + row.period - 1,
            row.due_on,
            _fen(row.principal),
            _fen(row.interest),
            _fen(row.fee),
        )
        for row in schedule.rows
    ]


def _fen(amount: Decimal) -> int:
    return int(amount * 100)
