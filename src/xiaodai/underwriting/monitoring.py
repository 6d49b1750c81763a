"""Population stability and discrimination over time (pure arithmetic on plain lists).

PSI = Σ (actual − expected) · ln(actual / expected) over bins, with empty bins smoothed to 0.5 counts.
Rules of thumb: < 0.10 stable, 0.10–0.25 watch, > 0.25 shifted.
"""

from __future__ import annotations

import math
from collections.abc import Sequence


def psi(expected_counts: Sequence[float], actual_counts: Sequence[float]) -> float:
    if len(expected_counts) != len(actual_counts):
        raise ValueError("PSI needs the same bins on both sides")
    e_total = sum(expected_counts) + 0.5 * len(expected_counts)
    a_total = sum(actual_counts) + 0.5 * len(actual_counts)
    if a_total == 0.5 * len(actual_counts):
        return 0.0
    value = 0.0
    for e, a in zip(expected_counts, actual_counts, strict=True):
        pe = (e + 0.5) / e_total
        pa = (a + 0.5) / a_total
        value += (pa - pe) * math.log(pa / pe)
    return value


def psi_band(value: float) -> str:
    return "stable" if value < 0.10 else ("watch" if value < 0.25 else "shifted")


def auc(labels: Sequence[int], scores: Sequence[float]) -> float | None:
    """Area under the ROC curve of ``scores`` for bad (1) vs good (0); None with one class."""
    pairs = sorted(zip(scores, labels, strict=True))
    bads = sum(labels)
    goods = len(labels) - bads
    if bads == 0 or goods == 0:
        return None
    rank_sum = 0.0
    i = 0
    while i < len(pairs):
        j = i
        while j + 1 < len(pairs) and pairs[j + 1][0] == pairs[i][0]:
            j += 1
        mid_rank = (i + j) / 2 + 1
        rank_sum += mid_rank * sum(label for _, label in pairs[i : j + 1])
        i = j + 1
    return (rank_sum - bads * (bads + 1) / 2) / (bads * goods)


def ks(labels: Sequence[int], scores: Sequence[float]) -> float | None:
    bads = sum(labels)
    goods = len(labels) - bads
    if bads == 0 or goods == 0:
        return None
    best = 0.0
    cum_b = cum_g = 0
    for _, label in sorted(zip(scores, labels, strict=True), reverse=True):
        if label:
            cum_b += 1
        else:
            cum_g += 1
        best = max(best, abs(cum_b / bads - cum_g / goods))
    return best
