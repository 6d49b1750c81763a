"""Train a credit model on any tabular file (CSV or Parquet) given a target column and its "bad" value.

Champion: a WOE scorecard (optbinning ``BinningProcess`` with optimal monotone binning of numeric features,
sklearn ``LogisticRegression``, ``optbinning.scorecard.Scorecard`` with ``scaling_method="pdo_odds"``:
20 points to double the odds, 600 points at 50:1 good:bad odds), compiled into a
:class:`~xiaodai.underwriting.artifact.CompiledScorecard` that reproduces ``Scorecard.score()`` on the
training data (checked on every train). Challenger: LightGBM (``lightgbm.train``, one thread,
deterministic) with monotone constraints where the binning found a monotone bad rate.

Both are evaluated with seeded stratified k-fold cross-validation; each fold refits the whole pipeline
(binning, feature selection, logistic regression, compilation; LightGBM) on the training part, and the
scorecard is scored on the held-out part through its *compiled* table, exactly as it will be served.

Protected attributes (default: any column whose lower-cased name contains "age", "sex", "gender", "marital"
or "personal_status", ignoring ordinary words that merely contain the letters "age" such as "percentage" or
"mortgage"; ``protected=`` replaces the list) are never features unless explicitly allowed
(``allow_protected=``), are listed in the manifest so that they are never used as reason codes, and are used
for fairness metrics only: approval-rate ratios and AUC by group, on out-of-fold predictions. An applicant is
"approved" when the champion's out-of-fold PD is below the portfolio's median PD (or below ``cutoff`` when
given); the approval ratio of a group is its approval rate divided by the highest group's (the "four-fifths"
adverse-impact ratio); groups under 30 rows are reported but left out of the lowest ratio. Numeric
protected attributes are bucketed (ages: <25, 25–34, 35–49, 50+).

``metrics.json``::

    {"models": {"scorecard": {"auc_mean", "auc_sd", "ks_mean", "ks_sd", "gini_mean", "gini_sd",
                              "folds": [{"fold", "n", "bads", "auc", "ks", "gini"}]},
                "lightgbm": {...}},
     "cv": {"folds", "seed", "stratified", "basis"},
     "calibration": {"basis", "scorecard": [{"decile", "count", "mean_pd", "bad_rate", "pd_min", "pd_max"}],
                     "lightgbm": [...]},
     "score_distribution": {"basis", "bin_width", "edges", "good", "bad"},
     "bins": {feature: {"kind", "label_zh", "label_en", "iv", "selected", "monotonic_trend",
                        "bins": [{"label", "count", "goods", "bads", "event_rate", "woe", "points"}]}},
     "fairness": {"rule", "cutoff_pd", "attributes": [...]},
     "fairness_remedies": {"min_approval_ratio", "remedies", "basis",
                           "attributes": [{"attribute", "before", "remedies": [{"remedy", "after",
                                           "auc_cost", "meets_rule", "cutoffs"?}]}]},
     "compile_check": {"rows", "max_abs_diff"}, "timing": {"seconds"}, "warnings": [...]}

Standard deviations are sample standard deviations (ddof=1) over the folds.

This module runs the steps and writes the artifact; the steps live beside it: ``training_config``,
``table_file`` (reading), ``data_preparation``, ``scorecard_fitting`` (champion), ``lightgbm_challenger``,
``evaluation`` (metrics, calibration, bins report), ``fairness`` and ``feature_labels``. Their public names
are re-exported here.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.model_selection import StratifiedKFold

from xiaodai import __version__
from xiaodai.underwriting.artifact import CompiledScorecard
from xiaodai.underwriting.data_preparation import (
    MIN_BADS,
    MIN_GOODS,
    MIN_ROWS,
    NUMERIC_SHARE,
    PROTECTED_KEYWORDS,
    PreparedData,
    default_protected,
    is_protected_name,
    prepare,
)
from xiaodai.underwriting.evaluation import (
    bins_report,
    calibration_table,
    fold_metrics,
    ks_statistic,
    rounded,
    score_distribution,
    summarise_folds,
    truth_calibration,
)
from xiaodai.underwriting.fairness import AGE_BUCKETS, MIN_FAIRNESS_GROUP, MISSING_GROUP, fairness_report
from xiaodai.underwriting.feature_labels import LABELS_EN, LABELS_ZH
from xiaodai.underwriting.lightgbm_challenger import (
    LGB_PARAMS,
    LGB_ROUNDS,
    LightGBMModel,
    category_maps,
    encode_matrix,
    fit_lightgbm,
)
from xiaodai.underwriting.promotion import default_promotion_policy
from xiaodai.underwriting.scorecard_fitting import (
    IV_MIN,
    binning_trends,
    compile_scorecard,
    fit_scorecard,
    numeric_labels,
    pd_from_scores,
    score_frame,
    trend_of,
)
from xiaodai.underwriting.table_file import file_sha256, read_table
from xiaodai.underwriting.training_config import TrainingConfig, TrainingError
from xiaodai.underwriting.training_fairness import fairness_remedies

# Everything the steps define stays importable from here (the CLI, the demo seed, tests and benchmarks do).
__all__ = [
    "AGE_BUCKETS",
    "IV_MIN",
    "LABELS_EN",
    "LABELS_ZH",
    "LGB_PARAMS",
    "LGB_ROUNDS",
    "MIN_BADS",
    "MIN_FAIRNESS_GROUP",
    "MIN_GOODS",
    "MIN_ROWS",
    "MISSING_GROUP",
    "NUMERIC_SHARE",
    "PROTECTED_KEYWORDS",
    "CrossValidation",
    "LightGBMModel",
    "PreparedData",
    "Progress",
    "TrainingConfig",
    "TrainingError",
    "TrainingResult",
    "artifact_version",
    "binning_trends",
    "bins_report",
    "calibration_table",
    "category_maps",
    "compile_scorecard",
    "config_dict",
    "cross_validate",
    "default_protected",
    "encode_matrix",
    "fairness_report",
    "file_sha256",
    "fit_lightgbm",
    "fit_scorecard",
    "fold_metrics",
    "is_protected_name",
    "ks_statistic",
    "numeric_labels",
    "pd_from_scores",
    "prepare",
    "read_table",
    "score_distribution",
    "score_frame",
    "summarise_folds",
    "train",
    "trend_of",
]

Progress = Callable[[str], None]


@dataclass(slots=True)
class TrainingResult:
    out: Path
    version: str
    manifest: dict[str, Any]
    metrics: dict[str, Any]
    scorecard: CompiledScorecard
    warnings: list[str]

    def summary(self) -> dict[str, Any]:
        """The ``--json`` payload."""
        keys = ("auc_mean", "auc_sd", "ks_mean", "ks_sd", "gini_mean", "gini_sd")
        models = {name: {k: block[k] for k in keys} for name, block in self.metrics["models"].items()}
        return {"models": models, "version": self.version, "out": str(self.out)}


# --------------------------------------------------------------------------------------------- training


@dataclass(slots=True)
class CrossValidation:
    scorecard_folds: list[dict[str, Any]]
    lightgbm_folds: list[dict[str, Any]]
    pd_scorecard: np.ndarray
    pd_lightgbm: np.ndarray
    scores: np.ndarray


def cross_validate(
    data: PreparedData, config: TrainingConfig, progress: Progress | None = None
) -> CrossValidation:
    """Stratified k-fold: refit everything per fold; the scorecard is scored through its compiled table."""
    n = len(data.y)
    pd_sc, pd_lgb, scores = np.zeros(n), np.zeros(n), np.zeros(n)
    sc_folds: list[dict[str, Any]] = []
    lgb_folds: list[dict[str, Any]] = []
    splitter = StratifiedKFold(n_splits=config.folds, shuffle=True, random_state=config.seed)
    for k, (train_idx, test_idx) in enumerate(splitter.split(data.features, data.y), start=1):
        if progress:
            progress(f"cross-validation fold {k}/{config.folds}")
        x_train, x_test = data.features.iloc[train_idx], data.features.iloc[test_idx]
        y_train, y_test = data.y[train_idx], data.y[test_idx]
        scorecard = fit_scorecard(x_train, y_train, data.categorical, config)
        card = compile_scorecard(scorecard, data.numeric, config)
        fold_scores = score_frame(card, x_test)
        scores[test_idx] = fold_scores
        pd_sc[test_idx] = pd_from_scores(card, fold_scores)
        trends = binning_trends(scorecard.binning_process_, data.numeric)
        model = fit_lightgbm(x_train, y_train, data.categorical, trends, config.seed, tune=config.tune)
        pd_lgb[test_idx] = model.predict(x_test)
        base = {"fold": k, "n": len(test_idx), "bads": int(y_test.sum())}
        sc_folds.append({**base, **fold_metrics(y_test, pd_sc[test_idx])})
        lgb_folds.append({**base, **fold_metrics(y_test, pd_lgb[test_idx])})
    return CrossValidation(sc_folds, lgb_folds, pd_sc, pd_lgb, scores)


def config_dict(config: TrainingConfig, protected: Sequence[str]) -> dict[str, Any]:
    return {
        "target": config.target,
        "bad_value": config.bad_value,
        "exclude": sorted(config.exclude),
        "protected": sorted(protected),
        "allow_protected": sorted(config.allow_protected),
        "pdo": config.pdo,
        "base_score": config.base_score,
        "base_odds": config.base_odds,
        "seed": config.seed,
        "folds": config.folds,
        "cutoff": config.cutoff,
        "tune": config.tune,
        **({"true_pd": config.true_pd} if config.true_pd else {}),  # older versions' hashes unchanged
    }


def artifact_version(data_hash: str, config: dict[str, Any]) -> str:
    canonical = json.dumps(config, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256((data_hash + canonical + __version__).encode("utf-8")).hexdigest()[:16]


def _write_json(path: Path, payload: Any) -> None:
    path.write_text(json.dumps(payload, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def _truth_metrics(data: PreparedData, cv: CrossValidation) -> dict[str, Any]:
    """``calibration_truth`` when the data carries the known true PD (the synthetic population)."""
    if data.truth is None:
        return {}
    return {
        "calibration_truth": {
            "basis": "out-of-fold predictions against the data-generating process's true PD",
            "scorecard": truth_calibration(data.y, cv.pd_scorecard, data.truth),
            "lightgbm": truth_calibration(data.y, cv.pd_lightgbm, data.truth),
        }
    }


def train(
    data_path: str | Path,
    config: TrainingConfig,
    out: str | Path,
    progress: Progress | None = None,
) -> TrainingResult:
    """Read, validate, cross-validate, fit the final models and write the artifact directory ``out``."""
    started = time.perf_counter()
    config.validate()
    path, out_dir = Path(data_path), Path(out)
    if progress:
        progress(f"reading {path.name}")
    frame = read_table(path)
    data = prepare(frame, config)
    data_hash = file_sha256(path)

    cv = cross_validate(data, config, progress)
    sc_auc = float(np.mean([f["auc"] for f in cv.scorecard_folds]))
    if sc_auc < 0.6:
        data.warnings.append(f"the scorecard barely beats chance (cross-validated AUC {sc_auc:.3f})")

    if progress:
        progress("fitting the final scorecard and LightGBM on all rows")
    scorecard = fit_scorecard(data.features, data.y, data.categorical, config)
    card = compile_scorecard(scorecard, data.numeric, config)
    reference = np.asarray(scorecard.score(data.features), dtype=float)
    compiled_scores = score_frame(card, data.features)
    max_diff = float(np.max(np.abs(reference - compiled_scores)))
    if not max_diff < 1e-6:  # a bug, not bad input
        raise RuntimeError(f"compiled scorecard differs from optbinning by {max_diff:g} points")
    trends = binning_trends(scorecard.binning_process_, data.numeric)
    challenger = fit_lightgbm(data.features, data.y, data.categorical, trends, config.seed, tune=config.tune)

    if progress:
        progress("measuring the fairness remedies")
    fairness = fairness_report(data, cv.pd_scorecard, cv.pd_lightgbm, config.cutoff)

    if progress:
        progress("writing the artifact")
    cfg = config_dict(config, data.protected)
    version = artifact_version(data_hash, cfg)
    manifest: dict[str, Any] = {
        "version": version,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "data_hash": data_hash,
        "code_version": __version__,
        "config": cfg,
        "features": [f.name for f in card.features],
        "protected": sorted(data.protected),
        "dataset": {"rows": len(data.y), "bad_rate": rounded(float(data.y.mean())), "source": path.name},
        "models": {"champion": "scorecard", "challenger": "lightgbm"},
        "challenger_features": challenger.features,
    }
    metrics: dict[str, Any] = {
        "models": {
            "scorecard": summarise_folds(cv.scorecard_folds),
            "lightgbm": summarise_folds(cv.lightgbm_folds),
        },
        "cv": {
            "folds": config.folds,
            "seed": config.seed,
            "stratified": True,
            "basis": "each fold refits binning, selection, regression and LightGBM on its training part",
        },
        "calibration": {
            "basis": "out-of-fold predictions",
            "scorecard": calibration_table(data.y, cv.pd_scorecard),
            "lightgbm": calibration_table(data.y, cv.pd_lightgbm),
        },
        "score_distribution": score_distribution(data.y, cv.scores, config.pdo),
        "bins": bins_report(scorecard, card, data.numeric),
        "fairness": fairness,
        "fairness_remedies": fairness_remedies(
            data, config, cv.pd_scorecard, fairness, default_promotion_policy()
        ),
        **_truth_metrics(data, cv),
        "compile_check": {"rows": len(data.y), "max_abs_diff": max_diff},
        "timing": {"seconds": rounded(time.perf_counter() - started, 3)},
        "warnings": list(data.warnings),
    }

    from xiaodai.underwriting import model_card  # local: keeps HTML rendering off the import path of scoring

    out_dir.mkdir(parents=True, exist_ok=True)
    _write_json(out_dir / "manifest.json", manifest)
    (out_dir / "scorecard.json").write_text(json.dumps(card.to_json(), ensure_ascii=False), encoding="utf-8")
    (out_dir / "lightgbm.txt").write_text(challenger.booster.model_to_string(), encoding="utf-8")
    _write_json(out_dir / "lightgbm.json", challenger.to_json())
    for lang in ("zh", "en"):
        html = model_card.render(lang, manifest=manifest, metrics=metrics, scorecard=card)
        (out_dir / f"card.{lang}.html").write_text(html, encoding="utf-8")
    metrics["timing"]["seconds"] = rounded(time.perf_counter() - started, 3)
    _write_json(out_dir / "metrics.json", metrics)
    return TrainingResult(out_dir, version, manifest, metrics, card, list(data.warnings))
