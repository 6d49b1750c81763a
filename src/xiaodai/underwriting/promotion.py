"""When a challenger may replace the champion: the risk team's promotion policy (data,
``underwriting/data/promotion_policy.json``) applied to evidence measured on out-of-time data.

Pure: numbers in, a :class:`PromotionVerdict` out (``promote`` and stable reason codes). The evidence is
computed by ``training_holdout`` on rows the models never saw, later in time than every training row.

Reason codes (a refusal lists every rule that failed):

* ``SPLIT_NOT_OUT_OF_TIME`` — the evidence comes from a random split, not from later applications;
* ``TOO_FEW_OUT_OF_TIME_BADS`` — fewer bads in the out-of-time rows than ``min_out_of_time_bads``;
* ``AUC_GAIN_BELOW_MARGIN`` — challenger AUC − champion AUC < ``min_auc_gain`` (at exactly the margin the
  challenger passes);
* ``CALIBRATION_ERROR_ABOVE_MAX`` — the challenger's expected calibration error > ``max_calibration_error``;
* ``FAIRNESS_GAP_ABOVE_MAX`` — the challenger's lowest adverse-impact ratio is more than
  ``max_fairness_gap`` below the champion's (both approving the same share of applicants);
* ``REASONS_NOT_EXPLAINABLE`` — per-decision contributions do not add up to the model's score, or (with
  ``require_plain_labels``) a feature has no plain-language label in the catalogue.

``PROMOTE`` is the single reason of a promotion.
"""

from __future__ import annotations

import importlib.resources
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

PROMOTE = "PROMOTE"
SPLIT_NOT_OUT_OF_TIME = "SPLIT_NOT_OUT_OF_TIME"
TOO_FEW_OUT_OF_TIME_BADS = "TOO_FEW_OUT_OF_TIME_BADS"
AUC_GAIN_BELOW_MARGIN = "AUC_GAIN_BELOW_MARGIN"
CALIBRATION_ERROR_ABOVE_MAX = "CALIBRATION_ERROR_ABOVE_MAX"
FAIRNESS_GAP_ABOVE_MAX = "FAIRNESS_GAP_ABOVE_MAX"
REASONS_NOT_EXPLAINABLE = "REASONS_NOT_EXPLAINABLE"
MIN_FAIRNESS_GROUP = 30
EPSILON = 1e-12  # comparisons at exactly the limit are not lost to float rounding


class PolicyError(ValueError):
    """A promotion policy file that cannot be used (message for the user)."""


@dataclass(frozen=True, slots=True)
class PromotionPolicy:
    version: str
    min_auc_gain: float
    max_calibration_error: float
    max_fairness_gap: float
    min_out_of_time_bads: int
    approval_share: float
    require_plain_labels: bool
    min_adverse_impact_ratio: float
    remedies: tuple[str, ...]


REMEDIES = ("reweighing", "group_thresholds")


