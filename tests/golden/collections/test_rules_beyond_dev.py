"""Every scenario of rules_beyond_dev.json (one per rule added in issue 13) through the conformance runner:
the same path as ``xiaodai conformance run``, which uses the engines the product uses."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from xiaodai.conformance.runner import run_scenario

SCENARIOS: list[dict[str, Any]] = json.loads(
    (Path(__file__).parent / "rules_beyond_dev.json").read_text(encoding="utf-8")
)["scenarios"]


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s["id"] for s in SCENARIOS])
def test_scenario_passes(scenario: dict[str, Any]) -> None:
    outcome = run_scenario(scenario)
    assert outcome.passed is True, outcome.line


def test_every_scenario_expects_a_decision_and_a_reason() -> None:
    assert len(SCENARIOS) >= 20
    for scenario in SCENARIOS:
        assert {"decision", "reason"} <= set(scenario["expect"]), scenario["id"]
