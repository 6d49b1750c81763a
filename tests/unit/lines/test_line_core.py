"""The credit-line core: states, limit changes (never below what is drawn, never above 30,000), draw checks,
the review policy as data, and the daily plan's rate against pricing's own IRR code."""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from xiaodai.lines import daily_interest as daily
from xiaodai.lines.limit import (
    ChangeKind,
    LineError,
    LineState,
    available_fen,
    change_limit,
    change_state,
    check_draw,
    default_policy,
    grant,
    notice_for,
    parse_policy,
)
from xiaodai.lines.review_policy import ReviewAction, ReviewFacts, review
from xiaodai.pricing.apr import apr_cn
from xiaodai.pricing.quote import build_quote
from xiaodai.pricing.schedule import LoanTerms, Method

POLICY = default_policy()
DAY = date(2026, 3, 10)


def test_grant_is_capped_by_grade_and_line_maximum() -> None:
    assert grant(5_000_000, grade_max_fen=10_000_000, policy=POLICY).new_limit_fen == 3_000_000
    assert grant(2_345_678, grade_max_fen=2_000_000, policy=POLICY).new_limit_fen == 2_000_000
    assert grant(1_234_567, grade_max_fen=3_000_000, policy=POLICY).new_limit_fen == 1_230_000  # 100 CNY
    with pytest.raises(LineError):
        grant(5_000, grade_max_fen=3_000_000, policy=POLICY)


@given(
    limit=st.integers(0, 3_000_000),
    outstanding=st.integers(0, 3_000_000),
    new=st.integers(0, 10_000_000),
)
def test_a_limit_change_never_makes_available_negative_nor_exceeds_the_maximum(
    limit: int, outstanding: int, new: int
) -> None:
    outstanding = min(outstanding, limit)
    change = change_limit(
        state=LineState.ACTIVE,
        limit_fen=limit,
        outstanding_fen=outstanding,
        new_limit_fen=new,
        reason="TEST",
        policy=POLICY,
    )
    assert available_fen(change.new_limit_fen, outstanding) >= 0
    assert change.new_limit_fen <= max(3_000_000, outstanding)
    assert change.reason == "TEST"
    assert notice_for(change).reason == "TEST"  # every change yields a notice with its reason


def test_states() -> None:
    frozen = change_state(
        state=LineState.ACTIVE, to=LineState.FROZEN, limit_fen=100, outstanding_fen=0, reason="R"
    )
    assert frozen.kind is ChangeKind.FREEZE
    assert frozen.new_state is LineState.FROZEN
    with pytest.raises(LineError) as outstanding:
        change_state(
            state=LineState.ACTIVE, to=LineState.CLOSED, limit_fen=100, outstanding_fen=1, reason="R"
        )
    assert outstanding.value.reason == "LINE_HAS_OUTSTANDING"
    closed = change_state(
        state=LineState.FROZEN, to=LineState.CLOSED, limit_fen=100, outstanding_fen=0, reason="R"
    )
    assert closed.new_limit_fen == 0
    with pytest.raises(LineError):
        change_state(state=LineState.CLOSED, to=LineState.ACTIVE, limit_fen=0, outstanding_fen=0, reason="R")


@pytest.mark.parametrize(
    ("state", "amount", "term", "on", "reason"),
    [
        (LineState.ACTIVE, 100_000, 6, DAY, "DRAW_ALLOWED"),
        (LineState.ACTIVE, 100_000, None, DAY, "DRAW_ALLOWED"),
        (LineState.FROZEN, 100_000, 6, DAY, "LINE_FROZEN"),
        (LineState.CLOSED, 100_000, 6, DAY, "LINE_CLOSED"),
        (LineState.ACTIVE, 100_000, 6, DAY + timedelta(days=400), "LINE_EXPIRED"),
        (LineState.ACTIVE, 49_999, 6, DAY, "DRAW_BELOW_MINIMUM"),
        (LineState.ACTIVE, 500_001, 6, DAY, "DRAW_ABOVE_AVAILABLE"),
        (LineState.ACTIVE, 100_000, 2, DAY, "DRAW_BAD_TERM"),
        (LineState.ACTIVE, 100_000, 25, DAY, "DRAW_BAD_TERM"),
    ],
)
def test_draw_checks(state: LineState, amount: int, term: int | None, on: date, reason: str) -> None:
    verdict = check_draw(
        state=state,
        expires_on=POLICY.expiry(DAY),
        limit_fen=1_000_000,
        outstanding_fen=500_000,
        amount_fen=amount,
        term=term,
        on=on,
        policy=POLICY,
    )
    assert verdict.reason == reason
    assert verdict.allowed is (reason == "DRAW_ALLOWED")


def facts(**overrides: int) -> ReviewFacts:
    base = {
        "limit_fen": 1_000_000,
        "outstanding_fen": 400_000,
        "grade_max_fen": 2_500_000,
        "months_on_book": 6,
        "on_time_instalments": 6,
        "current_dpd": 0,
        "max_dpd_6m": 0,
        "bureau_overdue_accounts_now": 0,
        "bureau_max_overdue_months": 0,
    }
    base.update(overrides)
    return ReviewFacts(**base)


