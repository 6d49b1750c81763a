"""Evaluate conformance scenarios (the format of shared/conformance/conduct_dev.json) with the real engines.

Each scenario yields one result line; the runner never needs the expected answer to compute a result
(scenarios without ``expect`` are reported with ``pass: null``). Low-confidence scenarios that fail are
warnings, not failures.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

SUITES = (
    "contact",
    "message",
    "credit_reporting",
    "complaint_sla",
    "complaint_close",
    "complaint_classify",
    "data_protection",
)


class ConformanceError(ValueError):
    """The scenario file cannot be run (unknown suite, malformed scenario)."""


@dataclass(frozen=True)
class Outcome:
    line: dict[str, Any]
    passed: bool | None
    warning: bool


def _contact(scenario: Mapping[str, Any]) -> dict[str, Any]:
    from xiaodai.collections.contact_policy import evaluate_scenario

    verdict = evaluate_scenario(scenario["profile"], scenario["given"], scenario["when"])
    return {
        "decision": verdict.decision,
        "reason": verdict.reason,
        "reasons": list(verdict.reasons),
        "rule_version": verdict.rule_version,
    }


def _reporting(scenario: Mapping[str, Any]) -> dict[str, Any]:
    from xiaodai.collections.credit_reporting import evaluate_reporting

    decision, reason, reasons = evaluate_reporting(scenario["profile"], scenario["given"], scenario["when"])
    return {"decision": decision, "reason": reason, "reasons": reasons}


def _data(scenario: Mapping[str, Any]) -> dict[str, Any]:
    from xiaodai.privacy.policy import evaluate_data_action

    decision, reason, reasons = evaluate_data_action(scenario["given"], scenario["when"])
    return {"decision": decision, "reason": reason, "reasons": reasons}


def _complaint(scenario: Mapping[str, Any]) -> dict[str, Any]:
    from xiaodai.conformance.complaint_scenarios import evaluate_complaint_scenario

    return evaluate_complaint_scenario(scenario)


_sla = _classify = _close = _complaint  # the three complaint suites: dispatched on ``when.action``


ENGINES: dict[str, Callable[[Mapping[str, Any]], dict[str, Any]]] = {
    "contact": _contact,
    "message": _contact,
    "credit_reporting": _reporting,
    "complaint_sla": _sla,
    "data_protection": _data,
    "complaint_classify": _classify,
    "complaint_close": _close,
}


def _matches(result: Mapping[str, Any], expect: Mapping[str, Any]) -> bool:
    if "decision" in expect and result.get("decision") != expect["decision"]:
        return False
    if "reason" in expect:
        acceptable = set(expect.get("acceptable_reasons") or []) | {expect["reason"]}
        if result.get("reason") not in acceptable:
            return False
    for key in ("sla_status", "regulatory_deadline", "timely_response"):
        if key in expect and result.get(key) != expect[key]:
            return False
    wanted = expect.get("classification")
    if isinstance(wanted, Mapping):
        got = result.get("classification") or {}
        for key, value in wanted.items():
            if key == "confidence":
                continue
            if got.get(key) != value and not (key == "sub_issue" and got.get("category_sub_issue") == value):
                return False
    return True


def run_scenario(scenario: Mapping[str, Any]) -> Outcome:
    suite = scenario.get("suite")
    if suite not in ENGINES:
        raise ConformanceError(
            f"unknown suite {suite!r} in scenario {scenario.get('id')!r}; known: {', '.join(SUITES)}"
        )
    try:
        result = ENGINES[str(suite)](scenario)
    except (KeyError, TypeError, ValueError) as exc:
        raise ConformanceError(f"scenario {scenario.get('id')!r} is malformed: {exc}") from exc
    expect = scenario.get("expect")
    passed = None if expect is None else _matches(result, expect)
    line = {"id": scenario.get("id"), "suite": suite, **result, "expected": expect, "pass": passed}
    low = scenario.get("confidence") == "low"
    return Outcome(line, passed, warning=bool(low and passed is False))


def run_document(document: Any) -> list[Outcome]:
    if not isinstance(document, Mapping) or not isinstance(document.get("scenarios"), list):
        raise ConformanceError("expected a JSON object with a 'scenarios' list")
    return [run_scenario(s) for s in document["scenarios"]]
