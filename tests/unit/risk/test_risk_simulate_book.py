"""The book simulator: deterministic for a seed, the real policy's grades and prices, sane panels."""

from dataclasses import replace
from datetime import date
from decimal import Decimal

import numpy as np
import polars as pl
import pytest

from xiaodai.pricing.caps import default_cap_book
from xiaodai.pricing.schedule import LoanTerms, Method, build_schedule
from xiaodai.simulate.behaviour import BehaviourParams, dpd_for_age, miss_probability, step
from xiaodai.simulate.book import BookConfig, MacroPath, simulate_book
from xiaodai.simulate.book_applicants import DemoApplicantSource
from xiaodai.simulate.book_policy import decide_batch, schedule_table
from xiaodai.underwriting.policy import default_policy

POLICY = default_policy()
CAPS = default_cap_book()


def _run(seed=5, borrowers=400, months=8, **extra):
    frames = []
    summary = simulate_book(
        BookConfig(borrowers, months, seed, date(2025, 1, 1), **extra),
        source=DemoApplicantSource(),
        policy=POLICY,
        cap_book=CAPS,
        sink=lambda _t, frame: frames.append(frame),
    )
    return summary, pl.concat(frames)


def test_same_seed_same_book_other_seed_other_book():
    first, panel = _run()
    second, again = _run()
    assert panel.equals(again)
    assert first.originations.equals(second.originations)
    _, other = _run(seed=6)
    assert not panel.equals(other)


def test_books_the_requested_number_of_loans():
    summary, panel = _run(borrowers=401, months=8)
    assert summary.loans == 401
    assert int(summary.originations["approvals"].sum()) == 401
    assert (summary.originations["applications"] >= summary.originations["approvals"]).all()
    # the last month's originations have no month end on the book yet
    assert panel["loan_id"].n_unique() == 401 - int(summary.originations["approvals"][-1])


def test_prices_limits_and_terms_come_from_the_policy():
    _, panel = _run()
    loans = panel.group_by("loan_id").agg(pl.first("grade", "annual_rate", "principal_fen", "term"))
    for grade in POLICY.grades:
        rows = loans.filter(pl.col("grade") == grade.grade)
        if grade.decision == "decline":
            assert rows.height == 0
            continue
        if rows.height == 0:
            continue
        assert set(rows["annual_rate"].to_list()) <= {float(grade.annual_rate)}
        assert rows["principal_fen"].max() <= int(grade.max_limit * 100)
        assert rows["principal_fen"].min() >= int(POLICY.min_principal * 100)
        assert rows["term"].max() <= grade.max_term


def test_panel_invariants():
    _, panel = _run(months=12)
    ordered = panel.sort("loan_id", "month")
    active = ordered.filter(pl.col("status") == "active")
    rising = active.with_columns(pl.col("balance_fen").diff().over("loan_id").alias("d")).filter(
        pl.col("d") > 0
    )
    assert rising.height == 0  # principal outstanding never grows
    defaults = panel.group_by("loan_id").agg(pl.col("default_flag").sum())
    assert defaults["default_flag"].max() <= 1
    assert panel.filter(pl.col("default_flag"))["dpd"].min() > 90
    assert panel.filter(pl.col("status") == "closed")["balance_fen"].max() == 0
    assert panel.filter(pl.col("status") == "prepaid")["balance_fen"].max() == 0
    # rows of a loan are consecutive month ends
    gaps = ordered.with_columns(pl.col("mob").diff().over("loan_id").alias("g")).filter(pl.col("g") != 1)
    assert gaps.height == 0


def test_a_macro_shock_raises_delinquency():
    _, calm = _run(seed=9, borrowers=1500, months=10)
    _, shocked = _run(
        seed=9, borrowers=1500, months=10, macro=MacroPath(shock=2.0, shock_start=3, shock_months=6)
    )

    def late(frame):
        return frame.filter(pl.col("dpd") >= 30).height

    assert late(shocked) > late(calm)


def test_knock_out_rules_at_their_edges():
    rng = np.random.default_rng(1)
    batch = DemoApplicantSource().draw(8, rng, 0)
    batch = replace(
        batch,
        age=np.array([17, 18, 65, 66, 30, 30, 30, 30]),
        existing_overdue_days=np.array([0, 0, 0, 0, 1, 0, 0, 0]),
        applications_last_30d=np.array([0, 0, 0, 0, 0, 5, 6, 0]),
        blocklisted=np.array([False] * 7 + [True]),
        monthly_debt_payments_fen=np.zeros(8, dtype=np.int64),
        monthly_income_fen=np.full(8, 1_000_000, dtype=np.int64),
        predicted_pd=np.full(8, 0.01),
    )
    decision = decide_batch(
        batch, policy=POLICY, cap_book=CAPS, on=date(2025, 1, 1), refer_approval=0.0, rng=rng
    )
    assert decision.knocked_out.tolist() == [True, False, False, True, True, False, True, True]
    assert decision.approved.tolist() == [False, True, True, False, False, True, False, False]


