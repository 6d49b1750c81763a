"""The challenger: LightGBM (one thread, deterministic) with monotone constraints where the scorecard's
binning found a monotone bad rate, tuned honestly on the data it is given and nothing else.

Tuning (``tune=True``, the default) sees only the rows passed to :func:`fit_lightgbm` — in
cross-validation the training part of the fold, in a held-out / out-of-time evaluation the development
part — never the rows it will be judged on:

1. the rows are split into ``INNER_FOLDS`` stratified inner folds (seeded);
2. each of the ``SEARCH_SPACE`` configurations (at most 12: small trees, a minimum leaf size that
   scales with the rows, L2 penalty, column sampling) is trained on the inner folds with early stopping
   on the inner validation part (``EARLY_STOPPING_ROUNDS`` rounds without a fall in the mean validation
   log loss — stopping on AUC alone stops while the PDs are still squeezed around the mean, badly
   calibrated — at most ``MAX_ROUNDS``); its score is the mean inner-validation AUC at that round;
3. the best configuration is refitted on all the rows it was given, with its best number of rounds scaled
   by the ratio of rows (all rows / inner training rows, i.e. 1.5 with 3 inner folds): more rows support
   proportionally more boosting rounds at the same learning rate (a fixed rule, not tuned).

``tune=False`` is the old fixed setting (``LGB_PARAMS``, ``LGB_ROUNDS`` rounds, no early stopping), kept
to measure what the tuning buys (``xiaodai model evaluate --untuned``).
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd
from sklearn.model_selection import StratifiedKFold

from xiaodai.underwriting.scorecard_fitting import is_missing_value

LGB_ROUNDS = 300
LGB_PARAMS: dict[str, Any] = {
    "objective": "binary",
    "learning_rate": 0.05,
    "num_leaves": 8,
    "max_depth": 3,
    "min_data_in_leaf": 20,
    "feature_fraction": 0.7,
    "bagging_fraction": 0.8,
    "bagging_freq": 1,
    "lambda_l2": 1.0,
    "min_data_per_group": 20,
    "cat_smooth": 10.0,
    "cat_l2": 10.0,
    "num_threads": 1,
    "deterministic": True,
    "force_row_wise": True,
    "verbose": -1,
}

# Tuned fits: every configuration starts from these and overrides a few regularisation settings.
TUNING_BASE: dict[str, Any] = {
    **LGB_PARAMS,
    "metric": ["binary_logloss", "auc"],
    "first_metric_only": True,  # early stopping on the log loss: it needs the scale right, not just the order
    "learning_rate": 0.03,
    "max_depth": -1,
}
MAX_ROUNDS = 1000
EARLY_STOPPING_ROUNDS = 50
INNER_FOLDS = 3
MIN_LEAF_ROWS = 20  # the leaf-size shares never go below this many rows
# (num_leaves, min_data_in_leaf as a share of the rows, lambda_l2, feature_fraction): 12 configurations.
SEARCH_SPACE: tuple[dict[str, Any], ...] = tuple(
    {"num_leaves": leaves, "min_leaf_share": share, "lambda_l2": l2, "feature_fraction": ff}
    for leaves, share, l2, ff in (
        (4, 0.01, 1.0, 0.7),
        (4, 0.03, 1.0, 0.7),
        (4, 0.03, 10.0, 0.5),
        (4, 0.05, 10.0, 0.7),
        (8, 0.01, 10.0, 0.7),
        (8, 0.03, 1.0, 0.5),
        (8, 0.03, 10.0, 0.7),
        (8, 0.05, 10.0, 0.5),
        (16, 0.03, 10.0, 0.5),
        (16, 0.05, 10.0, 0.7),
        (2, 0.01, 1.0, 0.7),
        (2, 0.03, 10.0, 0.5),
    )
)


@dataclass(frozen=True, slots=True)
class TuningTrial:
    config: dict[str, Any]  # the search-space entry (min_leaf_share: leaf size as a share of the rows)
    auc_mean: float  # mean inner-validation AUC at the best round
    auc_sd: float
    rounds: int  # best round (early stopping)


@dataclass(slots=True)
class Tuning:
    trials: list[TuningTrial]
    chosen: int  # index into trials
    rows: int
    inner_folds: int = INNER_FOLDS

    @property
    def best(self) -> TuningTrial:
        return self.trials[self.chosen]

    def to_json(self) -> dict[str, Any]:
        return {
            "basis": (
                f"{self.inner_folds}-fold stratified inner CV on the {self.rows} training rows only; early "
                f"stopping after {EARLY_STOPPING_ROUNDS} rounds without a fall in mean validation log "
                f"loss (at most {MAX_ROUNDS}); the configuration with the best mean validation AUC is "
                "refitted on all training rows with its rounds × rows / inner training rows"
            ),
            "chosen": self.chosen,
            "trials": [
                {
                    **t.config,
                    "auc_mean": round(t.auc_mean, 6),
                    "auc_sd": round(t.auc_sd, 6),
                    "rounds": t.rounds,
                }
                for t in self.trials
            ],
        }


@dataclass(slots=True)
class LightGBMModel:
    booster: lgb.Booster
    features: list[str]
    categorical: dict[str, dict[str, int]]  # feature → {category: code}
    monotone: list[int]
    params: dict[str, Any]
    rounds: int
    tuning: Tuning | None = field(default=None)

    def matrix(self, frame: pd.DataFrame) -> np.ndarray:
        return encode_matrix(frame, self.features, self.categorical)

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        return np.asarray(self.booster.predict(self.matrix(frame)), dtype=float)

    def contributions(self, frame: pd.DataFrame) -> np.ndarray:
        """Per-row SHAP contributions in log-odds (LightGBM's ``pred_contrib``): one column per feature
        plus the expected value last; each row sums to the raw score."""
        return np.asarray(self.booster.predict(self.matrix(frame), pred_contrib=True), dtype=float)

    def to_json(self) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "features": self.features,
            "categorical": self.categorical,
            "monotone": self.monotone,
            "params": self.params,
            "num_boost_round": self.rounds,
            "missing": "NaN (missing values and unseen categories)",
        }
        if self.tuning is not None:
            payload["tuning"] = self.tuning.to_json()
        return payload


# --------------------------------------------------------------------------------------------- LightGBM


def category_maps(features: pd.DataFrame, categorical: Sequence[str]) -> dict[str, dict[str, int]]:
    maps: dict[str, dict[str, int]] = {}
    for name in categorical:
        values = sorted({str(v) for v in features[name].dropna()})
        maps[name] = {value: code for code, value in enumerate(values)}
    return maps


def encode_matrix(frame: pd.DataFrame, names: Sequence[str], maps: dict[str, dict[str, int]]) -> np.ndarray:
    """Float matrix for LightGBM: categories → codes from ``maps``, missing/unseen → NaN."""
    matrix = np.full((len(frame), len(names)), np.nan, dtype=float)
    for j, name in enumerate(names):
        if name not in frame.columns:
            continue
        column = frame[name]
        if name in maps:
            mapping = maps[name]
            matrix[:, j] = column.map(
                lambda v, m=mapping: np.nan if is_missing_value(v) else float(m.get(str(v).strip(), np.nan))
            ).to_numpy(dtype=float)
        else:
            matrix[:, j] = pd.to_numeric(column, errors="coerce").to_numpy(dtype=float)
    return matrix


def _safe_feature_names(names: Sequence[str]) -> list[str]:
    safe: list[str] = []
    for i, name in enumerate(names):
        cleaned = re.sub(r"[^0-9A-Za-z_]", "_", name) or f"f{i}"
        safe.append(cleaned if cleaned not in safe else f"{cleaned}_{i}")
    return safe


def resolve_config(config: dict[str, Any], rows: int) -> dict[str, Any]:
    """A search-space entry as LightGBM settings (the leaf-size share becomes a row count)."""
    resolved = {k: v for k, v in config.items() if k != "min_leaf_share"}
    resolved["min_data_in_leaf"] = max(MIN_LEAF_ROWS, round(float(config["min_leaf_share"]) * rows))
    return resolved


@dataclass(frozen=True, slots=True)
class _Design:
    matrix: np.ndarray
    label: np.ndarray
    names: list[str]
    safe_names: list[str]
    categorical_index: list[int]


def _dataset(design: _Design, params: dict[str, Any]) -> lgb.Dataset:
    return lgb.Dataset(
        design.matrix,
        label=design.label,
        feature_name=design.safe_names,
        categorical_feature=design.categorical_index,
        params={k: v for k, v in params.items() if k != "monotone_constraints"},
        free_raw_data=False,
    )


def tune_lightgbm(
    design: _Design, monotone: list[int], seed: int, space: Sequence[dict[str, Any]] = SEARCH_SPACE
) -> Tuning:
    """Pick a configuration by inner cross-validation with early stopping (see the module docstring)."""
    rows = len(design.label)
    inner_rows = rows * (INNER_FOLDS - 1) // INNER_FOLDS
    splitter = StratifiedKFold(n_splits=INNER_FOLDS, shuffle=True, random_state=seed)
    folds = list(splitter.split(design.matrix, design.label))
    trials: list[TuningTrial] = []
    for config in space:
        resolved = resolve_config(config, inner_rows)
        params = {**TUNING_BASE, **resolved, "seed": seed, "monotone_constraints": monotone}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            history = lgb.cv(
                params,
                _dataset(design, params),
                num_boost_round=MAX_ROUNDS,
                folds=folds,
                callbacks=[lgb.early_stopping(EARLY_STOPPING_ROUNDS, verbose=False)],
                return_cvbooster=False,
            )
        losses = np.asarray(history["valid binary_logloss-mean"], dtype=float)
        means = np.asarray(history["valid auc-mean"], dtype=float)
        sds = np.asarray(history["valid auc-stdv"], dtype=float)
        best = int(np.argmin(losses))
        trials.append(TuningTrial(dict(config), float(means[best]), float(sds[best]), best + 1))
    chosen = max(range(len(trials)), key=lambda i: (trials[i].auc_mean, -i))
    return Tuning(trials, chosen, rows)


def fit_lightgbm(
    features: pd.DataFrame,
    y: np.ndarray,
    categorical: Sequence[str],
    trends: dict[str, str | None],
    seed: int,
    *,
    tune: bool = True,
    weights: np.ndarray | None = None,
) -> LightGBMModel:
    """Fit the challenger on ``features``/``y`` only (tuned by default; ``weights``: sample weights of the
    final fit, e.g. a fairness reweighing)."""
    names = list(features.columns)
    cats = [c for c in names if c in categorical]
    maps = category_maps(features, cats)
    monotone = [
        {"ascending": 1, "descending": -1}.get(trends.get(n) or "", 0) if n not in maps else 0 for n in names
    ]
    design = _Design(
        encode_matrix(features, names, maps),
        np.asarray(y, dtype=float),
        names,
        _safe_feature_names(names),
        [names.index(c) for c in cats],
    )
    tuning: Tuning | None = None
    if tune:
        tuning = tune_lightgbm(design, monotone, seed)
        resolved = resolve_config(tuning.best.config, len(design.label))
        params = {**TUNING_BASE, **resolved, "seed": seed, "monotone_constraints": monotone}
        rounds = max(1, round(tuning.best.rounds * INNER_FOLDS / (INNER_FOLDS - 1)))
    else:
        params = {**LGB_PARAMS, "seed": seed, "monotone_constraints": monotone}
        rounds = LGB_ROUNDS
    dataset = _dataset(design, params)
    if weights is not None:
        dataset.set_weight(np.asarray(weights, dtype=float))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        booster = lgb.train(params, dataset, num_boost_round=rounds)
    public_params = {k: v for k, v in params.items() if k not in {"monotone_constraints", "verbose"}}
    return LightGBMModel(booster, names, maps, monotone, public_params, rounds, tuning)