def parse_promotion_policy(payload: Mapping[str, Any]) -> PromotionPolicy:
    try:
        promotion, fairness = payload["promotion"], payload["fairness"]
        policy = PromotionPolicy(
            version=str(payload["version"]),
            min_auc_gain=float(promotion["min_auc_gain"]),
            max_calibration_error=float(promotion["max_calibration_error"]),
            max_fairness_gap=float(promotion["max_fairness_gap"]),
            min_out_of_time_bads=int(promotion["min_out_of_time_bads"]),
            approval_share=float(promotion["approval_share"]),
            require_plain_labels=bool(promotion["require_plain_labels"]),
            min_adverse_impact_ratio=float(fairness["min_adverse_impact_ratio"]),
            remedies=tuple(str(r) for r in fairness["remedies"]),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise PolicyError(f"promotion policy: missing or malformed field ({exc})") from None
    numbers = (policy.min_auc_gain, policy.max_calibration_error, policy.max_fairness_gap)
    if not all(math.isfinite(v) for v in numbers) or policy.max_calibration_error < 0:
        raise PolicyError("promotion policy: margins must be finite and the calibration limit ≥ 0")
    if policy.max_fairness_gap < 0 or policy.min_out_of_time_bads < 1:
        raise PolicyError("promotion policy: max_fairness_gap ≥ 0 and min_out_of_time_bads ≥ 1")
    if not 0 < policy.approval_share < 1 or not 0 < policy.min_adverse_impact_ratio <= 1:
        raise PolicyError("promotion policy: approval_share in (0, 1), min_adverse_impact_ratio in (0, 1]")
    unknown = [r for r in policy.remedies if r not in REMEDIES]
    if unknown:
        raise PolicyError(f"promotion policy: unknown remedy {unknown[0]!r} (known: {', '.join(REMEDIES)})")
    return policy


def default_promotion_policy() -> PromotionPolicy:
    resource = importlib.resources.files("xiaodai.underwriting").joinpath("data", "promotion_policy.json")
    return parse_promotion_policy(json.loads(resource.read_text(encoding="utf-8")))


# --------------------------------------------------------------------------------------------- evidence


def expected_calibration_error(y: np.ndarray, pd_hat: np.ndarray, groups: int = 10) -> float:
    """Count-weighted mean |mean predicted PD − observed bad rate| over deciles of predicted PD (by rank)."""
    n = len(pd_hat)
    if n == 0:
        return 0.0
    order = np.argsort(pd_hat, kind="mergesort")
    decile = np.empty(n, dtype=int)
    decile[order] = np.arange(n) * groups // n
    total = 0.0
    for d in range(groups):
        mask = decile == d
        if mask.any():
            total += mask.sum() * abs(float(pd_hat[mask].mean()) - float(y[mask].mean()))
    return total / n


def approve_share(pd_hat: np.ndarray, share: float) -> np.ndarray:
    """Approve the ``share`` of applicants with the lowest PD (ties broken by position)."""
    order = np.argsort(pd_hat, kind="mergesort")
    approved = np.zeros(len(pd_hat), dtype=bool)
    approved[order[: round(share * len(pd_hat))]] = True
    return approved


def lowest_approval_ratio(
    approved: np.ndarray, labels: Sequence[str], min_group: int = MIN_FAIRNESS_GROUP
) -> float | None:
    """Lowest group approval rate / highest group approval rate among groups of ≥ ``min_group`` rows."""
    values = np.asarray(labels, dtype=object)
    rates = [
        float(approved[values == g].mean()) for g in dict.fromkeys(values) if (values == g).sum() >= min_group
    ]
    if len(rates) < 2 or max(rates) <= 0:
        return None
    return min(rates) / max(rates)


@dataclass(frozen=True, slots=True)
class ModelEvidence:
    auc: float
    calibration_error: float
    min_approval_ratio: float | None  # lowest over protected attributes; None when none could be measured

    def to_json(self) -> dict[str, Any]:
        return {
            "auc": round(self.auc, 6),
            "calibration_error": round(self.calibration_error, 6),
            "min_approval_ratio": None
            if self.min_approval_ratio is None
            else round(self.min_approval_ratio, 6),
        }


@dataclass(frozen=True, slots=True)
class Explainability:
    max_additivity_error: float  # max |sum of contributions − raw score| over the checked rows
    unlabelled: tuple[str, ...]  # challenger features without a plain-language label


@dataclass(frozen=True, slots=True)
class PromotionVerdict:
    promote: bool
    reasons: tuple[str, ...]
    auc_gain: float
    fairness_gap: float | None

    def to_json(self) -> dict[str, Any]:
        return {
            "promote": self.promote,
            "reasons": list(self.reasons),
            "auc_gain": round(self.auc_gain, 6),
            "fairness_gap": None if self.fairness_gap is None else round(self.fairness_gap, 6),
        }


def judge(
    *,
    champion: ModelEvidence,
    challenger: ModelEvidence,
    explainability: Explainability,
    out_of_time: bool,
    out_of_time_bads: int,
    policy: PromotionPolicy,
) -> PromotionVerdict:
    """Apply the promotion policy; every failed rule is a reason."""
    reasons: list[str] = []
    if not out_of_time:
        reasons.append(SPLIT_NOT_OUT_OF_TIME)
    if out_of_time_bads < policy.min_out_of_time_bads:
        reasons.append(TOO_FEW_OUT_OF_TIME_BADS)
    gain = challenger.auc - champion.auc
    if gain < policy.min_auc_gain - EPSILON:
        reasons.append(AUC_GAIN_BELOW_MARGIN)
    if challenger.calibration_error > policy.max_calibration_error + EPSILON:
        reasons.append(CALIBRATION_ERROR_ABOVE_MAX)
    gap: float | None = None
    if champion.min_approval_ratio is not None and challenger.min_approval_ratio is not None:
        gap = champion.min_approval_ratio - challenger.min_approval_ratio
        if gap > policy.max_fairness_gap + EPSILON:
            reasons.append(FAIRNESS_GAP_ABOVE_MAX)
    if explainability.max_additivity_error > 1e-6 or (
        policy.require_plain_labels and explainability.unlabelled
    ):
        reasons.append(REASONS_NOT_EXPLAINABLE)
    promote = not reasons
    return PromotionVerdict(promote, (PROMOTE,) if promote else tuple(reasons), gain, gap)
