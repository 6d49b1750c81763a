"""The model artifact: a compiled scorecard (points table) plus an optional LightGBM challenger.

Layout of an artifact directory (written by ``training.py``, read by the serving path):

    manifest.json      version (sha256 of data + config + code version, 16 hex), created_at, data_hash,
                       code_version, config {target, bad_value, exclude, protected, allow_protected,
                       pdo, base_score, base_odds, seed}, features (names in scoring order), protected,
                       dataset {rows, bad_rate, source}
    scorecard.json     CompiledScorecard.to_json()
    lightgbm.txt       LightGBM Booster.model_to_string() (challenger), with lightgbm.json: feature order and
                       categorical encodings {feature: {category: code}}
    metrics.json       cross-validated metrics (see training.py)
    card.zh.html, card.en.html   model cards

Binning semantics (as optbinning): a numeric feature with ``splits`` s_0 < … < s_k has bins
(-inf, s_0), [s_0, s_1), …, [s_k, +inf): bin index = searchsorted(splits, x, side="right"). A categorical
feature has ``categories``: a list of groups (lists of category strings), bin index = the group holding the
value. A missing value (None/NaN/empty) or an unseen category takes ``missing_points``.

Scaling: score = sum of points (the intercept is spread over the features, optbinning's default), with
factor = pdo / ln 2 and offset = base_score − factor · ln(base_odds) (odds are good:bad), so
PD(bad) = 1 / (1 + exp((score − offset) / factor)).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class FeatureBins:
    name: str
    kind: str  # "numeric" | "categorical"
    points: tuple[float, ...]  # one per bin
    missing_points: float
    splits: tuple[float, ...] = ()  # numeric
    categories: tuple[tuple[str, ...], ...] = ()  # categorical groups
    labels: tuple[str, ...] = ()  # human-readable bin descriptions, one per bin
    event_rates: tuple[float, ...] = ()  # bad rate per bin in training
    iv: float = 0.0
    monotonic_trend: str | None = None  # "ascending" | "descending" | None (bad rate vs value)

    @property
    def max_points(self) -> float:
        return max([*self.points, self.missing_points])

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "points": list(self.points),
            "missing_points": self.missing_points,
            "splits": list(self.splits),
            "categories": [list(g) for g in self.categories],
            "labels": list(self.labels),
            "event_rates": list(self.event_rates),
            "iv": self.iv,
            "monotonic_trend": self.monotonic_trend,
        }

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> FeatureBins:
        return cls(
            name=raw["name"],
            kind=raw["kind"],
            points=tuple(float(p) for p in raw["points"]),
            missing_points=float(raw["missing_points"]),
            splits=tuple(float(s) for s in raw.get("splits", [])),
            categories=tuple(tuple(str(c) for c in g) for g in raw.get("categories", [])),
            labels=tuple(raw.get("labels", [])),
            event_rates=tuple(float(e) for e in raw.get("event_rates", [])),
            iv=float(raw.get("iv", 0.0)),
            monotonic_trend=raw.get("monotonic_trend"),
        )


@dataclass(frozen=True, slots=True)
class CompiledScorecard:
    features: tuple[FeatureBins, ...]
    pdo: float = 20.0
    base_score: float = 600.0
    base_odds: float = 50.0
    intercept_points: float = 0.0  # added to the sum (0 when the intercept is spread over features)
    labels_zh: dict[str, str] = field(default_factory=dict)  # feature → plain-language name
    labels_en: dict[str, str] = field(default_factory=dict)

    @property
    def factor(self) -> float:
        return self.pdo / math.log(2)

    @property
    def offset(self) -> float:
        return self.base_score - self.factor * math.log(self.base_odds)

    def pd_from_score(self, score: float) -> float:
        return 1.0 / (1.0 + math.exp((score - self.offset) / self.factor))

    def to_json(self) -> dict[str, Any]:
        return {
            "pdo": self.pdo,
            "base_score": self.base_score,
            "base_odds": self.base_odds,
            "intercept_points": self.intercept_points,
            "labels_zh": self.labels_zh,
            "labels_en": self.labels_en,
            "features": [f.to_json() for f in self.features],
        }

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> CompiledScorecard:
        return cls(
            features=tuple(FeatureBins.from_json(f) for f in raw["features"]),
            pdo=float(raw["pdo"]),
            base_score=float(raw["base_score"]),
            base_odds=float(raw["base_odds"]),
            intercept_points=float(raw.get("intercept_points", 0.0)),
            labels_zh=dict(raw.get("labels_zh", {})),
            labels_en=dict(raw.get("labels_en", {})),
        )
