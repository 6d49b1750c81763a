"""A quote: schedule + every cost + true annual rate in three conventions + cap verdict.

The headline figure is ``apr_percent`` (cn convention: IRR on the net amount received, every fee
included). An offer over its cap cannot be produced: ``build_quote`` raises ``CapExceededError`` carrying the
verdict instead of returning a quote.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from typing import Any

from xiaodai.money.rounding import round_half_up
from xiaodai.pricing.apr import (
    RateResult,
    appj_series,
    apr_regz,
    aprc_eu,
    cn_from_series,
    xirr_act365_percent,
)
from xiaodai.pricing.caps import CapBook, CapProfile, CapVerdict, LprFixing, evaluate_cap
from xiaodai.pricing.cashflow import Flow
from xiaodai.pricing.fees import UpfrontTiming
from xiaodai.pricing.schedule import LoanTerms, Method, Schedule, build_schedule
from xiaodai.pricing.unit_period import UnitPeriod

ZERO = Decimal(0)


class CapExceededError(Exception):
    """The offer's all-in rate is over its cap (or the cap cannot be evaluated): no offer."""

    def __init__(self, verdict: CapVerdict, apr_percent: Decimal) -> None:
        super().__init__(
            f"{verdict.reason.value}: APR {verdict.apr_percent_checked}% vs cap "
            f"{verdict.limit_percent}% ({verdict.profile} v{verdict.profile_version})"
        )
        self.verdict = verdict
        self.apr_percent = apr_percent


@dataclass(frozen=True, slots=True)
class Quote:
    schedule: Schedule
    cn: RateResult
    regz: RateResult
    eu: RateResult
    xirr_act365_percent: Decimal
    cap: CapVerdict | None

    @property
    def terms(self) -> LoanTerms:
        return self.schedule.terms

    @property
    def net_disbursed(self) -> Decimal:
        return self.terms.net_disbursed

    @property
    def total_interest(self) -> Decimal:
        return self.schedule.total_interest

    @property
    def total_fees(self) -> Decimal:
        return self.terms.fees.upfront + self.schedule.total_periodic_fees

    @property
    def finance_charge(self) -> Decimal:
        return self.total_interest + self.total_fees

    @property
    def total_repayment(self) -> Decimal:
        """Everything the borrower pays: the instalments, plus an up-front fee paid at signing."""
        extra = (
            self.terms.fees.upfront if self.terms.fees.upfront_timing is UpfrontTiming.AT_SIGNING else ZERO
        )
        return self.schedule.total_payments + extra

    @property
    def payment(self) -> Decimal:
        """The regular instalment: M (+ per-period fee) for equal-installment, else the first non-zero one."""
        if self.schedule.regular_instalment is not None:
            return self.schedule.regular_instalment + self.schedule.rows[0].fee
        return next(r.payment for r in self.schedule.rows if r.payment > 0)

    @property
    def apr_percent(self) -> Decimal:
        return self.cn.apr_percent

    @property
    def monthly_irr(self) -> Decimal:
        return self.cn.periodic_rate


def schedule_flows(schedule: Schedule) -> list[Flow]:
    """The borrower's cash flows: the net amount received at the start, then every payment."""
    terms = schedule.terms
    flows = [Flow(terms.start_on, -terms.net_disbursed)]
    flows.extend(Flow(row.due_on, row.payment) for row in schedule.rows if row.payment != 0)
    return flows


def build_quote(
    terms: LoanTerms,
    *,
    cap: CapProfile | None = None,
    cap_book: CapBook | None = None,
    lpr: LprFixing | None = None,
) -> Quote:
    schedule, cn, regz, eu, xirr = _priced(repr(terms), terms)
    verdict = None
    if cap is not None:
        if cap_book is None:
            raise ValueError("a cap profile needs its cap book (for the LPR table)")
        verdict = evaluate_cap(cap, cn.apr_percent, book=cap_book, contract_on=terms.start_on, lpr=lpr)
        if not verdict.allowed:
            raise CapExceededError(verdict, cn.apr_percent)
    return Quote(schedule, cn, regz, eu, xirr, verdict)


