"""Knock-out rules, risk grades and the price/limit policy as versioned data (``data/policy.json``)."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from importlib import resources
from typing import Any

RULE_SOURCES = ("application", "platform", "bureau")


class PolicyError(ValueError):
    """The policy document is malformed."""


@dataclass(frozen=True, slots=True)
class Rule:
    code: str
    field: str
    op: str  # lt | gt | le | ge | missing_or_le | is_true
    value: float | None = None
    source: str = "application"  # the catalogue source of ``field``: application | platform | bureau

    def fires(self, applicant: Mapping[str, Any]) -> bool:
        raw = applicant.get(self.field)
        if self.op == "is_true":
            return raw is True or str(raw).lower() in ("true", "1", "yes")
        number = _number(raw)
        if self.op == "missing_or_le":
            return number is None or (self.value is not None and number <= self.value)
        if number is None or self.value is None:
            return False
        return {
            "lt": number < self.value,
            "gt": number > self.value,
            "le": number <= self.value,
            "ge": number >= self.value,
        }[self.op]


def _number(raw: Any) -> float | None:
    if raw is None or raw == "" or isinstance(raw, bool):
        return None
    try:
        number = Decimal(str(raw))
        if not number.is_finite():
            return None
        value = float(number)
    except (ArithmeticError, ValueError):
        return None
    return None if math.isnan(value) or math.isinf(value) else value


@dataclass(frozen=True, slots=True)
class Grade:
    grade: str
    max_pd: float
    annual_rate: Decimal | None
    max_limit: Decimal
    max_term: int
    decision: str  # approve | refer | decline


@dataclass(frozen=True, slots=True)
class Policy:
    version: str
    knock_out: tuple[Rule, ...]
    grades: tuple[Grade, ...]
    affordability_share: Decimal
    min_principal: Decimal
    min_term: int
    limit_rounding: Decimal
    cap_profile: str
    method: str
    document: str  # the canonical JSON it was read from (stored with decisions for replay)

    def grade_for(self, pd: float) -> Grade:
        for grade in self.grades:
            if pd < grade.max_pd:
                return grade
        return self.grades[-1]


def parse_policy(text: str) -> Policy:
    try:
        raw = json.loads(text)
        rules = tuple(
            Rule(
                r["code"],
                r["field"],
                r["op"],
                None if r.get("value") is None else float(r["value"]),
                str(r.get("source", "application")),
            )
            for r in raw["knock_out"]
        )
        grades = tuple(
            Grade(
                g["grade"],
                float(g["max_pd"]),
                None if g["annual_rate"] is None else Decimal(g["annual_rate"]),
                Decimal(g["max_limit"]),
                int(g["max_term"]),
                g["decision"],
            )
            for g in raw["grades"]
        )
        policy = Policy(
            str(raw["version"]),
            rules,
            grades,
            Decimal(raw["affordability_share_of_income"]),
            Decimal(raw["min_principal"]),
            int(raw["min_term"]),
            Decimal(raw["limit_rounding"]),
            raw["cap_profile"],
            raw["method"],
            json.dumps(raw, sort_keys=True, ensure_ascii=False),
        )
    except (KeyError, TypeError, ValueError, ArithmeticError) as exc:
        raise PolicyError(f"malformed policy: {exc}") from exc
    if any(r.op not in ("lt", "gt", "le", "ge", "missing_or_le", "is_true") for r in rules):
        raise PolicyError("unknown rule operator")
    if any(r.source not in RULE_SOURCES for r in rules):
        raise PolicyError(f"a knock-out rule's source must be one of {', '.join(RULE_SOURCES)}")
    if [g.max_pd for g in grades] != sorted(g.max_pd for g in grades):
        raise PolicyError("grades must be ordered by max_pd")
    return policy


@lru_cache(maxsize=1)
def default_policy() -> Policy:
    """The policy shipped with xiaodai (package data, read once per process; a ``Policy`` is immutable)."""
    return parse_policy(
        resources.files("xiaodai.underwriting").joinpath("data/policy.json").read_text("utf-8")
    )
