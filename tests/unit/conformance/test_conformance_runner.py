"""The scenario runner: a scenario that cannot be evaluated yields its own error line; the rest still run."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from xiaodai.conformance import runner
from xiaodai.conformance.runner import ENGINES, SUITES, ConformanceError, run_document, run_scenario
from xiaodai.conformance.scenario_format import SUITE_ACTIONS

SHARED = Path(__file__).resolve().parents[3].parent / "shared" / "conformance" / "conduct_dev.json"
DEV = (
    SHARED
    if SHARED.exists()
    else Path(__file__).resolve().parents[2] / "golden" / "complaints" / "conduct_dev.json"
)

PERMISSION = {
    "id": "P-1",
    "profile": "CN",
    "suite": "data_protection",
    "given": {"app": {"platform": "android", "flow": "loan_application"}},
    "when": {"action": "request_permission", "permission": "READ_CONTACTS", "purpose": "risk control"},
    "expect": {"decision": "block", "reason": "CONTACTS_HARVEST"},
}
CALL = {
    "id": "C-1",
    "profile": "CN",
    "suite": "contact",
    "given": {
        "borrower": {
            "timezone": "Asia/Shanghai",
            "phones": [{"id": "M1", "type": "mobile", "owner": "borrower"}],
        },
        "debt": {"id": "D1", "days_past_due": 10},
        "prior_contacts": [],
        "flags": {},
        "now_local": "2026-03-10T22:30:00+08:00",
    },
    "when": {"action": "contact", "channel": "call", "phone_id": "M1", "target": {"type": "borrower"}},
    "expect": {"decision": "block", "reason": "TIME_WINDOW"},
}
COMPLAINT = {
    "id": "S-1",
    "profile": "CN",
    "suite": "complaint_sla",
    "given": {
        "complaint": {"id": "X1", "channel": "app", "received_at": "2026-03-02T10:00:00+08:00"},
        "events": [
            {"type": "acknowledged", "at": "2026-03-02T11:00:00+08:00"},
            {
                "type": "decision_notified",
                "at": "2026-03-10T10:00:00+08:00",
                "notice_contents": [
                    "verification_summary",
                    "basis",
                    "reasons",
                    "remedies:核查/调解/仲裁/诉讼",
                ],
            },
        ],
        "holiday_calendar": [],
    },
    "when": {"action": "evaluate_sla"},
    "expect": {"sla_status": "on_time"},
}


def variant(base: dict[str, Any], *path_value: tuple[str, Any]) -> dict[str, Any]:
    """A copy of ``base`` with dotted paths set (``given.events.1.type``) or removed (value ``...``)."""
    out = copy.deepcopy(base)
    for path, value in path_value:
        *parents, last = path.split(".")
        node: Any = out
        for key in parents:
            node = node[int(key)] if isinstance(node, list) else node[key]
        if value is ...:
            del node[last]
        elif isinstance(node, list):
            node[int(last)] = value
        else:
            node[last] = value
    return out


def test_good_scenarios_of_each_kind_pass() -> None:
    for scenario in (PERMISSION, CALL, COMPLAINT):
        outcome = run_scenario(scenario)
        assert outcome.passed is True, outcome.line
        assert outcome.error is False


@pytest.mark.parametrize(
    ("scenario", "reason"),
    [
        (
            variant(PERMISSION, ("when.action", "frobnicate")),
            "unknown data_protection action 'frobnicate' in when.action",
        ),
        (variant(CALL, ("when.action", "visit_home")), "unknown contact action 'visit_home' in when.action"),
        (
            variant(CALL, ("when.channel", "carrier_pigeon")),
            "unknown channel 'carrier_pigeon' in when.channel",
        ),
        (
            variant(CALL, ("when.target", {"type": "neighbour"})),
            "unknown target type 'neighbour' in when.target.type",
        ),
        (
            variant(
                CALL, ("given.prior_contacts", [{"at": "2026-03-10T09:00:00+08:00", "outcome": "hung_up"}])
            ),
            "unknown outcome 'hung_up' in given.prior_contacts[0].outcome",
        ),
        (variant(COMPLAINT, ("given.events.1.type", "foo")), "unknown event type 'foo' in given.events[1]"),
        (
            variant(
                COMPLAINT, ("given.events.1", {"type": "extension", "kind": "forever", "at": "2026-03-03"})
            ),
            "unknown extension kind 'forever' in given.events[1].kind",
        ),
        (variant(COMPLAINT, ("suite", "complaint_mood")), "unknown suite 'complaint_mood'"),
        (variant(COMPLAINT, ("confidence", "certain")), "unknown confidence 'certain' in confidence"),
    ],
)
def test_an_unknown_value_is_named_on_the_scenarios_own_line(scenario: dict[str, Any], reason: str) -> None:
    outcome = run_scenario(scenario)
    assert outcome.error is True
    assert outcome.line["decision"] == "error"
    assert outcome.line["reason"].startswith(reason), outcome.line["reason"]
    assert outcome.line["pass"] is False  # it had an expect
    assert outcome.line["id"] == scenario["id"]


@pytest.mark.parametrize(
    ("scenario", "reason"),
    [
        (
            variant(CALL, ("given.now_local", ...)),
            "missing required fact given.now_local (the moment of the attempted act)",
        ),
        (variant(PERMISSION, ("when.action", ...)), "missing required fact when.action"),
        (variant(PERMISSION, ("when.permission", ...)), "missing required fact when.permission"),
        (variant(COMPLAINT, ("given.complaint", ...)), "missing required fact given.complaint"),
        (variant(COMPLAINT, ("given.events.0.type", ...)), "missing required fact given.events[0].type"),
        (variant(PERMISSION, ("suite", ...)), "missing required fact suite"),
        (
            variant(COMPLAINT, ("given.complaint.received_at", ...)),
            "cannot evaluate (ValueError): complaint.received_at is missing",
        ),
    ],
)
def test_a_missing_required_fact_is_named(scenario: dict[str, Any], reason: str) -> None:
    outcome = run_scenario(scenario)
    assert (outcome.line["decision"], outcome.line["reason"]) == ("error", reason)


@pytest.mark.parametrize(
    ("scenario", "reason"),
    [
        (
            variant(COMPLAINT, ("given.events", {"type": "acknowledged"})),
            "given.events must be a list, not dict",
        ),
        (
            variant(CALL, ("given.prior_contacts", ["call"])),
            "given.prior_contacts[0] must be an object, not str",
        ),
        (
            variant(CALL, ("given.now_local", 1741610000)),
            "given.now_local must be an ISO-8601 time string, not int",
        ),
        (variant(CALL, ("given.now_local", "10 March 22:30")), "given.now_local is not an ISO-8601 time"),
        (variant(CALL, ("when", "call")), "when must be an object, not str"),
        (variant(PERMISSION, ("given.app", "android")), "given.app must be an object, not str"),
        (
            variant(COMPLAINT, ("given.holiday_calendar", "2026-03-09")),
            "given.holiday_calendar must be a list",
        ),
    ],
)
def test_a_fact_of_the_wrong_type_is_named(scenario: dict[str, Any], reason: str) -> None:
    outcome = run_scenario(scenario)
    assert outcome.line["decision"] == "error"
    assert outcome.line["reason"].startswith(reason), outcome.line["reason"]


def test_without_expect_an_error_is_not_checked_but_still_an_error() -> None:
    outcome = run_scenario(variant(PERMISSION, ("expect", ...), ("when.action", "nope")))
    assert (outcome.error, outcome.passed, outcome.line["pass"]) == (True, None, None)


def test_a_scenario_that_is_not_an_object_is_an_error_line() -> None:
    outcome = run_scenario(["not", "a", "scenario"])
    assert outcome.line == {
        "id": None,
        "suite": None,
        "decision": "error",
        "reason": "a scenario must be an object, not list",
        "reasons": [],
        "expected": None,
        "pass": None,
    }


@pytest.mark.parametrize(
    ("exc", "reason"),
    [
        (KeyError("debt"), "missing required fact 'debt'"),
        (ValueError("bad as_of"), "cannot evaluate (ValueError): bad as_of"),
        (TypeError("unhashable"), "cannot evaluate (TypeError): unhashable"),
        (ZeroDivisionError("division by zero"), "engine failure (ZeroDivisionError): division by zero"),
    ],
)
def test_an_engine_error_becomes_the_scenarios_error_line(
    monkeypatch: pytest.MonkeyPatch, exc: Exception, reason: str
) -> None:
    def broken(_: Any) -> dict[str, Any]:
        raise exc

    monkeypatch.setitem(runner.ENGINES, "data_protection", broken)
    outcomes = run_document({"scenarios": [PERMISSION, CALL]})
    assert outcomes[0].line["reason"] == reason
    assert outcomes[0].error is True
    assert outcomes[1].passed is True  # the next scenario still ran


def test_a_file_mixing_good_and_bad_scenarios_runs_every_one_in_order() -> None:
    bad_event = variant(COMPLAINT, ("id", "S-bad"), ("given.events.1.type", "resolution_party"))
    wrong = variant(PERMISSION, ("id", "P-wrong"), ("expect", {"decision": "allow"}))
    document = {"scenarios": [PERMISSION, bad_event, CALL, "junk", wrong, COMPLAINT]}
    outcomes = run_document(document)
    assert [o.line["id"] for o in outcomes] == ["P-1", "S-bad", "C-1", None, "P-wrong", "S-1"]
    assert [o.line["decision"] for o in outcomes] == ["block", "error", "block", "error", "block", None]
    assert outcomes[5].line["sla_status"] == "on_time"
    assert [o.passed for o in outcomes] == [True, False, True, None, False, True]
    assert [o.error for o in outcomes] == [False, True, False, True, False, False]


def test_a_low_confidence_disagreement_is_a_warning_but_a_low_confidence_error_is_not() -> None:
    low = variant(PERMISSION, ("confidence", "low"), ("expect", {"decision": "allow"}))
    assert run_scenario(low).warning is True
    broken = variant(low, ("when.permission", ...))
    assert (run_scenario(broken).warning, run_scenario(broken).error) == (False, True)


@pytest.mark.parametrize("document", [[], {"scenarios": {}}, {"cases": []}, "text", None])
def test_a_file_not_of_the_format_is_refused_as_a_whole(document: Any) -> None:
    with pytest.raises(ConformanceError, match="'scenarios' list"):
        run_document(document)


def test_every_suite_of_the_format_has_an_engine() -> None:
    assert set(SUITES) == set(SUITE_ACTIONS) == set(ENGINES)


def test_every_dev_scenario_passes() -> None:
    outcomes = run_document(json.loads(DEV.read_text(encoding="utf-8")))
    assert outcomes
    failing = [o.line for o in outcomes if o.passed is not True and not o.warning]
    assert failing == []


def test_a_malformed_expect_is_an_error_line_not_a_crash() -> None:
    odd = variant(
        PERMISSION, ("expect", {"decision": "block", "classification": {"product": "x"}, "display": 3})
    )
    assert run_scenario(odd).passed is False  # a display that is not an object is ignored, the rest compared
    broken = variant(PERMISSION, ("expect", {"reason": "CONTACTS_HARVEST", "acceptable_reasons": 5}))
    outcome = run_scenario(broken)
    assert (outcome.error, outcome.line["decision"]) == (True, "error")
    assert "TypeError" in outcome.line["reason"]
