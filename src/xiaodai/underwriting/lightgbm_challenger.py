"""The challenger: LightGBM (one thread, deterministic) with monotone constraints where the scorecard's
binning found a monotone bad rate."""

from __future__ import annotations

import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd

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


@dataclass(slots=True)
class LightGBMModel:
    booster: lgb.Booster
    features: list[str]
    categorical: dict[str, dict[str, int]]  # feature → {category: code}
    monotone: list[int]
    params: dict[str, Any]
    rounds: int

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        return np.asarray(
            self.booster.predict(encode_matrix(frame, self.features, self.categorical)), dtype=float
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "features": self.features,
            "categorical": self.categorical,
            "monotone": self.monotone,
            "params": self.params,
            "num_boost_round": self.rounds,
            "missing": "NaN (missing values and unseen categories)",
        }


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


def fit_lightgbm(
    features: pd.DataFrame,
    y: np.ndarray,
    categorical: Sequence[str],
    trends: dict[str, str | None],
    seed: int,
) -> LightGBMModel:
    names = list(features.columns)
    cats = [c for c in names if c in categorical]
    maps = category_maps(features, cats)
    monotone = [
        {"ascending": 1, "descending": -1}.get(trends.get(n) or "", 0) if n not in maps else 0 for n in names
    ]
    params = {**LGB_PARAMS, "seed": seed, "monotone_constraints": monotone}
    dataset = lgb.Dataset(
        encode_matrix(features, names, maps),
        label=np.asarray(y, dtype=float),
        feature_name=_safe_feature_names(names),
        categorical_feature=[names.index(c) for c in cats],
        params={k: v for k, v in params.items() if k != "monotone_constraints"},
        free_raw_data=True,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        booster = lgb.train(params, dataset, num_boost_round=LGB_ROUNDS)
    public_params = {k: v for k, v in params.items() if k not in {"monotone_constraints", "verbose"}}
    return LightGBMModel(booster, names, maps, monotone, public_params, LGB_ROUNDS)
