"""Stress scenarios as data and their ECL and loss impact.

A scenario multiplies every PD (the hazards and the current PD that drives staging), shifts the LGD and
multiplies the prepayment rate (``ecl.Scenario``). Its result is the ECL by stage under the scenario and
the impact = stressed total − base total (integer fen; the base is the scenario named "base", or
an unstressed run when the file has none).
"""

from __future__ import annotations

import json
from decimal import Decimal, InvalidOperation
from importlib import resources
from typing import Any

import polars as pl

from xiaodai.risk.ecl import Scenario


class ScenarioError(ValueError):
    """The scenario file is malformed."""


def _number(raw: Any, name: str, field: str, low: float, high: float) -> float:
    try:
        value = Decimal(str(raw))
    except (InvalidOperation, ValueError) as exc:
        raise ScenarioError(f"scenario {name!r}: {field} is not a number") from exc
    if not value.is_finite() or not low <= value <= high:
        raise ScenarioError(f"scenario {name!r}: {field} must be between {low} and {high}")
    return float(value)


def parse_scenarios(text: str) -> tuple[Scenario, ...]:
    try:
        raw = json.loads(text)
        items = raw["scenarios"]
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise ScenarioError(f"malformed scenario file: {exc}") from exc
    if not isinstance(items, list) or not items:
        raise ScenarioError("the scenario file holds no scenarios")
    scenarios = []
    for item in items:
        if not isinstance(item, dict) or not str(item.get("name", "")).strip():
            raise ScenarioError("every scenario needs a name")
        name = str(item["name"])
        scenarios.append(
            Scenario(
                name,
                _number(item.get("pd_multiplier", "1"), name, "pd_multiplier", 0.0, 100.0),
                _number(item.get("lgd_shift", "0"), name, "lgd_shift", -1.0, 1.0),
                _number(item.get("prepay_multiplier", "1"), name, "prepay_multiplier", 0.0, 100.0),
            )
        )
    names = [s.name for s in scenarios]
    if len(set(names)) != len(names):
        raise ScenarioError("scenario names must be unique")
    return tuple(scenarios)


def default_scenarios() -> tuple[Scenario, ...]:
    text = resources.files("xiaodai.risk").joinpath("data/stress_scenarios.json").read_text("utf-8")
    return parse_scenarios(text)


def impact(results: dict[str, pl.DataFrame], base: pl.DataFrame) -> pl.DataFrame:
    """One row per scenario: ECL total, by stage, and the impact over the base (integer fen)."""
    base_total = int(base["ecl_fen"].sum())
    rows = []
    for name, table in results.items():
        by_stage = {int(s): int(v) for s, v in zip(table["stage"], table["ecl_fen"], strict=True)}
        total = int(table["ecl_fen"].sum())
        rows.append(
            {
                "scenario": name,
                "stage1_fen": by_stage.get(1, 0),
                "stage2_fen": by_stage.get(2, 0),
                "stage3_fen": by_stage.get(3, 0),
                "total_fen": total,
                "impact_fen": total - base_total,
                "stage2_loans": int(table.filter(pl.col("stage") == 2)["loans"].sum()),
            }
        )
    return pl.DataFrame(rows)
