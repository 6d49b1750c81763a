"""The pure servicing core: allocation orders, DPD buckets, penalty arithmetic and cap, payoff, reschedule."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from xiaodai.ledger.chart import Account
from xiaodai.ledger.journal import UnbalancedEntryError, entry
from xiaodai.pricing.schedule import Method
from xiaodai.servicing.accrual import (
    capped_penalty_rate,
    daily_rate_e9,
    penalty_for_day,
    prorated_fen,
    simple_interest_fen,
)
from xiaodai.servicing.allocation import AllocationOrder, Component, Due, allocate
from xiaodai.servicing.delinquency import bucket_for, days_past_due, parse_buckets
from xiaodai.servicing.lifecycle import IllegalTransitionError, LoanState, transition
from xiaodai.servicing.prepayment import PeriodView, PrepayMode, payoff_quote, reschedule

AS_OF = date(2026, 3, 15)
DUES = [
    Due(1, Component.PRINCIPAL, date(2026, 2, 10), 700),
    Due(1, Component.INTEREST, date(2026, 2, 10), 100),
    Due(1, Component.FEE, date(2026, 2, 10), 10),
    Due(1, Component.PENALTY, date(2026, 2, 10), 5),
    Due(2, Component.PRINCIPAL, date(2026, 3, 15), 710),
    Due(2, Component.INTEREST, date(2026, 3, 15), 90),
]


def order_of(order: AllocationOrder, amount: int = 10_000) -> list[tuple[int, str]]:
    allocations, _ = allocate(DUES, amount, order=order, as_of=AS_OF)
    return [(a.period, a.component.value) for a in allocations]


def test_default_order_overdue_first() -> None:
    assert order_of(AllocationOrder.OVERDUE_FIRST) == [
        (1, "penalty"),
        (1, "interest"),
        (1, "principal"),
        (1, "fee"),
        (2, "interest"),
        (2, "principal"),
    ]


def test_fineract_order() -> None:
    assert order_of(AllocationOrder.PENALTY_FEE_INTEREST_PRINCIPAL) == [
        (1, "penalty"),
        (1, "fee"),
        (1, "interest"),
        (1, "principal"),
        (2, "interest"),
        (2, "principal"),
    ]


def test_interest_first_order() -> None:
    assert order_of(AllocationOrder.INTEREST_FIRST) == [
        (1, "penalty"),
        (1, "interest"),
        (2, "interest"),
        (1, "fee"),
        (1, "principal"),
        (2, "principal"),
    ]


@given(st.integers(0, 5_000), st.sampled_from(list(AllocationOrder)))
def test_allocation_conserves_money(amount: int, order: AllocationOrder) -> None:
    allocations, left = allocate(DUES, amount, order=order, as_of=AS_OF)
    assert sum(a.amount_fen for a in allocations) + left == amount
    assert left == max(0, amount - sum(d.amount_fen for d in DUES))
    for a in allocations:
        assert a.amount_fen > 0


def test_buckets() -> None:
    assert days_past_due(None, AS_OF) == 0
    assert days_past_due(date(2026, 2, 10), AS_OF) == 33
    assert [bucket_for(d) for d in (0, 1, 30, 31, 60, 61, 90, 91, 400)] == [
        "M0",
        "M1",
        "M1",
        "M2",
        "M2",
        "M3",
        "M3",
        "M4+",
        "M4+",
    ]
    custom = parse_buckets("C:0,X:1,Y:8")
    assert bucket_for(7, custom) == "X"
    with pytest.raises(ValueError, match="start at 0"):
        parse_buckets("M1:1,M2:31")
    # names go into loans.bucket (8 characters) and into end of day's SQL: letters, digits, + _ - only
    for bad in ("M0:0,M1':1", "M0:0,:1", "M0:0,TOOLONGNAME:1", "M0:0,M 1:1"):
        with pytest.raises(ValueError, match="bucket names"):
            parse_buckets(bad)


def test_frappe_lending_accrual_case() -> None:
    # frappe/lending test: 1,000,000 at 13.5% for 30 days accrues 11,095.89 on an actual/365 basis
    assert simple_interest_fen(100_000_000, Decimal("0.135"), 30, 365) == 1_109_589


def test_penalty_arithmetic_and_cap() -> None:
    rate = daily_rate_e9(Decimal("0.18"), 360)
    assert rate == 500_000  # 0.05% a day (日万五)
    assert penalty_for_day(1_000_000, rate) == 500
    assert penalty_for_day(999, rate) == 0  # 0.4995 fen rounds half up to 0
    assert penalty_for_day(1_000, rate) == 1  # 0.5 fen rounds up
    capped = capped_penalty_rate(
        Decimal("0.12"), loan_apr_percent=Decimal("18"), cap_limit_percent=Decimal("24")
    )
    assert capped.reason == "PENALTY_CAPPED_BY_PROFILE"
    assert capped.annual_rate == Decimal("0.06")
    kept = capped_penalty_rate(
        Decimal("0.05"), loan_apr_percent=Decimal("18"), cap_limit_percent=Decimal("24")
    )
    assert kept.reason == "PENALTY_AS_DISCLOSED"
    none = capped_penalty_rate(
        Decimal("0.05"), loan_apr_percent=Decimal("25"), cap_limit_percent=Decimal("24")
    )
    assert none.annual_rate == 0


def test_interest_only_for_days_used() -> None:
    assert prorated_fen(9_547, 15, 30) == 4_774  # 95.47 × 15/30 = 47.735 → 47.74
    periods = [
        PeriodView(1, date(2026, 1, 10), date(2026, 2, 10), 77_758, 12_500, 0, True, 77_758, 12_500, 0),
        PeriodView(2, date(2026, 2, 10), date(2026, 3, 10), 78_730, 11_528, 0, False, 0, 0, 0),
        PeriodView(3, date(2026, 3, 10), date(2026, 4, 10), 79_714, 10_544, 0, False, 0, 0, 0),
    ]
    quote = payoff_quote(periods, on=date(2026, 2, 24), penalties_fen=0, overpayment_fen=0)
    assert quote.principal_fen == 78_730 + 79_714
    assert quote.interest_fen == prorated_fen(11_528, 14, 28)  # nothing for period 3
    assert quote.prepayment_fee_fen == 0
    assert quote.total_fen == quote.principal_fen + quote.interest_fen


@pytest.mark.parametrize("mode", list(PrepayMode))
def test_reschedule_amortises_the_new_balance(mode: PrepayMode) -> None:
    plan = reschedule(
        balance_fen=449_690,
        on=date(2026, 4, 25),
        next_due_on=date(2026, 5, 10),
        remaining_periods=9,
        annual_rate=Decimal("0.15"),
        method=Method.EQUAL_INSTALLMENT,
        mode=mode,
        current_payment_fen=90_258,
        monthly_fee_fen=0,
        first_period_number=4,
    )
    assert sum(p.principal_fen for p in plan) == 449_690
    assert plan[0].period == 4
    assert plan[0].due_on == date(2026, 5, 10)
    if mode is PrepayMode.SHORTEN_TERM:
        assert len(plan) < 9
        assert all(p.principal_fen + p.interest_fen <= 90_258 for p in plan[1:])
    else:
        assert len(plan) == 9


def test_lifecycle() -> None:
    assert transition(LoanState.SIGNED, LoanState.ACTIVE) is LoanState.ACTIVE
    with pytest.raises(IllegalTransitionError, match="cannot become active"):
        transition(LoanState.CANCELLED, LoanState.ACTIVE)
    with pytest.raises(IllegalTransitionError):
        transition(LoanState.ACTIVE, LoanState.ACTIVE, allow_same=False)


def test_journal_entry_must_net_to_zero() -> None:
    with pytest.raises(UnbalancedEntryError):
        entry(AS_OF, "x", "k", [(Account.CASH, 100), (Account.LOAN_PRINCIPAL, -99)])
    ok = entry(
        AS_OF, "x", "k", [(Account.CASH, 100), (Account.LOAN_PRINCIPAL, -100), (Account.FEE_INCOME, 0)]
    )
    assert len(ok.postings) == 2
