"""Repayment schedules (RULES.md §1; conformance ``conventions.schedules``).

Per-period ROUND_HALF_UP to 0.01; the remainder goes on the last instalment so the last balance is 0.
Monthly rate r = annual / 12 exactly. Odd first period: interest for the broken period at
annual / days-in-year per day (ACT/360 by default, an explicit product parameter).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from xiaodai.money.calendar import RollConvention, roll
from xiaodai.money.dates import add_months
from xiaodai.money.daycount import DayCount, year_fraction
from xiaodai.money.money import MoneyError, to_decimal
from xiaodai.money.rounding import Rounding, round_money
from xiaodai.pricing.fees import FeeSchedule

ZERO = Decimal(0)
RULE = Rounding.HALF_UP_CENT


class Method(enum.Enum):
    EQUAL_INSTALLMENT = "equal-installment"  # 等额本息
    EQUAL_PRINCIPAL = "equal-principal"  # 等额本金
    INTEREST_FIRST = "interest-first"  # 先息后本
    BULLET = "bullet"  # 到期一次还本付息
    FLAT_FEE = "flat-fee"  # 分期手续费: fee each month on the original principal, no interest

    @classmethod
    def parse(cls, text: str) -> Method:
        key = text.strip().lower().replace("_", "-")
        aliases = {"flat-fee-installment": "flat-fee", "equal-instalment": "equal-installment"}
        key = aliases.get(key, key)
        for member in cls:
            if member.value == key:
                return member
        allowed = "|".join(m.value for m in cls)
        raise ValueError(f"unknown method {text!r}; expected {allowed}")

    @property
    def label_zh(self) -> str:
        return {
            Method.EQUAL_INSTALLMENT: "等额本息",
            Method.EQUAL_PRINCIPAL: "等额本金",
            Method.INTEREST_FIRST: "先息后本",
            Method.BULLET: "到期一次还本付息",
            Method.FLAT_FEE: "分期手续费（按原始本金）",
        }[self]


DAILY_DIVISOR = {DayCount.ACT_360: 360, DayCount.ACT_365: 365}  # days per year of a daily rate


class TermsError(ValueError):
    """Loan terms that cannot make a schedule."""


@dataclass(frozen=True, slots=True)
class LoanTerms:
    principal: Decimal
    term: int  # number of monthly instalments
    method: Method
    annual_rate: Decimal  # nominal, as a fraction (0.15)
    start_on: date  # disbursement date
    fees: FeeSchedule = field(default_factory=FeeSchedule)
    first_due_on: date | None = None  # explicit first due date: an odd first period
    odd_period_daycount: DayCount = DayCount.ACT_360
    # interest-first only: every period's interest by its actual days at annual / 360 (ACT_360) or / 365
    # (ACT_365), not annual / 12 — the daily-interest plan (随借随还), whose daily rate is exact in 28-, 29-,
    # 30- and 31-day months alike. None: monthly interest (the rules' r = annual / 12).
    periodic_daycount: DayCount | None = None
    roll: RollConvention = RollConvention.NONE  # business-day adjustment of the pay-by date
    currency: str = "CNY"

    def __post_init__(self) -> None:
        object.__setattr__(self, "principal", to_decimal(self.principal))
        object.__setattr__(self, "annual_rate", to_decimal(self.annual_rate))
        if self.principal <= 0:
            raise TermsError("principal must be positive")
        if round_money(self.principal, rule=RULE) != self.principal:
            raise TermsError("principal must be a whole number of cents")
        if not isinstance(self.term, int) or self.term < 1:
            raise TermsError("term must be at least 1 month")
        if self.annual_rate < 0:
            raise TermsError("annual rate must not be negative")
        if self.method is Method.FLAT_FEE:
            if self.annual_rate != 0:
                raise TermsError("the flat-fee method charges no interest: give --flat-fee-rate, not a rate")
            if self.fees.monthly_rate_on_principal <= 0:
                raise TermsError("the flat-fee method needs a monthly fee rate on the principal")
        if self.first_due_on is not None:
            if self.first_due_on <= self.start_on:
                raise TermsError("the first due date must be after the start date")
            if self.first_due_on > add_months(self.start_on, 2):
                raise TermsError("the first due date must be within two months of the start date")
        if self.periodic_daycount is not None:
            if self.method is not Method.INTEREST_FIRST:
                raise TermsError("interest by the period's actual days is for the interest-first method only")
            if self.periodic_daycount not in DAILY_DIVISOR:
                raise TermsError("interest by the period's actual days counts ACT/360 or ACT/365")
        if self.fees.upfront >= self.principal:
            raise TermsError("an up-front fee as large as the principal leaves nothing to lend")

    @property
    def monthly_rate(self) -> Decimal:
        return self.annual_rate / 12

    @property
    def first_due(self) -> date:
        return self.first_due_on or add_months(self.start_on, 1)

    @property
    def anchor_day(self) -> int:
        return self.first_due.day if self.first_due_on else self.start_on.day

    @property
    def has_odd_first_period(self) -> bool:
        return self.first_due_on is not None and self.first_due_on != add_months(self.start_on, 1)

    def due_date(self, period: int) -> date:
        return add_months(self.first_due, period - 1, anchor_day=self.anchor_day)

    @property
    def net_disbursed(self) -> Decimal:
        """What the borrower actually has the use of at t = 0 (Civil Code Art. 670)."""
        return self.principal - self.fees.upfront


@dataclass(frozen=True, slots=True)
class Row:
    period: int
    due_on: date
    principal: Decimal
    interest: Decimal
    fee: Decimal
    payment: Decimal
    balance: Decimal
    pay_by_on: date  # the due date rolled to a business day by the product's convention
    calendar_provisional: bool  # the roll used the weekend fallback (year not yet published)


@dataclass(frozen=True, slots=True)
class Schedule:
    terms: LoanTerms
    rows: tuple[Row, ...]
    regular_instalment: Decimal | None  # the annuity M for equal-installment; else None
    odd_days: int | None  # days in an odd first period

    @property
    def total_principal(self) -> Decimal:
        return sum((r.principal for r in self.rows), ZERO)

    @property
    def total_interest(self) -> Decimal:
        return sum((r.interest for r in self.rows), ZERO)

    @property
    def total_periodic_fees(self) -> Decimal:
        return sum((r.fee for r in self.rows), ZERO)

    @property
    def total_payments(self) -> Decimal:
        return sum((r.payment for r in self.rows), ZERO)


def annuity_payment(principal: Decimal, monthly_rate: Decimal, term: int) -> Decimal:
    """M = P·r(1+r)^n / ((1+r)^n − 1), rounded half-up to the cent; P/n when r = 0."""
    if monthly_rate == 0:
        return round_money(principal / term, rule=RULE)
    growth = (1 + monthly_rate) ** term
    return round_money(principal * monthly_rate * growth / (growth - 1), rule=RULE)


def build_schedule(terms: LoanTerms) -> Schedule:
    p, n, r = terms.principal, terms.term, terms.monthly_rate
    fee = terms.fees.per_period(p)
    odd_days: int | None = None
    first_interest: Decimal | None = None
    if terms.has_odd_first_period:
        odd_days = (terms.first_due - terms.start_on).days
        broken = terms.annual_rate * year_fraction(terms.start_on, terms.first_due, terms.odd_period_daycount)
        first_interest = round_money(p * broken, rule=RULE)

    regular: Decimal | None = None
    rows: list[Row] = []
    balance = p
    if terms.method is Method.EQUAL_INSTALLMENT:
        regular = annuity_payment(p, r, n)
    step = round_money(p / n, rule=RULE)
    previous_due = terms.start_on
    for k in range(1, n + 1):
        last = k == n
        regular_interest = round_money(balance * r, rule=RULE)
        if terms.periodic_daycount is not None:  # the period's actual days at the daily rate (exact division)
            days = (terms.due_date(k) - previous_due).days
            regular_interest = round_money(
                balance * terms.annual_rate * days / DAILY_DIVISOR[terms.periodic_daycount], rule=RULE
            )
            previous_due = terms.due_date(k)
        interest = first_interest if (k == 1 and first_interest is not None) else regular_interest
        if terms.method is Method.EQUAL_INSTALLMENT:
            assert regular is not None
            principal = balance if last else regular - regular_interest
        elif terms.method is Method.EQUAL_PRINCIPAL:
            principal = balance if last else step
        elif terms.method is Method.FLAT_FEE:
            principal = balance if last else step
            interest = ZERO
        elif terms.method is Method.INTEREST_FIRST:
            principal = balance if last else ZERO
        else:  # bullet: P + round(P·r·n) at maturity (broken-period interest replaces month 1)
            principal = balance if last else ZERO
            interest = ZERO
            if last:
                months = n - 1 if first_interest is not None else n
                interest = round_money(p * r * months, rule=RULE) + (first_interest or ZERO)
        if principal < 0 or principal > balance:
            raise TermsError("the instalment does not cover the interest: rate too high for this term")
        balance -= principal
        due = terms.due_date(k)
        rolled = roll(due, terms.roll)
        rows.append(
            Row(
                k,
                due,
                principal,
                interest,
                fee,
                principal + interest + fee,
                balance,
                rolled.rolled,
                rolled.provisional,
            )
        )
    if balance != 0:  # pragma: no cover - guarded by construction
        raise MoneyError("schedule does not amortise to zero")
    return Schedule(terms, tuple(rows), regular, odd_days)
