"""Remedies a risk team can choose when a model fails the four-fifths rule, each measured for what it
does to the adverse-impact ratio (AIR: lowest group approval rate / highest) and what it costs in AUC.

* **Reweighing** (Kamiran & Calders, "Data preprocessing techniques for classification without
  discrimination", 2012): pre-processing only. Each training row of group g with label c gets the weight
  w(g, c) = P(g)·P(c) / P(g, c) = n_g·n_c / (n·n_gc), so that in the weighted training data the bad
  rate is the same in every group and the model cannot learn the group through its proxies from the
  labels alone. No reject inference: only the booked loans with outcomes are reweighed. The protected
  attribute is used at training time only, never at decision time.
* **Per-group thresholds**: the same scores, but a group whose approval rate is below
  ``min_ratio`` × the best group's gets a higher PD cutoff, just high enough to reach that ratio. It
  uses the protected attribute at decision time, which is disparate treatment in many jurisdictions:
  a legal decision, shown here so that its price is known. Its AUC cost is measured on the adjusted
  score logit(PD) − (logit(cutoff of the group) − logit(common cutoff)), the ranking the decisions follow.

Pure: numpy arrays and group labels in, numbers out.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

MIN_GROUP = 30  # groups smaller than this are neither judged nor adjusted (as in the fairness report)


def reweighing_weights(groups: Sequence[str], y: np.ndarray) -> np.ndarray:
    """Kamiran–Calders weights n_g·n_c / (n·n_gc) for every row (mean weight 1)."""
    labels = np.asarray(groups, dtype=object)
    outcome = np.asarray(y).astype(int)
    n = len(outcome)
    weights = np.ones(n, dtype=float)
    n_class = {c: int((outcome == c).sum()) for c in (0, 1)}
    for group in dict.fromkeys(labels):
        in_group = labels == group
        n_group = int(in_group.sum())
        for c in (0, 1):
            cell = in_group & (outcome == c)
            n_cell = int(cell.sum())
            if n_cell:
                weights[cell] = n_group * n_class[c] / (n * n_cell)
    return weights


def approval_ratios(
    approved: np.ndarray, groups: Sequence[str], min_group: int = MIN_GROUP
) -> dict[str, float]:
    """Approval rate / the highest approval rate, for the groups with at least ``min_group`` rows."""
    labels = np.asarray(groups, dtype=object)
    rates = {
        str(g): float(approved[labels == g].mean())
        for g in dict.fromkeys(labels)
        if int((labels == g).sum()) >= min_group
    }
    best = max(rates.values(), default=0.0)
    return {g: (r / best if best > 0 else 0.0) for g, r in rates.items()}


def lowest_ratio(approved: np.ndarray, groups: Sequence[str], min_group: int = MIN_GROUP) -> float | None:
    ratios = approval_ratios(approved, groups, min_group)
    return min(ratios.values()) if len(ratios) >= 2 else None


def group_thresholds(
    pd_hat: np.ndarray,
    groups: Sequence[str],
    cutoff: float,
    min_ratio: float,
    min_group: int = MIN_GROUP,
) -> dict[str, float]:
    """PD cutoff per group (approve when PD < cutoff): ``cutoff`` for all, raised for every judged group
    whose approval rate is below ``min_ratio`` × the best group's to the smallest cutoff that reaches it."""
    labels = np.asarray(groups, dtype=object)
    cutoffs = {str(g): float(cutoff) for g in dict.fromkeys(labels)}
    approved = pd_hat < cutoff
    rates = {
        str(g): float(approved[labels == g].mean())
        for g in dict.fromkeys(labels)
        if int((labels == g).sum()) >= min_group
    }
    if not rates:
        return cutoffs
    best = max(rates.values())
    for group, rate in rates.items():
        if rate >= min_ratio * best:
            continue
        values = np.sort(pd_hat[labels == group])
        needed = min(len(values), math.ceil(min_ratio * best * len(values) - 1e-9))
        cutoffs[group] = max(cutoff, float(np.nextafter(values[needed - 1], np.inf)))
    return cutoffs


def approve_with_thresholds(
    pd_hat: np.ndarray, groups: Sequence[str], cutoffs: dict[str, float]
) -> np.ndarray:
    labels = np.asarray(groups, dtype=object)
    limits = np.asarray([cutoffs[str(g)] for g in labels], dtype=float)
    return np.asarray(pd_hat < limits, dtype=bool)


def _logit(p: np.ndarray | float) -> np.ndarray:
    clipped = np.clip(np.asarray(p, dtype=float), 1e-12, 1 - 1e-12)
    return np.asarray(np.log(clipped / (1 - clipped)), dtype=float)


def threshold_adjusted_scores(
    pd_hat: np.ndarray, groups: Sequence[str], cutoffs: dict[str, float], cutoff: float
) -> np.ndarray:
    """The score the per-group decisions follow: logit(PD) − (logit(group cutoff) − logit(cutoff));
    approving below ``logit(cutoff)`` on it is the same as approving below each group's own cutoff."""
    labels = np.asarray(groups, dtype=object)
    shift = np.asarray([cutoffs[str(g)] for g in labels], dtype=float)
    return np.asarray(_logit(pd_hat) - (_logit(shift) - _logit(cutoff)), dtype=float)
