"""Scenario -> typed engine inputs at the runner's edge: every failure names the field it could not read."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from xiaodai.conformance.contact_scenarios import (
    ScenarioInputError,
    contact_inputs,
    evaluate_contact_scenario,
    evaluate_reporting_scenario,
)

SCENARIO: dict[str, Any] = {
    "id": "T-1",
    "profile": "US_RegF",
    "suite": "contact",
    "given": {
        "borrower": {
            "timezone": "America/Chicago",
            "phones": [{"id": "P1", "type": "mobile", "owner": "consumer"}],
        },
        "now_local": "2026-04-08T10:00:00-05:00",
        "collector_role": "third_party_debt_collector",
        "prior_contacts": [
            {
                "at": "2026-04-07T10:00:00-05:00",
                "target": "consumer",
                "channel": "call",
                "outcome": "busy_signal",
            }
        ],
        "flags": {"consumer_location_known": True},
    },
    "when": {"action": "contact", "target": {"type": "borrower"}, "channel": "call", "phone_id": "P1"},
}


def changed(path: str, value: Any) -> dict[str, Any]:
    scenario = copy.deepcopy(SCENARIO)
    *parents, last = path.split(".")
    node = scenario
    for key in parents:
        node = node[int(key)] if isinstance(node, list) else node[key]
    if isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value
    return scenario


def test_a_scenario_becomes_typed_inputs() -> None:
    inputs = contact_inputs(SCENARIO)
    assert inputs.profile.name == "US_RegF"
    assert inputs.history[0].outcome == "busy_signal"
    assert inputs.attempt.phone_id == "P1"
    assert evaluate_contact_scenario(SCENARIO).reason == "ALLOWED"


@pytest.mark.parametrize(
    ("path", "value", "field"),
    [
        ("profile", "EU", "profile"),
        ("given.now_local", None, "given.now_local"),
        ("given.now_local", "2026-04-08T10:00:00", "given.now_local"),
        ("when.channel", "fax", "when.channel"),
        ("when.action", "negotiate", "when.action"),
        ("given.prior_contacts.0.outcome", "hung_up", "given.prior_contacts[0].outcome"),
        ("given.prior_contacts.0.at", None, "given.prior_contacts[0].at"),
        ("given.prior_contacts", {"not": "a list"}, "given.prior_contacts"),
        ("given.flags", ["wrong"], "given.flags"),
    ],
)
def test_what_cannot_be_read_is_named(path: str, value: Any, field: str) -> None:
    with pytest.raises(ScenarioInputError if path == "profile" else ValueError) as caught:
        evaluate_contact_scenario(changed(path, value))
    assert str(caught.value).startswith(field), caught.value


def test_reporting_scenarios_name_their_fields() -> None:
    good = {
        "profile": "CN",
        "suite": "credit_reporting",
        "given": {
            "notices_sent": [{"type": "negative_info_prior_notice", "at": "2026-03-05T10:00:00+08:00"}]
        },
        "when": {"action": "submit_negative_record", "at": "2026-03-12T02:00:00+08:00"},
    }
    assert evaluate_reporting_scenario(good).decision == "allow"
    for key, value, field in (
        ("when", {"action": "publish", "at": "2026-03-12T02:00:00+08:00"}, "when.action"),
        ("when", {"action": "submit_negative_record"}, "when.at"),
        ("given", {"notices_sent": [{"type": "negative_info_prior_notice"}]}, "given.notices_sent[0].at"),
    ):
        with pytest.raises(ValueError, match=field.replace("[", r"\[").replace("]", r"\]")):
            evaluate_reporting_scenario({**good, key: value})


def test_the_shared_dev_file_translates_without_error() -> None:
    dev = Path(__file__).resolve().parents[4] / "shared" / "conformance" / "conduct_dev.json"
    if not dev.exists():  # pragma: no cover - the shared corpus sits beside the repository
        pytest.skip("shared conformance corpus not present")
    for scenario in json.loads(dev.read_text(encoding="utf-8"))["scenarios"]:
        if scenario["suite"] in ("contact", "message"):
            contact_inputs(scenario)
