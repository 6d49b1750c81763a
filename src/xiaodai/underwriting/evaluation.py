"""Model metrics for ``metrics.json``: AUC, KS and Gini per fold and their summary, calibration by decile,
the score distribution and the bins report."""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import pandas as pd
from optbinning.scorecard import Scorecard
from sklearn.metrics import roc_auc_score, roc_curve

from xiaodai.underwriting.artifact import CompiledScorecard
from xiaodai.underwriting.feature_labels import LABELS_EN, LABELS_ZH
from xiaodai.underwriting.scorecard_fitting import binning_trends, missing_row, numeric_labels, regular_rows

# --------------------------------------------------------------------------------------------- metrics


def ks_statistic(y: np.ndarray, pd_hat: np.ndarray) -> float:
    fpr, tpr, _ = roc_curve(y, pd_hat)
    return float(np.max(tpr - fpr))


def auc_or_none(y: np.ndarray, pd_hat: np.ndarray) -> float | None:
    if len(np.unique(y)) < 2:
        return None
    return float(roc_auc_score(y, pd_hat))


def fold_metrics(y: np.ndarray, pd_hat: np.ndarray) -> dict[str, float]:
    auc = float(roc_auc_score(y, pd_hat))
    return {"auc": auc, "ks": ks_statistic(y, pd_hat), "gini": 2.0 * auc - 1.0}


def summarise_folds(folds: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in ("auc", "ks", "gini"):
        values = np.asarray([f[key] for f in folds], dtype=float)
        out[f"{key}_mean"] = rounded(float(values.mean()))
        out[f"{key}_sd"] = rounded(float(values.std(ddof=1)) if len(values) > 1 else 0.0)
    out["folds"] = [{k: (rounded(v) if isinstance(v, float) else v) for k, v in f.items()} for f in folds]
    return out


def rounded(value: float, digits: int = 6) -> float:
    return round(float(value), digits)


def _decile_masks(pd_hat: np.ndarray, groups: int) -> Iterator[tuple[int, np.ndarray]]:
    """Non-empty groups of equal size by rank of predicted PD (ties cannot empty one): (index, mask)."""
    order = np.argsort(pd_hat, kind="mergesort")
    decile = np.empty(len(pd_hat), dtype=int)
    decile[order] = np.arange(len(pd_hat)) * groups // len(pd_hat)
    for d in range(groups):
        mask = decile == d
        if mask.any():
            yield d, mask


def calibration_table(y: np.ndarray, pd_hat: np.ndarray, groups: int = 10) -> list[dict[str, Any]]:
    """Deciles of predicted PD (by rank, so ties cannot empty a decile): mean PD vs observed bad rate."""
    table: list[dict[str, Any]] = []
    for d, mask in _decile_masks(pd_hat, groups):
        table.append(
            {
                "decile": d + 1,
                "count": int(mask.sum()),
                "mean_pd": rounded(float(pd_hat[mask].mean())),
                "bad_rate": rounded(float(y[mask].mean())),
                "pd_min": rounded(float(pd_hat[mask].min())),
                "pd_max": rounded(float(pd_hat[mask].max())),
            }
        )
    return table


def truth_calibration(
    y: np.ndarray, pd_hat: np.ndarray, truth: np.ndarray, groups: int = 10
) -> dict[str, Any]:
    """Calibration against the known true PD (synthetic data only): by decile of predicted PD, the mean
    predicted PD, the mean true PD and the observed bad rate; overall the mean |PD − true PD|."""
    table: list[dict[str, Any]] = []
    for d, mask in _decile_masks(pd_hat, groups):
        table.append(
            {
                "decile": d + 1,
                "count": int(mask.sum()),
                "mean_pd": rounded(float(pd_hat[mask].mean())),
                "mean_true_pd": rounded(float(truth[mask].mean())),
                "bad_rate": rounded(float(y[mask].mean())),
            }
        )
    return {
        "deciles": table,
        "mean_pd": rounded(float(pd_hat.mean())),
        "mean_true_pd": rounded(float(truth.mean())),
        "mean_abs_error": rounded(float(np.abs(pd_hat - truth).mean())),
        "max_decile_gap": rounded(max(abs(r["mean_pd"] - r["mean_true_pd"]) for r in table)),
    }


def score_distribution(y: np.ndarray, scores: np.ndarray, width: float) -> dict[str, Any]:
    lo = math.floor(float(scores.min()) / width) * width
    hi = math.ceil(float(scores.max()) / width) * width
    if hi <= lo:
        hi = lo + width
    while (hi - lo) / width > 40:
        width *= 2
        lo = math.floor(float(scores.min()) / width) * width
        hi = math.ceil(float(scores.max()) / width) * width
    edges = np.arange(lo, hi + width / 2, width)
    good, _ = np.histogram(scores[y == 0], bins=edges)
    bad, _ = np.histogram(scores[y == 1], bins=edges)
    return {
        "basis": "out-of-fold compiled scorecard scores",
        "bin_width": rounded(width),
        "edges": [rounded(e) for e in edges],
        "good": good.tolist(),
        "bad": bad.tolist(),
    }


def bins_report(scorecard: Scorecard, card: CompiledScorecard, numeric: Sequence[str]) -> dict[str, Any]:
    """Bin table with IV for every candidate feature (points only for the features the scorecard uses)."""
    binning = scorecard.binning_process_
    trends = binning_trends(binning, numeric)
    selected = {f.name: f for f in card.features}
    report: dict[str, Any] = {}
    for name in binning.variable_names:
        optb = binning.get_binned_variable(name)
        regular = regular_rows(optb)
        missing = missing_row(optb)
        if optb.dtype == "numerical":
            labels = numeric_labels([float(s) for s in optb.splits])
            kind = "numeric"
        else:
            labels = [", ".join(str(c) for c in group) for group in optb.splits]
            kind = "categorical"
        compiled = selected.get(name)
        rows: list[dict[str, Any]] = []
        for i, (label, (_, row)) in enumerate(zip(labels, regular.iterrows(), strict=True)):
            rows.append(_bin_row(label, row, compiled.points[i] if compiled else None))
        rows.append(_bin_row("Missing", missing, compiled.missing_points if compiled else None))
        report[name] = {
            "kind": kind,
            "label_zh": LABELS_ZH.get(name, name),
            "label_en": LABELS_EN.get(name, name),
            "iv": rounded(float(optb.binning_table.iv)),
            "selected": compiled is not None,
            "monotonic_trend": trends.get(name),
            "bins": rows,
        }
    return report


def _bin_row(label: str, row: pd.Series, points: float | None) -> dict[str, Any]:
    return {
        "label": label,
        "count": int(row["Count"]),
        "goods": int(row["Non-event"]),
        "bads": int(row["Event"]),
        "event_rate": rounded(float(row["Event rate"])),
        "woe": rounded(float(row["WoE"])),
        "points": None if points is None else rounded(points),
    }
