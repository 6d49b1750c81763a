"""Catalogue features → a model's input columns (pure), from a documented, versioned mapping
(``data/model_inputs.json``). Every model column the mapping names is computed from the assembled feature
vector; a request never supplies it."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import cached_property, lru_cache
from importlib import resources
from typing import Any

OPS = ("copy", "map", "money", "any_positive", "missing")


class MappingError(ValueError):
    """The mapping document is malformed."""


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    op: str
    sources: tuple[str, ...]
    categories: Mapping[str, str]
    yes: str = "yes"
    no: str = "no"


@dataclass(frozen=True)
class ModelInputMapping:
    version: str
    money_scale: Decimal
    columns: tuple[Column, ...]

    def names(self) -> frozenset[str]:
        return self._names

    @cached_property
    def _names(self) -> frozenset[str]:  # computed once per mapping (read by every decision)
        return frozenset(c.name for c in self.columns)

    def inputs(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """The model columns for one assembled feature vector (``None`` where a value is missing)."""
        return {column.name: self._one(column, values) for column in self.columns}

    def _one(self, column: Column, values: Mapping[str, Any]) -> Any:
        present = [values.get(name) for name in column.sources]
        if column.op == "missing" or any(v is None or v == "" for v in present):
            return None
        if column.op == "copy":
            return present[0]
        if column.op == "map":
            return column.categories.get(str(present[0]))
        numbers = [_decimal(v) for v in present]
        if any(n is None for n in numbers):
            return None
        total = sum((n for n in numbers if n is not None), Decimal(0))
        if column.op == "money":
            return float(round(total / self.money_scale, 4))
        return column.yes if any(n is not None and n > 0 for n in numbers) else column.no


def _decimal(value: Any) -> Decimal | None:
    if isinstance(value, bool):
        return Decimal(int(value))
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def parse_mapping(text: str) -> ModelInputMapping:
    try:
        raw = json.loads(text)
        columns = tuple(
            Column(
                name,
                str(spec["op"]),
                tuple(spec.get("from", ())),
                dict(spec.get("map", {})),
                str(spec.get("yes", "yes")),
                str(spec.get("no", "no")),
            )
            for name, spec in raw["columns"].items()
        )
        mapping = ModelInputMapping(str(raw["version"]), Decimal(str(raw["money_scale"])), columns)
    except (KeyError, TypeError, ValueError, InvalidOperation) as exc:
        raise MappingError(f"malformed model-input mapping: {exc}") from exc
    for column in columns:
        if column.op not in OPS:
            raise MappingError(f"column {column.name}: unknown op {column.op!r}")
        if column.op != "missing" and not column.sources:
            raise MappingError(f"column {column.name}: needs the catalogue features it is computed from")
    if mapping.money_scale <= 0:
        raise MappingError("money_scale must be positive")
    return mapping


@lru_cache(maxsize=1)
def default_mapping() -> ModelInputMapping:
    return parse_mapping(
        resources.files("xiaodai.features").joinpath("data/model_inputs.json").read_text("utf-8")
    )
