"""The champion: fitting the optbinning WOE scorecard, compiling it into the artifact's points table, and
scoring a table with the compiled card."""

from __future__ import annotations

import itertools
import math
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from optbinning import BinningProcess
from optbinning.scorecard import Scorecard
from sklearn.linear_model import LogisticRegression

from xiaodai.underwriting.artifact import CompiledScorecard, FeatureBins
from xiaodai.underwriting.feature_labels import LABELS_EN, LABELS_ZH
from xiaodai.underwriting.training_config import TrainingConfig, TrainingError

IV_MIN = 0.02  # features below this information value are "not predictive" and left out of the scorecard


# --------------------------------------------------------------------------------------------- scorecard


def _binning_process(names: list[str], categorical: list[str]) -> BinningProcess:
    numeric_params = {n: {"monotonic_trend": "auto_asc_desc"} for n in names if n not in categorical}
    return BinningProcess(
        names,
        categorical_variables=list(categorical),
        binning_fit_params=numeric_params,
        selection_criteria={"iv": {"min": IV_MIN}},
        n_jobs=1,
    )


def fit_scorecard(
    features: pd.DataFrame,
    y: np.ndarray,
    categorical: list[str],
    config: TrainingConfig,
    weights: np.ndarray | None = None,
) -> Scorecard:
    """Binning + logistic regression + pdo/odds scaling; missing values get their own (empirical) WoE.
    ``weights``: sample weights for the binning and the regression (e.g. a fairness reweighing)."""
    names = list(features.columns)
    scorecard = Scorecard(
        binning_process=_binning_process(names, [c for c in categorical if c in names]),
        estimator=LogisticRegression(max_iter=1000),
        scaling_method="pdo_odds",
        scaling_method_params={
            "pdo": config.pdo,
            "odds": config.base_odds,
            "scorecard_points": config.base_score,
        },
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            scorecard.fit(
                features,
                y,
                sample_weight=weights,
                metric_missing="empirical",
                metric_special="empirical",
            )
        except ValueError as exc:
            if _nothing_selected(scorecard):
                raise TrainingError(
                    f"no usable features: no feature has an information value of {IV_MIN} or more"
                ) from None
            raise TrainingError(f"the scorecard could not be fitted: {exc}") from None
    return scorecard


def _nothing_selected(scorecard: Scorecard) -> bool:
    try:
        return not bool(np.any(scorecard.binning_process_.get_support()))
    except Exception:  # not fitted: the failure was elsewhere
        return False


def regular_rows(optb: Any) -> pd.DataFrame:
    table = optb.binning_table.build(add_totals=False)
    n_regular = len(optb.splits) + (1 if optb.dtype == "numerical" else 0)
    return table.iloc[:n_regular]


def missing_row(optb: Any) -> pd.Series:
    table = optb.binning_table.build(add_totals=False)
    return table.iloc[-1]


def trend_of(event_rates: Sequence[float]) -> str | None:
    """ "ascending"/"descending" when the bad rate moves one way with the value (≥ 2 bins), else None."""
    steps = np.diff(np.asarray(event_rates, dtype=float))
    if len(steps) == 0:
        return None
    if (steps >= 0).all() and (steps > 0).any():
        return "ascending"
    if (steps <= 0).all() and (steps < 0).any():
        return "descending"
    return None


def binning_trends(binning: BinningProcess, numeric: Sequence[str]) -> dict[str, str | None]:
    """Monotonic trend of the fitted bad rate for every binned feature (None for categorical ones)."""
    trends: dict[str, str | None] = {}
    for name in binning.variable_names:
        optb = binning.get_binned_variable(name)
        if name in numeric and optb.dtype == "numerical":
            trends[name] = trend_of(regular_rows(optb)["Event rate"].tolist())
        else:
            trends[name] = None
    return trends


def fmt_number(value: float) -> str:
    return f"{value:.6g}"


def numeric_labels(splits: Sequence[float]) -> list[str]:
    if not splits:
        return ["all"]
    labels = [f"< {fmt_number(splits[0])}"]
    labels += [f"[{fmt_number(lo)}, {fmt_number(hi)})" for lo, hi in itertools.pairwise(splits)]
    labels.append(f"≥ {fmt_number(splits[-1])}")
    return labels


def compile_scorecard(
    scorecard: Scorecard, numeric: Sequence[str], config: TrainingConfig
) -> CompiledScorecard:
    """Turn a fitted optbinning Scorecard into the artifact's points table (same scores, no optbinning)."""
    binning = scorecard.binning_process_
    table = scorecard.table(style="detailed")
    selected = [str(n) for n in binning.get_support(names=True)]
    trends = binning_trends(binning, numeric)
    compiled: list[FeatureBins] = []
    for name in selected:
        optb = binning.get_binned_variable(name)
        rows = table[table["Variable"] == name]
        points_all = rows["Points"].to_numpy(dtype=float)
        regular = regular_rows(optb)
        n_regular = len(regular)
        points = tuple(float(p) for p in points_all[:n_regular])
        missing = missing_row(optb)
        had_missing = int(missing["Count"]) > 0
        missing_points = float(points_all[-1]) if had_missing else min(points)
        splits: tuple[float, ...] = ()
        groups: tuple[tuple[str, ...], ...] = ()
        if optb.dtype == "numerical":
            splits = tuple(float(s) for s in optb.splits)
            kind, labels = "numeric", tuple(numeric_labels(splits))
        else:
            groups = tuple(tuple(str(c) for c in group) for group in optb.splits)
            kind, labels = "categorical", tuple(", ".join(g) for g in groups)
        compiled.append(
            FeatureBins(
                name=name,
                kind=kind,
                points=points,
                missing_points=missing_points,
                splits=splits,
                categories=groups,
                labels=labels,
                event_rates=tuple(float(e) for e in regular["Event rate"]),
                iv=float(optb.binning_table.iv),
                monotonic_trend=trends.get(name),
            )
        )
    return CompiledScorecard(
        features=tuple(compiled),
        pdo=config.pdo,
        base_score=config.base_score,
        base_odds=config.base_odds,
        intercept_points=float(scorecard.intercept_),
        labels_zh={f.name: LABELS_ZH.get(f.name, f.name) for f in compiled},
        labels_en={f.name: LABELS_EN.get(f.name, f.name) for f in compiled},
    )


def score_frame(card: CompiledScorecard, frame: pd.DataFrame) -> np.ndarray:
    """Vectorised scoring of a table with a compiled scorecard (missing columns score as missing)."""
    total = np.full(len(frame), card.intercept_points, dtype=float)
    for feature in card.features:
        points = np.asarray(feature.points, dtype=float)
        column = frame[feature.name] if feature.name in frame.columns else pd.Series([np.nan] * len(frame))
        if feature.kind == "numeric":
            values = pd.to_numeric(column, errors="coerce").to_numpy(dtype=float)
            index = np.searchsorted(np.asarray(feature.splits, dtype=float), values, side="right")
            contribution = np.where(
                np.isnan(values), feature.missing_points, points[np.minimum(index, len(points) - 1)]
            )
        else:
            lookup = {category: i for i, group in enumerate(feature.categories) for category in group}
            codes = column.map(lambda v, m=lookup: -1 if is_missing_value(v) else m.get(str(v).strip(), -1))
            index = codes.to_numpy(dtype=int)
            contribution = np.where(index < 0, feature.missing_points, points[np.maximum(index, 0)])
        total += contribution
    return total


def is_missing_value(value: object) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return bool(isinstance(value, str) and value.strip() == "") or value is pd.NA


def pd_from_scores(card: CompiledScorecard, scores: np.ndarray) -> np.ndarray:
    return np.asarray(1.0 / (1.0 + np.exp((scores - card.offset) / card.factor)), dtype=float)
