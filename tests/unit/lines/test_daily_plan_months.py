"""The daily plan's interest is exact in every month, not only in 30-day ones: each period's interest is the
daily rate (annual / 360) × the period's actual days (28, 29, 30 or 31) on the balance, and the KFS's
headline APR is the IRR, by the platform's convention (12 × the monthly IRR, Appendix J unit periods),
of exactly the cash flows the daily model charges for the plan."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from xiaodai.journey.service import price_offer
from xiaodai.lines import daily_interest as daily
from xiaodai.money.daycount import DayCount
from xiaodai.pricing.apr import apr_cn
from xiaodai.pricing.quote import build_quote
from xiaodai.pricing.schedule import LoanTerms, Method, TermsError

RATES = st.sampled_from(["0.08", "0.1095", "0.12", "0.16", "0.20", "0.23"])
STARTS = st.dates(date(2024, 1, 1), date(2030, 12, 31))  # 2024 and 2028 are leap years


def _terms(principal_fen: int, rate: str, start: date, term: int) -> LoanTerms:
    return LoanTerms(
        principal=Decimal(principal_fen) / 100,
        term=term,
        method=Method.INTEREST_FIRST,
        annual_rate=Decimal(rate),
        start_on=start,
        periodic_daycount=DayCount.ACT_360,
    )


@given(principal=st.integers(50_000, 3_000_000), rate=RATES, start=STARTS, term=st.integers(1, 12))
def test_each_period_is_its_days_at_the_daily_rate(principal: int, rate: str, start: date, term: int) -> None:
    schedule = build_quote(_terms(principal, rate, start, term)).schedule
    previous = start
    for row in schedule.rows:
        days = (row.due_on - previous).days
        assert 28 <= days <= 31
        assert int(row.interest * 100) == daily.interest_fen(principal, Decimal(rate), days)
        previous = row.due_on
    assert sum(int(r.principal * 100) for r in schedule.rows) == principal


@settings(max_examples=60)
@given(principal=st.integers(50_000, 3_000_000), rate=RATES, start=STARTS, term=st.integers(3, 12))
def test_the_kfs_apr_is_the_irr_of_the_daily_models_cash_flows(
    principal: int, rate: str, start: date, term: int
) -> None:
    """Pay each period's interest on its due date and the principal with the last: the daily model's steps
    (``run_plan``) are the KFS schedule's payments, and their IRR is the KFS headline (terms the standard
    product offers: 3 to 24 months; the line's daily plan runs 12)."""
    annual = Decimal(rate)
    quote = build_quote(_terms(principal, rate, start, term))
    payments = [daily.Repayment(r.due_on, int(r.payment * 100)) for r in quote.schedule.rows]
    steps = daily.run_plan(principal, annual, start, payments)
    assert steps[-1].balance_fen == 0
    assert [s.interest_fen for s in steps] == [int(r.interest * 100) for r in quote.schedule.rows]
    irr = apr_cn(daily.plan_flows(principal, start, steps)).apr_percent
    assert irr == quote.apr_percent
    kfs = price_offer(
        amount=Decimal(principal) / 100,
        term=term,
        method="interest-first",
        annual_rate=annual,
        product_name="standard",
        today=start,
        periodic_daycount=DayCount.ACT_360,
    ).kfs
    # the headline states it to 0.01 percentage point, half up
    assert Decimal(str(kfs["headline"]["apr_percent"])) == irr.quantize(Decimal("0.01"), ROUND_HALF_UP)


@given(
    principal=st.integers(100_000, 3_000_000),
    rate=RATES,
    start=STARTS,
    gaps=st.lists(st.integers(1, 40), min_size=1, max_size=6),
)
def test_random_draw_and_repay_dates_charge_the_daily_interest_of_each_interval(
    principal: int, rate: str, start: date, gaps: list[int]
) -> None:
    """Whatever the dates (month ends, February, leap days): each repayment pays exactly the daily interest
    on the balance for the days since the last one, and the total interest is the sum over the intervals."""
    annual, day, balance, repayments, expected = Decimal(rate), start, principal, [], 0
    for gap in gaps:
        if balance == 0:
            break
        day += timedelta(days=gap)
        interest = daily.interest_fen(balance, annual, gap)
        expected += interest
        pay = interest + balance // 2 if balance > 1 else interest + balance
        repayments.append(daily.Repayment(day, pay))
        balance -= pay - interest
    steps = daily.run_plan(principal, annual, start, repayments)
    assert sum(s.interest_fen for s in steps) == expected


def test_monthly_interest_would_not_be_the_daily_rate_in_a_31_or_28_day_month() -> None:
    """Why the plan counts days: at annual / 12 a 31-day January charges 100.00 on 10,000 at 12%, the daily
    rate 103.33; a 28-day February 100.00 against 93.33."""
    monthly = LoanTerms(Decimal(10_000), 2, Method.INTEREST_FIRST, Decimal("0.12"), date(2026, 1, 1))
    exact = _terms(1_000_000, "0.12", date(2026, 1, 1), 2)
    assert [r.interest for r in build_quote(monthly).schedule.rows] == [Decimal("100.00")] * 2
    assert [r.interest for r in build_quote(exact).schedule.rows] == [Decimal("103.33"), Decimal("93.33")]


def test_days_are_counted_for_the_interest_first_method_only() -> None:
    import pytest

    with pytest.raises(TermsError):
        LoanTerms(
            Decimal(1000),
            6,
            Method.EQUAL_INSTALLMENT,
            Decimal("0.12"),
            date(2026, 1, 1),
            periodic_daycount=DayCount.ACT_360,
        )