def test_grades_at_their_pd_boundaries_and_referrals():
    rng = np.random.default_rng(2)
    batch = DemoApplicantSource().draw(4, rng, 0)
    batch = replace(
        batch,
        age=np.full(4, 30),
        existing_overdue_days=np.zeros(4, dtype=np.int64),
        applications_last_30d=np.zeros(4, dtype=np.int64),
        blocklisted=np.zeros(4, dtype=bool),
        monthly_income_fen=np.full(4, 2_000_000, dtype=np.int64),
        monthly_debt_payments_fen=np.zeros(4, dtype=np.int64),
        predicted_pd=np.array([0.0299, 0.03, 0.2999, 0.30]),
    )
    decision = decide_batch(
        batch, policy=POLICY, cap_book=CAPS, on=date(2025, 1, 1), refer_approval=1.0, rng=rng
    )
    assert [POLICY.grades[g].grade for g in decision.grade] == ["A", "B", "E", "F"]
    assert decision.approved.tolist() == [True, True, True, False]  # E referred and accepted; F declined
    none = decide_batch(batch, policy=POLICY, cap_book=CAPS, on=date(2025, 1, 1), refer_approval=0.0, rng=rng)
    assert none.approved.tolist() == [True, True, False, False]


def test_schedules_are_the_pricing_schedules():
    table, combo = schedule_table(
        np.array([1_000_000, 1_000_000]),
        np.array([1200, 1200]),
        np.array([12, 12]),
        method=Method.EQUAL_INSTALLMENT,
        on=date(2025, 1, 1),
    )
    assert combo.tolist() == [0, 0]
    schedule = build_schedule(
        LoanTerms(
            principal=Decimal(10000),
            term=12,
            method=Method.EQUAL_INSTALLMENT,
            annual_rate=Decimal("0.12"),
            start_on=date(2025, 1, 1),
        )
    )
    assert table.payment[0, 1:].tolist() == [int(r.payment * 100) for r in schedule.rows]
    assert table.balance[0, 12] == 0


def test_behaviour_extremes():
    rng = np.random.default_rng(3)
    ones = np.ones(4, dtype=np.int64)
    params = BehaviourParams(prepay=1.0)
    out = step(
        mob=ones * 2,
        term=ones * 12,
        paid_periods=ones,
        pd_12m=np.full(4, 0.1),
        multiplier=1.0,
        params=params,
        rng=rng,
    )
    assert out.prepaid.all()
    assert out.paid_periods.tolist() == [12] * 4
    cure_all = BehaviourParams(cure=(1.0, 1.0, 1.0), part=(0.0, 0.0, 0.0), prepay=0.0)
    out = step(
        mob=ones * 3,
        term=ones * 12,
        paid_periods=ones,
        pd_12m=np.full(4, 0.1),
        multiplier=1.0,
        params=cure_all,
        rng=rng,
    )
    assert out.paid_periods.tolist() == [3] * 4  # delinquent for one month: pays everything owed
    assert dpd_for_age(np.array([0, 1, 2, 3, 4])).tolist() == [0, 15, 45, 75, 105]


def test_miss_probability_matches_the_annual_pd():
    params = BehaviourParams()
    miss = miss_probability(np.array([0.1]), 1.0, params)[0]
    hazard = 1 - 0.9 ** (1 / 12)
    assert miss * params.roll_through() == pytest.approx(hazard)
    assert miss_probability(np.array([0.1]), 2.0, params)[0] > miss


def _run_blocks(blocks, seed=5, borrowers=450, months=9, block_size=100):
    frames = []
    summary = simulate_book(
        BookConfig(borrowers, months, seed, date(2025, 1, 1), block_size=block_size),
        source=DemoApplicantSource(),
        policy=POLICY,
        cap_book=CAPS,
        sink=lambda _t, frame: frames.append(frame),
        blocks=blocks,
    )
    return summary, pl.concat(frames)


def test_borrower_id_ranges_simulate_the_same_book_however_split():
    whole_summary, whole = _run_blocks(None)
    assert whole_summary.loans == 450
    for split in ([(0, 2), (2, 5)], [(0, 1), (1, 3), (3, 4), (4, 5)]):
        runs = [_run_blocks(blocks) for blocks in split]
        panel = pl.concat([frame for _, frame in runs]).sort("loan_id", "month")
        assert panel.equals(whole.sort("loan_id", "month"))
        assert sum(s.loans for s, _ in runs) == 450
        applications = sum(s.originations["applications"].to_numpy() for s, _ in runs)
        assert applications.tolist() == whole_summary.originations["applications"].to_list()
    # a range holds exactly its loan ids: blocks 2..3 are ids 201..300 (the last block is short: 401..450)
    _, middle = _run_blocks((2, 3))
    assert (middle["loan_id"].min(), middle["loan_id"].max()) == (201, 300)
    last_summary, last = _run_blocks((4, 5))
    assert last_summary.loans == 50
    assert last.height == 0  # ids 401..450 are the last month's loans: no month end on the book yet
    # the block size is part of the book's definition
    _, other = _run_blocks(None, block_size=150)
    assert not other.equals(whole)


def test_block_ranges_are_checked():
    with pytest.raises(ValueError, match="blocks"):
        _run_blocks((3, 3))
    with pytest.raises(ValueError, match="blocks"):
        _run_blocks((0, 6))
