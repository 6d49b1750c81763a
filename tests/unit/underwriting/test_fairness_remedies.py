"""Fairness remedies: reweighing equalises the weighted bad rate across groups; per-group cutoffs lift
the adverse-impact ratio to the policy's minimum and no further than needed."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import roc_auc_score

from xiaodai.underwriting.fairness_remedies import (
    approval_ratios,
    approve_with_thresholds,
    group_thresholds,
    lowest_ratio,
    reweighing_weights,
    threshold_adjusted_scores,
)


def weighted_bad_rate(weights: np.ndarray, y: np.ndarray, mask: np.ndarray) -> float:
    return float((weights[mask] * y[mask]).sum() / weights[mask].sum())


def test_reweighing_by_hand() -> None:
    # group a: 8 goods 2 bads; group b: 5 goods 5 bads; n = 20, 13 goods, 7 bads
    groups = ["a"] * 10 + ["b"] * 10
    y = np.array([0] * 8 + [1] * 2 + [0] * 5 + [1] * 5)
    w = reweighing_weights(groups, y)
    assert w[0] == pytest.approx(10 * 13 / (20 * 8))
    assert w[8] == pytest.approx(10 * 7 / (20 * 2))
    assert w[10] == pytest.approx(10 * 13 / (20 * 5))
    assert w[15] == pytest.approx(10 * 7 / (20 * 5))
    overall = y.mean()
    labels = np.asarray(groups)
    for group in ("a", "b"):
        assert weighted_bad_rate(w, y, labels == group) == pytest.approx(overall)
    assert w.sum() == pytest.approx(len(y))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["<25", "25–34", "35–49", "50+"]), st.integers(0, 1)), min_size=2))
def test_reweighing_makes_the_weighted_bad_rate_equal_in_every_group(rows: list[tuple[str, int]]) -> None:
    groups = [g for g, _ in rows]
    y = np.array([c for _, c in rows])
    w = reweighing_weights(groups, y)
    labels = np.asarray(groups)
    assert (w > 0).all()
    mixed = {g: len(set(y[labels == g])) == 2 for g in set(groups)}
    for group, both_outcomes in mixed.items():
        if both_outcomes:
            assert weighted_bad_rate(w, y, labels == group) == pytest.approx(y.mean())
    if all(mixed.values()):  # every (group, outcome) cell occupied: the sample size is kept
        assert w.sum() == pytest.approx(len(y))


def _constructed(seed: int = 5) -> tuple[np.ndarray, list[str]]:
    """Young applicants score worse: the common cutoff approves 30% of them against 70% of the others."""
    rng = np.random.default_rng(seed)
    young = np.sort(rng.uniform(0.2, 0.5, 200))
    old = np.sort(rng.uniform(0.05, 0.35, 200))
    return np.concatenate([young, old]), ["<25"] * 200 + ["35–49"] * 200


def test_group_thresholds_raise_the_ratio_to_the_minimum() -> None:
    pd_hat, groups = _constructed()
    cutoff = float(np.median(pd_hat))
    before = lowest_ratio(pd_hat < cutoff, groups)
    assert before is not None
    assert before < 0.8
    cutoffs = group_thresholds(pd_hat, groups, cutoff, 0.8)
    assert cutoffs["35–49"] == cutoff  # the best group keeps the common cutoff
    assert cutoffs["<25"] > cutoff
    approved = approve_with_thresholds(pd_hat, groups, cutoffs)
    after = lowest_ratio(approved, groups)
    assert after is not None
    assert after >= 0.8 - 1e-12  # 120/200 ÷ 150/200 is 0.7999999999999999 in binary
    # just enough: one fewer young approval would fall below the minimum
    ratios = approval_ratios(approved, groups)
    young_rate_minus_one = (approved[:200].sum() - 1) / 200
    assert young_rate_minus_one / (approved[200:].mean()) < 0.8 - 1e-12 < ratios["<25"]
    # the adjusted score reproduces the decisions with the common cutoff
    adjusted = threshold_adjusted_scores(pd_hat, groups, cutoffs, cutoff)
    common = np.log(cutoff / (1 - cutoff))
    assert np.array_equal(adjusted < common, approved)


def test_group_thresholds_leave_a_fair_decision_alone() -> None:
    pd_hat = np.linspace(0.01, 0.9, 200)
    groups = ["a", "b"] * 100
    cutoff = 0.5
    assert group_thresholds(pd_hat, groups, cutoff, 0.8) == {"a": 0.5, "b": 0.5}
    # a small group is neither judged nor adjusted
    small = ["a"] * 190 + ["tiny"] * 10
    cutoffs = group_thresholds(np.r_[np.linspace(0.01, 0.4, 190), np.full(10, 0.9)], small, cutoff, 0.8)
    assert cutoffs["tiny"] == 0.5


def test_threshold_remedy_auc_cost_is_measured_on_the_adjusted_ranking() -> None:
    pd_hat, groups = _constructed()
    rng = np.random.default_rng(1)
    y = (rng.random(len(pd_hat)) < pd_hat).astype(int)
    cutoff = float(np.median(pd_hat))
    cutoffs = group_thresholds(pd_hat, groups, cutoff, 0.8)
    adjusted = threshold_adjusted_scores(pd_hat, groups, cutoffs, cutoff)
    # within a group the order is unchanged; across groups it moves, so the pooled AUC changes
    young = slice(0, 200)
    assert roc_auc_score(y[young], adjusted[young]) == pytest.approx(roc_auc_score(y[young], pd_hat[young]))
    assert roc_auc_score(y, adjusted) != pytest.approx(roc_auc_score(y, pd_hat), abs=1e-9)
