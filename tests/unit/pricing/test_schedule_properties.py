"""Hypothesis properties of schedules and quotes: the invariants a borrower relies on."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from hypothesis import assume, given
from hypothesis import strategies as st

from xiaodai.pricing.apr import appj_series, solve_unit_rate
from xiaodai.pricing.fees import FeeSchedule
from xiaodai.pricing.quote import build_quote, schedule_flows
from xiaodai.pricing.schedule import LoanTerms, Method, build_schedule
from xiaodai.pricing.unit_period import UnitPeriod

principals = st.integers(min_value=50_000, max_value=3_000_000).map(lambda fen: Decimal(fen) / 100)
terms = st.integers(min_value=1, max_value=36)
rates = st.integers(min_value=0, max_value=3600).map(lambda bp: Decimal(bp) / 10_000)
interest_methods = st.sampled_from(
    [Method.EQUAL_INSTALLMENT, Method.EQUAL_PRINCIPAL, Method.INTEREST_FIRST, Method.BULLET]
)
starts = st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 12, 31))
odd_offsets = st.integers(min_value=10, max_value=59)


@st.composite
def loans(draw: st.DrawFn) -> LoanTerms:
    method = draw(st.sampled_from(list(Method)))
    principal = draw(principals)
    start = draw(starts)
    first_due = None
    if draw(st.booleans()):
        from datetime import timedelta

        first_due = start + timedelta(days=draw(odd_offsets))
    fees = FeeSchedule(
        upfront=Decimal(draw(st.integers(0, 50))) * principal / 1000 // Decimal("0.01") * Decimal("0.01"),
        monthly_fixed=Decimal(draw(st.integers(0, 3000))) / 100,
        monthly_rate_on_principal=Decimal(draw(st.integers(1 if method is Method.FLAT_FEE else 0, 150)))
        / 10_000,
    )
    return LoanTerms(
        principal=principal,
        term=draw(terms),
        method=method,
        annual_rate=Decimal(0) if method is Method.FLAT_FEE else draw(rates),
        start_on=start,
        fees=fees,
        first_due_on=first_due,
    )


@given(loans())
def test_schedule_invariants(loan: LoanTerms) -> None:
    schedule = build_schedule(loan)
    rows = schedule.rows
    assert len(rows) == loan.term
    assert sum((r.principal for r in rows), Decimal(0)) == loan.principal
    assert rows[-1].balance == 0
    running = loan.principal
    for row in rows:
        assert row.payment == row.principal + row.interest + row.fee
        running -= row.principal
        assert row.balance == running
        assert row.balance >= 0
        for amount in (row.principal, row.interest, row.fee, row.payment):
            assert amount == amount.quantize(Decimal("0.01"))
    dues = [r.due_on for r in rows]
    assert dues == sorted(dues)
    assert len(set(dues)) == len(dues)


@given(loans())
def test_apr_solves_its_own_equation(loan: LoanTerms) -> None:
    quote = build_quote(loan)
    series = appj_series(schedule_flows(quote.schedule), UnitPeriod.MONTH, anchor_day=loan.anchor_day)
    i = float(quote.cn.periodic_rate)  # float-ok: checking the rate equation
    pv_pay = sum(float(p.amount) / ((1 + float(p.f) * i) * (1 + i) ** p.t) for p in series.payments)
    pv_adv = sum(float(a.amount) / ((1 + float(a.f) * i) * (1 + i) ** a.t) for a in series.advances)
    assert abs(pv_pay - pv_adv) <= 1e-6 * pv_adv
    assert quote.finance_charge == quote.total_interest + quote.total_fees
    assert solve_unit_rate(series.advances, series.payments) == float(quote.cn.periodic_rate)


def _quote_apr(principal: Decimal, term: int, rate: Decimal, method: Method, fees: FeeSchedule) -> Decimal:
    return build_quote(
        LoanTerms(
            principal=principal,
            term=term,
            method=method,
            annual_rate=rate,
            start_on=date(2026, 3, 5),
            fees=fees,
        )
    ).apr_percent


@given(principals, terms, rates, interest_methods, st.integers(1, 2000))
def test_a_fee_can_only_raise_the_apr(
    principal: Decimal, term: int, rate: Decimal, method: Method, fee_fen: int
) -> None:
    fee = Decimal(fee_fen) / 100
    assume(fee * 2 < principal)
    plain = _quote_apr(principal, term, rate, method, FeeSchedule())
    assert _quote_apr(principal, term, rate, method, FeeSchedule(upfront=fee)) > plain
    assert _quote_apr(principal, term, rate, method, FeeSchedule(upfront=fee * 2)) > _quote_apr(
        principal, term, rate, method, FeeSchedule(upfront=fee)
    )
    monthly = _quote_apr(principal, term, rate, method, FeeSchedule(monthly_fixed=fee))
    assert _quote_apr(principal, term, rate, method, FeeSchedule(monthly_fixed=fee * 2)) > monthly
    if method is not Method.BULLET or term == 1:
        # A bullet loan with no fee is one payment (PBOC: simple annualisation over the term); a monthly
        # fee turns it into a multi-payment loan rated by 12 x monthly IRR. Compare within one structure.
        assert monthly > plain


@given(
    st.integers(min_value=500_00, max_value=30_000_00).map(lambda fen: Decimal(fen) / 100),
    st.integers(3, 24),
    st.integers(100, 3600).map(lambda bp: Decimal(bp) / 10_000),
    st.sampled_from([Method.EQUAL_INSTALLMENT, Method.EQUAL_PRINCIPAL, Method.INTEREST_FIRST]),
)
def test_no_fee_apr_equals_nominal_up_to_cent_rounding(
    principal: Decimal, term: int, rate: Decimal, method: Method
) -> None:
    quote = build_quote(
        LoanTerms(principal=principal, term=term, method=method, annual_rate=rate, start_on=date(2026, 4, 20))
    )
    # cent rounding moves cash by at most a cent per period: bound the rate error by that cash error
    bound = Decimal("0.01") * term / principal * 12 * 100 + Decimal("0.0005")
    assert abs(quote.apr_percent - rate * 100) <= bound


@given(principals, terms, rates)
def test_bullet_apr_is_the_nominal_rate(principal: Decimal, term: int, rate: Decimal) -> None:
    quote = build_quote(
        LoanTerms(
            principal=principal, term=term, method=Method.BULLET, annual_rate=rate, start_on=date(2026, 1, 31)
        )
    )
    bound = Decimal("0.01") / principal * 12 / term * 100
    assert abs(quote.apr_percent - rate * 100) <= bound + Decimal("1e-9")
