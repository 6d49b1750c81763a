"""tests/golden/complaints/lifecycle_beyond_dev.json through the conformance runner: every complaint rule of
issue 13 on both sides of its edge, written in the published scenario format; and
lifecycle_not_understood.json: an unknown event type, extension kind and action, each an error naming it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from xiaodai.conformance.complaint_scenarios import evaluate_complaint_scenario
from xiaodai.conformance.runner import run_document, run_scenario

GOLDEN = Path(__file__).parents[2] / "golden" / "complaints"
SCENARIOS: list[dict[str, Any]] = json.loads(
    (GOLDEN / "lifecycle_beyond_dev.json").read_text(encoding="utf-8")
)["scenarios"]
BAD: list[dict[str, Any]] = json.loads(
    (GOLDEN / "lifecycle_not_understood.json").read_text(encoding="utf-8")
)["scenarios"]
GOOD = SCENARIOS


@pytest.mark.parametrize("scenario", GOOD, ids=[s["id"] for s in GOOD])
def test_scenario_passes(scenario: dict[str, Any]) -> None:
    outcome = run_scenario(scenario)
    assert outcome.passed, outcome.line


@pytest.mark.parametrize("scenario", BAD, ids=[s["id"] for s in BAD])
def test_not_understood_is_an_error_naming_it(scenario: dict[str, Any]) -> None:
    name = scenario["notes"].split("'")[1]  # the notes quote what is not understood
    with pytest.raises(ValueError, match=name):
        evaluate_complaint_scenario(scenario)
    outcome = run_scenario(scenario)  # through the runner: the scenario's own error line, naming it
    assert (outcome.error, outcome.line["decision"]) == (True, "error")
    assert name in outcome.line["reason"]


def test_the_whole_file_passes_through_the_runner() -> None:
    document = json.loads((GOLDEN / "lifecycle_beyond_dev.json").read_text(encoding="utf-8"))
    outcomes = run_document(document)
    assert len(outcomes) == len(SCENARIOS) >= 40
    assert all(o.passed for o in outcomes)


def test_every_new_rule_has_both_sides() -> None:
    reasons = {s["expect"].get("reason") for s in SCENARIOS}
    for allowed, blocked in [
        ("SLA_MET", "SLA_BREACH_15D"),
        ("SLA_OPEN_ON_TIME", "SLA_OPEN_BREACHED"),
        ("SLA_MET_CLOCK_RESTARTED", "SLA_BREACH_15D"),
        ("SLA_MET_EXTENDED_30D", "EXTENSION_NOT_NOTIFIED"),
        ("SLA_MET_EXTENDED_60D", "EXTENSION_NOT_APPROVED"),
        ("REVIEW_REQUEST_IN_TIME", "REVIEW_REQUEST_OUT_OF_TIME"),
        ("REVIEW_SLA_MET", "REVIEW_SLA_BREACH_30D"),
        ("REVIEW_OPEN_ON_TIME", "REVIEW_OPEN_BREACHED"),
        ("CFPB_TIMELY", "CFPB_UNTIMELY_15D"),
        ("CFPB_TIMELY", "CFPB_FINAL_OVER_60D"),
        ("CLOSE_ALLOWED", "NOTICE_MISSING_REMEDIES"),
        ("SLA_MET", "REGULATOR_FEEDBACK_LATE"),
    ]:
        assert {allowed, blocked} <= reasons, (allowed, blocked)
