"""Promotion policy: every rule on both sides of its margin (at the margin passes, one step past fails)."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import numpy as np
import pytest

from xiaodai.underwriting.promotion import (
    AUC_GAIN_BELOW_MARGIN,
    CALIBRATION_ERROR_ABOVE_MAX,
    FAIRNESS_GAP_ABOVE_MAX,
    PROMOTE,
    REASONS_NOT_EXPLAINABLE,
    SPLIT_NOT_OUT_OF_TIME,
    TOO_FEW_OUT_OF_TIME_BADS,
    Explainability,
    ModelEvidence,
    PolicyError,
    approve_share,
    default_promotion_policy,
    expected_calibration_error,
    judge,
    lowest_approval_ratio,
    parse_promotion_policy,
)

POLICY = default_promotion_policy()
CLEAR = Explainability(max_additivity_error=1e-9, unlabelled=())
CHAMPION = ModelEvidence(auc=0.70, calibration_error=0.01, min_approval_ratio=0.75)


def verdict(challenger: ModelEvidence, **overrides: Any) -> tuple[bool, tuple[str, ...]]:
    args: dict[str, Any] = {
        "champion": CHAMPION,
        "challenger": challenger,
        "explainability": CLEAR,
        "out_of_time": True,
        "out_of_time_bads": POLICY.min_out_of_time_bads,
        "policy": POLICY,
    }
    result = judge(**{**args, **overrides})
    return result.promote, result.reasons


def good(**changes: Any) -> ModelEvidence:
    base = ModelEvidence(auc=0.70 + POLICY.min_auc_gain, calibration_error=0.02, min_approval_ratio=0.75)
    return replace(base, **changes)


def test_the_shipped_policy() -> None:
    assert (POLICY.min_auc_gain, POLICY.max_calibration_error, POLICY.max_fairness_gap) == (0.01, 0.03, 0.05)
    assert POLICY.remedies == ("reweighing", "group_thresholds")
    assert POLICY.min_adverse_impact_ratio == 0.8


def test_auc_gain_exactly_at_the_margin_promotes_and_just_below_refuses() -> None:
    assert verdict(good()) == (True, (PROMOTE,))
    assert verdict(good(auc=0.70 + POLICY.min_auc_gain - 0.0001)) == (False, (AUC_GAIN_BELOW_MARGIN,))
    assert verdict(good(auc=0.69)) == (False, (AUC_GAIN_BELOW_MARGIN,))


def test_calibration_error_at_the_maximum_passes_and_above_refuses() -> None:
    assert verdict(good(calibration_error=POLICY.max_calibration_error))[0] is True
    refused = verdict(good(calibration_error=POLICY.max_calibration_error + 0.0001))
    assert refused == (False, (CALIBRATION_ERROR_ABOVE_MAX,))


def test_fairness_gap_at_the_maximum_passes_and_above_refuses() -> None:
    at_limit = 0.75 - POLICY.max_fairness_gap
    assert verdict(good(min_approval_ratio=at_limit))[0] is True
    refused = verdict(good(min_approval_ratio=at_limit - 0.0001))
    assert refused == (False, (FAIRNESS_GAP_ABOVE_MAX,))
    # a fairer challenger is never refused for fairness; no protected attribute → not judged
    assert verdict(good(min_approval_ratio=0.95))[0] is True
    assert verdict(good(min_approval_ratio=None))[0] is True


def test_only_out_of_time_evidence_with_enough_bads_can_promote() -> None:
    assert verdict(good(), out_of_time=False) == (False, (SPLIT_NOT_OUT_OF_TIME,))
    assert verdict(good(), out_of_time_bads=POLICY.min_out_of_time_bads)[0] is True
    too_few = verdict(good(), out_of_time_bads=POLICY.min_out_of_time_bads - 1)
    assert too_few == (False, (TOO_FEW_OUT_OF_TIME_BADS,))


def test_reasons_must_add_up_and_carry_plain_labels() -> None:
    unlabelled = Explainability(1e-9, ("x7",))
    assert verdict(good(), explainability=unlabelled) == (False, (REASONS_NOT_EXPLAINABLE,))
    lenient = replace(POLICY, require_plain_labels=False)
    assert verdict(good(), explainability=unlabelled, policy=lenient)[0] is True
    broken = Explainability(1e-3, ())
    assert verdict(good(), explainability=broken) == (False, (REASONS_NOT_EXPLAINABLE,))


def test_every_failed_rule_is_listed() -> None:
    bad = ModelEvidence(auc=0.60, calibration_error=0.2, min_approval_ratio=0.5)
    promote, reasons = verdict(bad, out_of_time=False, explainability=Explainability(1.0, ("a",)))
    assert not promote
    assert set(reasons) == {
        SPLIT_NOT_OUT_OF_TIME,
        AUC_GAIN_BELOW_MARGIN,
        CALIBRATION_ERROR_ABOVE_MAX,
        FAIRNESS_GAP_ABOVE_MAX,
        REASONS_NOT_EXPLAINABLE,
    }


def _payload() -> dict[str, Any]:
    from importlib.resources import files

    text = files("xiaodai.underwriting").joinpath("data", "promotion_policy.json").read_text("utf-8")
    payload: dict[str, Any] = json.loads(text)
    return payload


@pytest.mark.parametrize(
    ("section", "key", "value", "message"),
    [
        ("promotion", "min_auc_gain", "lots", "malformed"),
        ("promotion", "max_calibration_error", -0.01, "calibration limit"),
        ("promotion", "max_fairness_gap", -0.1, "max_fairness_gap"),
        ("promotion", "approval_share", 1.0, "approval_share"),
        ("fairness", "min_adverse_impact_ratio", 0.0, "min_adverse_impact_ratio"),
        ("fairness", "remedies", ["quotas"], "unknown remedy 'quotas'"),
    ],
)
def test_bad_policies_are_refused(section: str, key: str, value: Any, message: str) -> None:
    payload = _payload()
    payload[section][key] = value
    with pytest.raises(PolicyError, match=message):
        parse_promotion_policy(payload)
    del payload[section][key]
    with pytest.raises(PolicyError, match="missing or malformed"):
        parse_promotion_policy(payload)


def test_expected_calibration_error_by_hand() -> None:
    # 20 rows, 10 deciles of 2: predicted 0.1 everywhere; bad rate 0 in five deciles, 0.5 in five
    pd_hat = np.full(20, 0.1)
    y = np.array([0, 0] * 5 + [0, 1] * 5)
    assert expected_calibration_error(y, pd_hat) == pytest.approx(0.5 * 0.1 + 0.5 * 0.4)
    perfect = np.repeat(np.arange(10) / 10, 10)
    y_perfect = np.concatenate([np.r_[np.ones(k), np.zeros(10 - k)] for k in range(10)])
    assert expected_calibration_error(y_perfect, perfect) == pytest.approx(0.0)


def test_approval_share_and_lowest_ratio() -> None:
    pd_hat = np.array([0.5, 0.1, 0.3, 0.2])
    assert approve_share(pd_hat, 0.5).tolist() == [False, True, False, True]
    approved = np.array([True] * 40 + [False] * 10 + [True] * 20 + [False] * 30)
    labels = ["a"] * 50 + ["b"] * 50
    assert lowest_approval_ratio(approved, labels) == pytest.approx(0.4 / 0.8)
    assert lowest_approval_ratio(approved, labels, min_group=51) is None
