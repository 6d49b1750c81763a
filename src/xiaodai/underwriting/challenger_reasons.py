"""Per-decision reasons of the challenger: LightGBM's own SHAP contributions (``pred_contrib=True``, in
log-odds) mapped to the catalogue's plain zh/en labels. A positive contribution raises the PD: the
largest ones are the reasons for a decline, as the points shortfall is for the scorecard."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, slots=True)
class ContributionReason:
    feature: str
    label_zh: str
    label_en: str
    contribution: float  # log-odds added to this applicant's score by this feature


def contribution_reasons(
    contributions: np.ndarray,
    features: Sequence[str],
    labels_zh: Mapping[str, str],
    labels_en: Mapping[str, str],
    *,
    top: int = 4,
    excluded: frozenset[str] = frozenset(),
) -> tuple[ContributionReason, ...]:
    """The ``top`` features that raised this applicant's PD the most (``contributions``: one row of
    ``pred_contrib`` output, the last column being the expected value), never an ``excluded`` one."""
    values = np.asarray(contributions, dtype=float)[: len(features)]
    order = sorted(range(len(features)), key=lambda j: (-values[j], j))
    reasons: list[ContributionReason] = []
    for j in order:
        name = features[j]
        if values[j] <= 0 or name in excluded:
            continue
        reasons.append(
            ContributionReason(name, labels_zh.get(name, name), labels_en.get(name, name), float(values[j]))
        )
        if len(reasons) == top:
            break
    return tuple(reasons)


def unlabelled_features(
    features: Sequence[str], labels_zh: Mapping[str, str], labels_en: Mapping[str, str]
) -> tuple[str, ...]:
    """Features with no plain-language label in either language."""
    return tuple(f for f in features if f not in labels_zh or f not in labels_en)