def test_review_policy_outcomes() -> None:
    assert review(facts(), POLICY).action is ReviewAction.OFFER_INCREASE
    assert review(facts(), POLICY).new_limit_fen == 1_200_000
    assert review(facts(grade_max_fen=1_100_000), POLICY).new_limit_fen == 1_100_000
    assert review(facts(outstanding_fen=100_000), POLICY).action is ReviewAction.KEEP  # low use
    assert review(facts(months_on_book=2), POLICY).reason == "LINE_REVIEW_NO_CHANGE"
    late = review(facts(max_dpd_6m=3), POLICY)
    assert (late.action, late.new_limit_fen, late.reason) == (
        ReviewAction.DECREASE,
        500_000,
        "LINE_DECREASE_LATE_PAYMENT",
    )
    # never below what is drawn
    assert review(facts(max_dpd_6m=3, outstanding_fen=800_000), POLICY).new_limit_fen == 800_000
    assert review(facts(current_dpd=31), POLICY).action is ReviewAction.FREEZE
    assert review(facts(bureau_overdue_accounts_now=1), POLICY).reason == "LINE_FREEZE_BUREAU_OVERDUE"


def test_review_rules_are_data() -> None:
    raw = json.loads(
        (
            __import__("importlib.resources").resources.files("xiaodai.lines") / "data/line_policy.json"
        ).read_text(encoding="utf-8")
    )
    raw["review"] = [{"action": "freeze", "reason": "ALWAYS", "all": []}]
    raw["version"] = "test"
    policy = parse_policy(json.dumps(raw))
    assert review(facts(), policy).reason == "ALWAYS"
    raw["max_limit"] = "50000"
    with pytest.raises(ValueError, match="30,000"):
        parse_policy(json.dumps(raw))


# ---------------------------------------------------------------- daily plan


def test_daily_rate_is_annual_over_360() -> None:
    assert daily.daily_rate_percent(Decimal("0.12")) == Decimal("0.0333")
    assert daily.annual_from_daily(daily.daily_rate(Decimal("0.1825"))) == Decimal("0.1825")
    assert daily.interest_fen(1_000_000, Decimal("0.12"), 30) == 10_000  # 10,000 CNY, 30 days: 100.00
    assert daily.interest_fen(1, Decimal("0.12"), 1) == 0


@given(
    principal=st.integers(50_000, 3_000_000),
    rate=st.sampled_from(["0.08", "0.12", "0.16", "0.20", "0.23"]),
    days=st.integers(1, 29),
)
def test_daily_plan_annualised_irr_is_the_kfs_apr(principal: int, rate: str, days: int) -> None:
    """Draw, repay everything ``days`` later within one calendar month: pricing's CN IRR of those flows is the
    daily plan's annual rate, as is the headline of a monthly-interest interest-first schedule. (The daily
    plan's own KFS counts each period's actual days: its APR is checked in test_daily_plan_months.)"""
    annual = Decimal(rate)
    start = date(2026, 4, 1)
    payoff = daily.payoff_on(principal, annual, start, days)
    steps = daily.run_plan(principal, annual, start, [payoff])
    assert steps[-1].balance_fen == 0
    assert steps[-1].principal_fen == principal
    irr = apr_cn(daily.plan_flows(principal, start, steps)).apr_percent
    kfs = build_quote(
        LoanTerms(
            principal=Decimal(principal) / 100,
            term=12,
            method=Method.INTEREST_FIRST,
            annual_rate=annual,
            start_on=start,
        )
    ).apr_percent
    # half a fen of rounding on the interest, annualised over the days held
    tolerance = Decimal("0.005") / (Decimal(principal) / 100) * Decimal(360) / days * 100
    assert abs(irr - annual * 100) <= tolerance + Decimal("1e-6")
    # the KFS's monthly interest is rounded to the fen: at most half a fen a month, annualised (× 12)
    assert abs(kfs - annual * 100) <= Decimal("0.005") / (Decimal(principal) / 100) * 12 * 100 + Decimal(
        "1e-6"
    )


@given(
    principal=st.integers(100_000, 3_000_000),
    plan=st.lists(st.tuples(st.integers(1, 40), st.integers(1, 100)), min_size=1, max_size=6),
)
def test_daily_plan_repay_any_amount_any_day(principal: int, plan: list[tuple[int, int]]) -> None:
    """Interest is charged only for the days used and nothing else: the total paid is the principal plus the
    daily interest on each day's balance (no fee), and the balance never goes negative."""
    annual, start = Decimal("0.12"), date(2026, 4, 1)
    day, balance, repayments = start, principal, []
    for gap, share in plan:
        if balance == 0:  # settled: nothing more to repay
            break
        day += timedelta(days=gap)
        owed = balance + daily.interest_fen(balance, annual, gap)
        amount = max(owed * share // 100, daily.interest_fen(balance, annual, gap), 1)
        repayments.append(daily.Repayment(day, min(amount, owed)))
        balance = owed - min(amount, owed)
    steps = daily.run_plan(principal, annual, start, repayments)
    assert all(s.balance_fen >= 0 for s in steps)
    assert sum(s.principal_fen for s in steps) == principal - steps[-1].balance_fen
    assert sum(s.paid_fen for s in steps) == sum(s.interest_fen + s.principal_fen for s in steps)
    with pytest.raises(daily.PlanError):
        daily.run_plan(principal, annual, start, [daily.Repayment(start + timedelta(days=1), principal * 2)])
