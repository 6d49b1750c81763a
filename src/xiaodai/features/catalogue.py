"""The feature catalogue (pure): every value a credit decision reads, with its label, unit, type, source and
consent, read from versioned data (``data/catalogue.json``).

Also the validation of what the applicant states (``application`` features, with units) and the rule that a
request never supplies a value xiaodai looks up itself (``platform``, ``bureau`` and ``ecosystem``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import cached_property, lru_cache
from importlib import resources
from typing import Any

from xiaodai.money.money import MoneyError
from xiaodai.money.parse import parse_amount_fen

SOURCES = ("application", "platform", "bureau", "ecosystem")
TYPES = ("money", "integer", "category", "boolean", "ratio")
LOOKED_UP = ("platform", "bureau", "ecosystem")
_WHOLE = re.compile(r"[0-9]{1,9}", re.ASCII)


class CatalogueError(ValueError):
    """The catalogue document is malformed."""


class FeatureInputError(ValueError):
    """A request states a value it may not state, or states one badly (HTTP 422)."""

    status = 422


@dataclass(frozen=True, slots=True)
class Feature:
    name: str
    source: str
    type: str
    unit: str | None
    label_zh: str
    label_en: str
    unit_zh: str
    unit_en: str
    consent: str | None
    computed: str
    required: bool = False
    default: str | None = None
    minimum: Decimal | None = None
    maximum: Decimal | None = None
    choices: tuple[str, ...] = ()
    choice_labels_zh: Mapping[str, str] = field(default_factory=dict)
    choice_labels_en: Mapping[str, str] = field(default_factory=dict)
    aliases: tuple[str, ...] = ()

    def label(self, lang: str) -> str:
        return self.label_zh if lang == "zh" else self.label_en

    def unit_label(self, lang: str) -> str:
        return self.unit_zh if lang == "zh" else self.unit_en


@dataclass(frozen=True)
class Catalogue:
    """Immutable: the views below are computed once per catalogue (every decision reads them several times)
    and shared — a caller reads them and never changes them."""

    version: str
    features: tuple[Feature, ...]

    def by_name(self) -> dict[str, Feature]:
        return self._by_name

    def from_source(self, source: str) -> tuple[Feature, ...]:
        found = self._sources.get(source)
        return tuple(f for f in self.features if f.source == source) if found is None else found

    def looked_up_names(self) -> dict[str, Feature]:
        """Every name (and legacy alias) of a value xiaodai looks up: a request may never carry one."""
        return self._looked_up

    @cached_property
    def _by_name(self) -> dict[str, Feature]:
        return {f.name: f for f in self.features}

    @cached_property
    def _sources(self) -> dict[str, tuple[Feature, ...]]:
        return {source: tuple(f for f in self.features if f.source == source) for source in SOURCES}

    @cached_property
    def _looked_up(self) -> dict[str, Feature]:
        out: dict[str, Feature] = {}
        for f in self.features:
            if f.source in LOOKED_UP:
                out[f.name] = f
                for alias in f.aliases:
                    out[alias] = f
        return out

    @cached_property
    def application_names(self) -> frozenset[str]:
        """The names of the ``application`` features (what an applicant may state)."""
        return frozenset(f.name for f in self.from_source("application"))


def _decimal(raw: Any) -> Decimal | None:
    return None if raw is None else Decimal(str(raw))


def parse_catalogue(text: str) -> Catalogue:
    try:
        raw = json.loads(text)
        features = tuple(
            Feature(
                name=str(f["name"]),
                source=str(f["source"]),
                type=str(f["type"]),
                unit=f.get("unit"),
                label_zh=str(f["label_zh"]),
                label_en=str(f["label_en"]),
                unit_zh=str(f.get("unit_zh", "")),
                unit_en=str(f.get("unit_en", "")),
                consent=f.get("consent"),
                computed=str(f["computed"]),
                required=bool(f.get("required", False)),
                default=None if f.get("default") is None else str(f["default"]),
                minimum=_decimal(f.get("min")),
                maximum=_decimal(f.get("max")),
                choices=tuple(f.get("choices", ())),
                choice_labels_zh=dict(f.get("choice_labels_zh", {})),
                choice_labels_en=dict(f.get("choice_labels_en", {})),
                aliases=tuple(f.get("aliases", ())),
            )
            for f in raw["features"]
        )
        catalogue = Catalogue(str(raw["version"]), features)
    except (KeyError, TypeError, ValueError, InvalidOperation) as exc:
        raise CatalogueError(f"malformed feature catalogue: {exc}") from exc
    names = [f.name for f in features] + [a for f in features for a in f.aliases]
    if len(names) != len(set(names)):
        raise CatalogueError("feature names and aliases must be unique")
    for f in features:
        if f.source not in SOURCES:
            raise CatalogueError(f"feature {f.name}: unknown source {f.source!r}")
        if f.type not in TYPES:
            raise CatalogueError(f"feature {f.name}: unknown type {f.type!r}")
        if f.type == "category" and not f.choices:
            raise CatalogueError(f"feature {f.name}: a category needs its choices")
        if f.source == "bureau" and f.consent != "credit_check":
            raise CatalogueError(f"feature {f.name}: bureau data needs the credit_check consent")
    return catalogue


@lru_cache(maxsize=1)
def default_catalogue() -> Catalogue:
    return parse_catalogue(
        resources.files("xiaodai.features").joinpath("data/catalogue.json").read_text("utf-8")
    )


def refuse_looked_up(catalogue: Catalogue, supplied: Mapping[str, Any], *, section: str) -> None:
    """Raise if a request carries a value xiaodai looks up itself (the borrower cannot state it)."""
    looked_up = catalogue.looked_up_names()
    offending = sorted(name for name in supplied if name in looked_up)
    if offending:
        described = ", ".join(f"{name} ({looked_up[name].source})" for name in offending)
        raise FeatureInputError(
            f"{section} may not supply {described}: xiaodai looks these up from its own records and the "
            "credit bureau; remove them from the request"
        )


def _number(feature: Feature, raw: Any) -> Decimal:
    """Money as the platform's one amount syntax (``money.parse``: ASCII digits, at most 2 decimals); whole
    numbers as an integer or ASCII digits. No floats, exponents, signs, separators or full-width digits."""
    if isinstance(raw, bool | float):
        raise FeatureInputError(f"{feature.name} must be a number written as text or an integer")
    if isinstance(raw, int):
        raw = str(raw)
    if feature.type == "money":
        try:
            value = Decimal(parse_amount_fen(raw, what=feature.name, allow_zero=True)) / 100
        except MoneyError as exc:
            raise FeatureInputError(str(exc)) from None
    elif isinstance(raw, str) and _WHOLE.fullmatch(raw.strip()):
        value = Decimal(raw.strip())
    else:
        raise FeatureInputError(
            f"{feature.name} ({feature.label_en}) must be a whole number of {feature.unit}, not {raw!r}"
        )
    if feature.minimum is not None and value < feature.minimum:
        raise FeatureInputError(
            f"{feature.name} must be at least {feature.minimum} {feature.unit_en}".rstrip()
        )
    if feature.maximum is not None and value > feature.maximum:
        raise FeatureInputError(
            f"{feature.name} must be at most {feature.maximum} {feature.unit_en}".rstrip()
        )
    return value


def validate_application(catalogue: Catalogue, stated: Mapping[str, Any]) -> dict[str, Any]:
    """The applicant's stated values, checked against the catalogue: numbers as JSON-safe text or int,
    categories among their choices, required ones present. A name the catalogue does not list as
    ``application`` is refused: a decision reads nothing that has no declared source."""
    refuse_looked_up(catalogue, stated, section="the application")
    known = catalogue.application_names
    unknown = sorted(name for name in stated if name not in known)
    if unknown:
        raise FeatureInputError(
            f"the application may not state {', '.join(unknown)}: the applicant states only "
            f"{', '.join(sorted(known))}"
        )
    out: dict[str, Any] = {}
    for feature in catalogue.from_source("application"):
        raw = stated.get(feature.name)
        if raw is None or raw == "":
            if feature.required:
                raise FeatureInputError(f"{feature.name} ({feature.label_en}) is required")
            if feature.default is None:
                out.pop(feature.name, None)
                continue
            raw = feature.default
        if feature.type == "category":
            if str(raw) not in feature.choices:
                raise FeatureInputError(
                    f"{feature.name} must be one of {', '.join(feature.choices)}, not {raw!r}"
                )
            out[feature.name] = str(raw)
        elif feature.type == "boolean":
            out[feature.name] = raw is True or str(raw).lower() in ("true", "1", "yes")
        else:
            value = _number(feature, raw)
            out[feature.name] = int(value) if feature.type == "integer" else str(value)
    return out
