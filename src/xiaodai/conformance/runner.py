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
    from xiaodai.conformance.contact_scenarios import evaluate_contact_scenario

    verdict = evaluate_contact_scenario(scenario)
    return {
        "decision": verdict.decision,
        "reason": verdict.reason,
        "reasons": list(verdict.reasons),
        "rule_version": verdict.rule_version,
    }


def _reporting(scenario: Mapping[str, Any]) -> dict[str, Any]:
    from xiaodai.conformance.contact_scenarios import evaluate_reporting_scenario

    verdict = evaluate_reporting_scenario(scenario)
    return {"decision": verdict.decision, "reason": verdict.reason, "reasons": list(verdict.reasons)}


def _data(scenario: Mapping[str, Any]) -> dict[str, Any]:
    from xiaodai.privacy.policy import evaluate_data_action

    decision, reason, reasons = evaluate_data_action(scenario["given"], scenario["when"])
    return {"decision": decision, "reason": reason, "reasons": reasons}


def _sla(scenario: Mapping[str, Any]) -> dict[str, Any]:
    from datetime import UTC, datetime

    from xiaodai.complaints.sla import evaluate_sla, scenario_to_inputs, verdict_to_json

    complaint, events, calendar, targets = scenario_to_inputs(scenario["given"])
    as_of_text = scenario.get("when", {}).get("as_of")
    # Without an explicit as_of the scenario describes a finished case: evaluate it well after the last limit.
    as_of = datetime.fromisoformat(as_of_text) if as_of_text else datetime(2100, 1, 1, tzinfo=UTC)
    verdict = evaluate_sla(scenario["profile"], complaint, events, calendar, as_of, targets)
    out = verdict_to_json(verdict)
    return {
        "decision": None,
        "reason": out["reason"],
        "reasons": out.get("reasons", [out["reason"]]),
        "sla_status": out["sla_status"],
        "regulatory_deadline": out["regulatory_deadline"],
        "timely_response": out.get("timely_response"),
        "classification": out.get("classification"),
    }


def _classify(scenario: Mapping[str, Any]) -> dict[str, Any]:
    from xiaodai.complaints.classify import classify

    given = scenario["given"]
    narrative = given.get("narrative") or given.get("complaint", {}).get("narrative", "")
    result = classify(str(narrative))
    return {
        "decision": None,
        "reason": result.category,
        "reasons": [result.category],
        "classification": result.to_json(),
    }


def _close(scenario: Mapping[str, Any]) -> dict[str, Any]:
    from xiaodai.complaints.closing import check_close

    when = scenario.get("when", {})
    decision, reason, reasons = check_close(
        when.get("notice", {}), when.get("remedies", []), when.get("root_cause")
    )
    out: dict[str, Any] = {"decision": decision, "reason": reason, "reasons": reasons}
    if "complaint" in scenario.get("given", {}):
        out.update({k: v for k, v in _sla(scenario).items() if k in ("sla_status", "regulatory_deadline")})
    return out


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
