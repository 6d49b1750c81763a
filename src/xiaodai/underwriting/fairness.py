"""Fairness metrics on out-of-fold predictions: approval rates, approval ratios (four-fifths rule) and AUC
by group of every protected attribute."""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np
import pandas as pd

from xiaodai.underwriting.data_preparation import NOT_AGE_WORDS, PreparedData, is_protected_name
from xiaodai.underwriting.evaluation import auc_or_none, rounded
from xiaodai.underwriting.scorecard_fitting import fmt_number, is_missing_value

MIN_FAIRNESS_GROUP = 30  # smaller groups are reported but not judged (approval ratios too noisy)
MISSING_GROUP = "(missing)"
AGE_BUCKETS: tuple[tuple[str, float, float], ...] = (
    ("<25", -math.inf, 25.0),
    ("25–34", 25.0, 35.0),
    ("35–49", 35.0, 50.0),
    ("50+", 50.0, math.inf),
)


def protected_groups(name: str, values: pd.Series) -> tuple[pd.Series, str]:
    """Group labels for one protected attribute and a description of the grouping."""
    missing_label = MISSING_GROUP
    numeric = pd.to_numeric(values, errors="coerce")
    is_numeric = (
        bool(numeric.notna().sum() >= 0.9 * max(int(values.notna().sum()), 1)) and values.notna().any()
    )
    if is_numeric and int(numeric.nunique(dropna=True)) > 10:
        if is_protected_name(name) and "age" in _strip_not_age(name.lower()):
            buckets = AGE_BUCKETS
            how = "age buckets <25, 25–34, 35–49, 50+"
        else:
            quartiles = np.unique(np.nanquantile(numeric.to_numpy(dtype=float), [0.25, 0.5, 0.75]))
            edges = [-math.inf, *[float(q) for q in quartiles], math.inf]
            buckets = tuple(
                (
                    f"[{fmt_number(lo)}, {fmt_number(hi)})"
                    if math.isfinite(lo) and math.isfinite(hi)
                    else (f"< {fmt_number(hi)}" if math.isfinite(hi) else f"≥ {fmt_number(lo)}"),
                    lo,
                    hi,
                )
                for lo, hi in itertools.pairwise(edges)
            )
            how = "quartiles"
        labels = pd.Series(missing_label, index=values.index, dtype=object)
        for label, lo, hi in buckets:
            labels[(numeric >= lo) & (numeric < hi)] = label
        return labels, how
    labels = values.map(lambda v: missing_label if is_missing_value(v) else str(v).strip()).astype(object)
    return labels, "categories"


def _strip_not_age(lowered: str) -> str:
    for word in NOT_AGE_WORDS:
        lowered = lowered.replace(word, " ")
    return lowered


def fairness_report(
    data: PreparedData,
    pd_scorecard: np.ndarray,
    pd_lightgbm: np.ndarray,
    cutoff: float | None,
) -> dict[str, Any]:
    """Approval rates, approval ratios and AUC by group of every protected attribute (out-of-fold PDs)."""
    threshold = float(np.median(pd_scorecard)) if cutoff is None else float(cutoff)
    approved = pd_scorecard < threshold
    rule = (
        f"approve when the scorecard's out-of-fold PD < {'the median' if cutoff is None else 'the cutoff'} "
        f"({threshold:.4f}); approval ratio = group approval rate / highest approval rate among groups "
        f"of at least {MIN_FAIRNESS_GROUP} rows"
    )
    attributes: list[dict[str, Any]] = []
    y = data.y
    for name in data.protected:
        labels, how = protected_groups(name, data.protected_values[name])
        order = [g for g, _, _ in AGE_BUCKETS] if how.startswith("age") else sorted(labels.unique())
        if MISSING_GROUP in order:
            order.remove(MISSING_GROUP)
        order.append(MISSING_GROUP)
        groups: list[dict[str, Any]] = []
        for group in order:
            mask = (labels == group).to_numpy()
            if not mask.any():
                continue
            auc_sc = auc_or_none(y[mask], pd_scorecard[mask])
            auc_lgb = auc_or_none(y[mask], pd_lightgbm[mask])
            groups.append(
                {
                    "group": str(group),
                    "count": int(mask.sum()),
                    "small": int(mask.sum()) < MIN_FAIRNESS_GROUP,
                    "bad_rate": rounded(float(y[mask].mean())),
                    "approval_rate": rounded(float(approved[mask].mean())),
                    "auc_scorecard": None if auc_sc is None else rounded(auc_sc),
                    "auc_lightgbm": None if auc_lgb is None else rounded(auc_lgb),
                }
            )
        best = max((g["approval_rate"] for g in groups if not g["small"]), default=0.0)
        for g in groups:
            g["approval_ratio"] = rounded(g["approval_rate"] / best) if best > 0 else None
        ratios = [g["approval_ratio"] for g in groups if g["approval_ratio"] is not None and not g["small"]]
        attributes.append(
            {
                "attribute": name,
                "grouping": how,
                "used_as_feature": name in data.names,
                "groups": groups,
                "min_approval_ratio": min(ratios) if ratios else None,
                "four_fifths_ok": bool(min(ratios) >= 0.8) if ratios else None,
            }
        )
    return {
        "rule": rule,
        "cutoff_pd": rounded(threshold),
        "approval_rate": rounded(float(approved.mean())),
        "min_group_rows": MIN_FAIRNESS_GROUP,
        "attributes": attributes,
    }
