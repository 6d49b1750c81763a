"""The fairness remedies measured during training (``metrics.json`` → ``fairness_remedies``, shown on the
model card) for every protected attribute on which the champion fails the four-fifths rule.

Both remedies are measured on out-of-fold predictions of the same cross-validation folds as the champion
(same seed): reweighing refits the whole scorecard pipeline on each training part with Kamiran–Calders
weights computed from that training part only; the per-group thresholds are applied to the champion's
out-of-fold PDs. AUCs here are pooled over all out-of-fold predictions (one AUC on every row), so that
the champion and each remedy are compared on exactly the same rows.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.model_selection import StratifiedKFold

from xiaodai.underwriting.data_preparation import PreparedData
from xiaodai.underwriting.evaluation import auc_or_none, rounded
from xiaodai.underwriting.fairness import protected_groups
from xiaodai.underwriting.fairness_remedies import (
    approve_with_thresholds,
    group_thresholds,
    lowest_ratio,
    reweighing_weights,
    threshold_adjusted_scores,
)
from xiaodai.underwriting.promotion import PromotionPolicy
from xiaodai.underwriting.scorecard_fitting import (
    compile_scorecard,
    fit_scorecard,
    pd_from_scores,
    score_frame,
)
from xiaodai.underwriting.training_config import TrainingConfig


def reweighed_out_of_fold(data: PreparedData, config: TrainingConfig, groups: np.ndarray) -> np.ndarray:
    """Out-of-fold PDs of the scorecard refitted per fold with reweighing weights of its training part."""
    pd_hat = np.zeros(len(data.y))
    splitter = StratifiedKFold(n_splits=config.folds, shuffle=True, random_state=config.seed)
    for train_idx, test_idx in splitter.split(data.features, data.y):
        weights = reweighing_weights(groups[train_idx].tolist(), data.y[train_idx])
        scorecard = fit_scorecard(
            data.features.iloc[train_idx], data.y[train_idx], data.categorical, config, weights
        )
        card = compile_scorecard(scorecard, data.numeric, config)
        pd_hat[test_idx] = pd_from_scores(card, score_frame(card, data.features.iloc[test_idx]))
    return pd_hat


def _outcome(y: np.ndarray, approved: np.ndarray, labels: list[str], auc: float | None) -> dict[str, Any]:
    ratio = lowest_ratio(approved, labels)
    return {
        "min_approval_ratio": None if ratio is None else rounded(ratio),
        "auc": None if auc is None else rounded(auc),
        "approval_rate": rounded(float(approved.mean())),
        "bad_rate_approved": rounded(float(y[approved].mean())) if approved.any() else None,
    }


def fairness_remedies(
    data: PreparedData,
    config: TrainingConfig,
    pd_scorecard: np.ndarray,
    fairness: dict[str, Any],
    policy: PromotionPolicy,
) -> dict[str, Any]:
    """Before/after AIR and AUC of each remedy the policy lists, per failing protected attribute."""
    y = data.y
    cutoff = float(fairness["cutoff_pd"])
    base_auc = auc_or_none(y, pd_scorecard)
    report: dict[str, Any] = {
        "min_approval_ratio": policy.min_adverse_impact_ratio,
        "remedies": list(policy.remedies),
        "basis": "pooled out-of-fold predictions of the cross-validation folds",
        "attributes": [],
    }
    for attribute in fairness["attributes"]:
        if attribute["four_fifths_ok"] is not False:
            continue
        name = str(attribute["attribute"])
        labels = protected_groups(name, data.protected_values[name])[0].astype(str).tolist()
        before = _outcome(y, pd_scorecard < cutoff, labels, base_auc)
        remedies: list[dict[str, Any]] = []
        if "reweighing" in policy.remedies:
            pd_rw = reweighed_out_of_fold(data, config, np.asarray(labels, dtype=object))
            cut_rw = float(np.median(pd_rw)) if config.cutoff is None else float(config.cutoff)
            after = _outcome(y, pd_rw < cut_rw, labels, auc_or_none(y, pd_rw))
            remedies.append({"remedy": "reweighing", "after": after})
        if "group_thresholds" in policy.remedies:
            cutoffs = group_thresholds(pd_scorecard, labels, cutoff, policy.min_adverse_impact_ratio)
            approved = approve_with_thresholds(pd_scorecard, labels, cutoffs)
            adjusted = threshold_adjusted_scores(pd_scorecard, labels, cutoffs, cutoff)
            after = _outcome(y, approved, labels, auc_or_none(y, adjusted))
            remedies.append(
                {
                    "remedy": "group_thresholds",
                    "after": after,
                    "cutoffs": {g: rounded(c) for g, c in cutoffs.items()},
                }
            )
        for remedy in remedies:
            auc_after = remedy["after"]["auc"]
            remedy["auc_cost"] = (
                None if base_auc is None or auc_after is None else rounded(base_auc - auc_after)
            )
            ratio = remedy["after"]["min_approval_ratio"]
            remedy["meets_rule"] = None if ratio is None else bool(ratio >= policy.min_adverse_impact_ratio)
        report["attributes"].append({"attribute": name, "before": before, "remedies": remedies})
    return report
