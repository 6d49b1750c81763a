"""Champion against challenger on rows neither model saw: a held-out evaluation and the promotion check
behind ``xiaodai model compare``.

The rows are split once into a development part (both models are fitted on it, the challenger's tuning
included — nested: the inner folds are carved out of the development part only) and a test part:

* ``out_of_time`` (the default): rows ordered by ``order_by`` (a date or any increasing number, e.g. the
  application date; ties keep file order) and the last ``share`` of them held out — the later
  applications. Without ``order_by`` the file order is the time order; that is the documented choice for
  the public sets, which carry no date (German credit, CreditScoring, lending_club: the rows are kept in
  the order they were published in, which is not known to be chronological — so their "out-of-time"
  figures are a proxy, and a lender must name its application-date column).
* ``stratified``: a seeded stratified random split (the classic held-out set; promotion refuses it).

Evidence per model on the test part: AUC, KS, expected calibration error, and the lowest adverse-impact
ratio over the protected attributes when both models approve the same share of applicants. The challenger's
per-decision reasons (``pred_contrib``) are checked to add up to its score and to carry plain labels.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from xiaodai.underwriting.challenger_reasons import contribution_reasons, unlabelled_features
from xiaodai.underwriting.data_preparation import prepare
from xiaodai.underwriting.evaluation import fold_metrics, rounded
from xiaodai.underwriting.fairness import protected_groups
from xiaodai.underwriting.feature_labels import LABELS_EN, LABELS_ZH
from xiaodai.underwriting.lightgbm_challenger import fit_lightgbm
from xiaodai.underwriting.promotion import (
    Explainability,
    ModelEvidence,
    PromotionPolicy,
    PromotionVerdict,
    approve_share,
    expected_calibration_error,
    judge,
    lowest_approval_ratio,
)
from xiaodai.underwriting.scorecard_fitting import (
    binning_trends,
    compile_scorecard,
    fit_scorecard,
    pd_from_scores,
    score_frame,
)
from xiaodai.underwriting.training_config import TrainingConfig, TrainingError

SPLITS = ("out_of_time", "stratified")


@dataclass(frozen=True, slots=True)
class HoldoutSpec:
    split: str = "out_of_time"
    share: float = 0.3
    order_by: str | None = None

    def validate(self) -> None:
        if self.split not in SPLITS:
            raise TrainingError(f"--split must be one of {', '.join(SPLITS)}, not {self.split!r}")
        if not 0.05 <= self.share <= 0.5:
            raise TrainingError(f"--holdout-share must be between 0.05 and 0.5, not {self.share}")
        if self.order_by is not None and self.split != "out_of_time":
            raise TrainingError("--order-by only applies to --split out_of_time")


def _order_values(frame: pd.DataFrame, column: str) -> np.ndarray:
    if column not in frame.columns:
        raise TrainingError(f"--order-by: no such column {column!r}")
    values = frame[column]
    if values.isna().any():
        raise TrainingError(f"--order-by: {int(values.isna().sum())} row(s) have no {column!r} value")
    if pd.api.types.is_numeric_dtype(values.dtype) and not pd.api.types.is_bool_dtype(values.dtype):
        return np.asarray(values.to_numpy(dtype=float), dtype=float)
    parsed = pd.to_datetime(values, errors="coerce", format="mixed")
    if parsed.isna().any():
        bad = values[parsed.isna()].iloc[0]
        raise TrainingError(f"--order-by: {column!r} holds {bad!r}, which is neither a number nor a date")
    return np.asarray(parsed.to_numpy(dtype="datetime64[ns]").astype("int64"), dtype=float)


def split_rows(
    y: np.ndarray, spec: HoldoutSpec, order: np.ndarray | None, seed: int
) -> tuple[np.ndarray, np.ndarray, str]:
    """(development row indices, test row indices, a sentence saying how)."""
    n = len(y)
    test_rows = round(n * spec.share)
    if spec.split == "stratified":
        dev, test = train_test_split(np.arange(n), test_size=test_rows, stratify=y, random_state=seed)
        return np.sort(dev), np.sort(test), f"stratified random {spec.share:.0%} held out (seed {seed})"
    ranked = np.arange(n) if order is None else np.argsort(order, kind="mergesort")
    how = "file order (no date column named)" if order is None else f"ordered by {spec.order_by}"
    dev, test = np.sort(ranked[: n - test_rows]), np.sort(ranked[n - test_rows :])
    return dev, test, f"out of time: the last {spec.share:.0%} of rows by {how} held out"


@dataclass(slots=True)
class HoldoutResult:
    basis: str
    out_of_time: bool
    dev_rows: int
    test_rows: int
    test_bads: int
    metrics: dict[str, dict[str, float]]  # scorecard / lightgbm → auc, ks, gini, calibration_error
    champion: ModelEvidence
    challenger: ModelEvidence
    explainability: Explainability
    verdict: PromotionVerdict
    sample_reasons: list[dict[str, Any]]
    tuning: dict[str, Any] | None

    def to_json(self) -> dict[str, Any]:
        return {
            "basis": self.basis,
            "out_of_time": self.out_of_time,
            "rows": {"development": self.dev_rows, "test": self.test_rows, "test_bads": self.test_bads},
            "models": self.metrics,
            "evidence": {"champion": self.champion.to_json(), "challenger": self.challenger.to_json()},
            "explainability": {
                "max_additivity_error": self.explainability.max_additivity_error,
                "unlabelled_features": list(self.explainability.unlabelled),
                "sample_reasons": self.sample_reasons,
            },
            "verdict": self.verdict.to_json(),
            "tuning": self.tuning,
        }


def _min_ratio(pd_hat: np.ndarray, groups: list[list[str]], share: float) -> float | None:
    approved = approve_share(pd_hat, share)
    ratios = [r for labels in groups if (r := lowest_approval_ratio(approved, labels)) is not None]
    return min(ratios) if ratios else None


def evaluate_holdout(
    frame: pd.DataFrame, config: TrainingConfig, spec: HoldoutSpec, policy: PromotionPolicy
) -> HoldoutResult:
    """Fit both models on the development rows, measure them on the test rows, apply the policy."""
    spec.validate()
    config.validate()
    if config.target in frame.columns:
        frame = frame.loc[frame[config.target].notna()].reset_index(drop=True)
    order = None if spec.order_by is None else _order_values(frame, spec.order_by)
    if spec.order_by is not None and spec.order_by not in config.exclude:
        config = replace(config, exclude=(*config.exclude, spec.order_by))
    data = prepare(frame, config)
    dev, test, basis = split_rows(data.y, spec, order, config.seed)
    y_dev, y_test = data.y[dev], data.y[test]
    if len(np.unique(y_test)) < 2 or len(np.unique(y_dev)) < 2:
        raise TrainingError("the held-out part needs both good and bad rows: use a larger --holdout-share")
    x_dev, x_test = data.features.iloc[dev], data.features.iloc[test]
    scorecard = fit_scorecard(x_dev, y_dev, data.categorical, config)
    card = compile_scorecard(scorecard, data.numeric, config)
    pd_sc = pd_from_scores(card, score_frame(card, x_test))
    trends = binning_trends(scorecard.binning_process_, data.numeric)
    model = fit_lightgbm(x_dev, y_dev, data.categorical, trends, config.seed, tune=config.tune)
    pd_lgb = model.predict(x_test)

    groups = [
        protected_groups(name, data.protected_values[name].iloc[test])[0].astype(str).tolist()
        for name in data.protected
    ]
    evidence = {}
    metrics: dict[str, dict[str, float]] = {}
    for key, pd_hat in (("scorecard", pd_sc), ("lightgbm", pd_lgb)):
        ece = expected_calibration_error(y_test, pd_hat)
        auc_ks = fold_metrics(y_test, pd_hat)
        metrics[key] = {k: rounded(v) for k, v in {**auc_ks, "calibration_error": ece}.items()}
        evidence[key] = ModelEvidence(auc_ks["auc"], ece, _min_ratio(pd_hat, groups, policy.approval_share))

    contributions = model.contributions(x_test)
    raw = np.asarray(model.booster.predict(model.matrix(x_test), raw_score=True), dtype=float)
    additivity = float(np.max(np.abs(contributions.sum(axis=1) - raw))) if len(raw) else 0.0
    explainability = Explainability(additivity, unlabelled_features(model.features, LABELS_ZH, LABELS_EN))
    samples = []
    for i in np.argsort(-pd_lgb, kind="mergesort")[:3]:
        reasons = contribution_reasons(contributions[i], model.features, LABELS_ZH, LABELS_EN)
        samples.append(
            {
                "row": int(test[i]),
                "pd": rounded(float(pd_lgb[i])),
                "reasons": [
                    {
                        "feature": r.feature,
                        "label_zh": r.label_zh,
                        "label_en": r.label_en,
                        "contribution": rounded(r.contribution),
                    }
                    for r in reasons
                ],
            }
        )
    verdict = judge(
        champion=evidence["scorecard"],
        challenger=evidence["lightgbm"],
        explainability=explainability,
        out_of_time=spec.split == "out_of_time",
        out_of_time_bads=int(y_test.sum()),
        policy=policy,
    )
    return HoldoutResult(
        basis,
        spec.split == "out_of_time",
        len(dev),
        len(test),
        int(y_test.sum()),
        metrics,
        evidence["scorecard"],
        evidence["lightgbm"],
        explainability,
        verdict,
        samples,
        None if model.tuning is None else model.tuning.to_json(),
    )