@lru_cache(maxsize=4096)
def _priced(key: str, terms: LoanTerms) -> tuple[Schedule, RateResult, RateResult, RateResult, Decimal]:
    """The schedule and the three annual rates of ``terms`` (pure, and the costly part of a quote: the rate
    solves), remembered per process. ``key`` is ``repr(terms)``: every field, written exactly (Decimal
    ``0.15`` and ``0.150`` are equal but print differently, and the schedule carries its terms), so two
    terms share an entry only if nothing about them differs. The results are immutable values; the cap
    verdict is evaluated on every call (it may depend on the LPR table passed in)."""
    schedule = build_schedule(terms)
    flows = schedule_flows(schedule)
    anchor = terms.anchor_day
    cn = cn_from_series(appj_series(flows, UnitPeriod.MONTH, anchor_day=anchor))
    regz = apr_regz(flows, anchor_day=anchor)
    eu = aprc_eu(flows, anchor_day=anchor)
    return schedule, cn, regz, eu, xirr_act365_percent(flows)


def _m(value: Decimal) -> str:
    return f"{value:.2f}"


def _p(value: Decimal, places: int = 10) -> str:
    return str(round_half_up(value, places))


def quote_to_json(quote: Quote) -> dict[str, Any]:
    """The ``quote --json`` contract: money and rates as strings."""
    terms = quote.terms
    rows = quote.schedule.rows
    out: dict[str, Any] = {
        "currency": terms.currency,
        "principal": _m(terms.principal),
        "term": terms.term,
        "method": terms.method.value,
        "annual_rate": str(terms.annual_rate),
        "apr_percent": _p(quote.cn.apr_percent),
        "apr_percent_2dp": _p(quote.cn.apr_percent, 2),
        "ear_percent": _p(quote.cn.ear_percent or ZERO),
        "monthly_irr": _p(quote.cn.periodic_rate, 12),
        "monthly_irr_percent": _p(quote.cn.periodic_rate * 100, 10),
        "apr_regz_percent": _p(quote.regz.apr_percent),
        "regz_unit_period": quote.regz.unit,
        "eu_aprc_x_percent": _p(quote.eu.apr_percent),
        "eu_aprc_percent_1dp": _p(quote.eu.apr_percent, 1),
        "xirr_act365_percent": _p(quote.xirr_act365_percent),
        "payment": _m(quote.payment),
        "payment_first": _m(rows[0].payment),
        "payment_last": _m(rows[-1].payment),
        "net_disbursed": _m(quote.net_disbursed),
        "upfront_fee": _m(terms.fees.upfront),
        "upfront_fee_timing": terms.fees.upfront_timing.value,
        "total_interest": _m(quote.total_interest),
        "total_fees": _m(quote.total_fees),
        "finance_charge": _m(quote.finance_charge),
        "total_repayment": _m(quote.total_repayment),
        "odd_first_period_days": quote.schedule.odd_days,
        "cap": None if quote.cap is None else quote.cap.to_json(),
        "schedule": [
            {
                "period": r.period,
                "due_date": r.due_on.isoformat(),
                "principal": _m(r.principal),
                "interest": _m(r.interest),
                "fee": _m(r.fee),
                "payment": _m(r.payment),
                "balance": _m(r.balance),
                "pay_by_date": r.pay_by_on.isoformat(),
                "calendar_provisional": r.calendar_provisional,
            }
            for r in rows
        ],
    }
    if terms.method is Method.BULLET:
        out["payment_at_maturity"] = _m(rows[-1].payment)
    if terms.fees.monthly_rate_on_principal:
        out["flat_fee_rate_monthly"] = str(terms.fees.monthly_rate_on_principal)
        out["naive_flat_annual_percent"] = _p(terms.fees.monthly_rate_on_principal * 1200, 4)
    return out
