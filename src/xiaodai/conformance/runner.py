"""Evaluate conformance scenarios (the format of shared/conformance/conduct_dev.json) with the real engines.

Each scenario yields one result line; the runner never needs the expected answer to compute a result
(scenarios without ``expect`` are reported with ``pass: null``). Low-confidence scenarios that fail are
warnings, not failures. A scenario that cannot be evaluated (``scenario_format.check_scenario``, or an
engine's ValueError / KeyError / TypeError on its facts) yields its own line with ``"decision": "error"`` and
a reason naming what was not understood; the other scenarios still run.

Each engine adapter translates the scenario format into the product's typed inputs at this edge and calls the
same policy code the web pages, the API and the workflow call.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any

from xiaodai.conformance.scenario_format import SUITES, ScenarioError, check_scenario
from xiaodai.conformance.vocabulary import in_vocabulary, vocabulary_of

__all__ = ["ENGINES", "SUITES", "ConformanceError", "Outcome", "run_document", "run_scenario"]
INPUT_ERRORS = (ValueError, TypeError, AttributeError, LookupError)


class ConformanceError(ValueError):
    """The file itself is not a scenario file (not an object with a ``scenarios`` list)."""


@dataclass(frozen=True)
class Outcome:
    line: dict[str, Any]
    passed: bool | None
    warning: bool
    error: bool = False


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
    from xiaodai.conformance.data_protection_scenarios import evaluate_data_protection

    return evaluate_data_protection(scenario)


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
    shown = expect.get("display")
    if isinstance(shown, Mapping):
        got_display = result.get("display") or {}
        if any(got_display.get(field) != value for field, value in shown.items()):
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


def _error_reason(exc: Exception) -> str:
    """What was not understood, in words an examiner can act on."""
    if isinstance(exc, ScenarioError):
        return str(exc)
    if isinstance(exc, KeyError):
        return f"missing required fact {exc.args[0]!r}" if exc.args else "missing required fact"
    if isinstance(exc, INPUT_ERRORS):
        return f"cannot evaluate ({type(exc).__name__}): {exc}"
    return f"engine failure ({type(exc).__name__}): {exc}"


def _error_outcome(scenario: Any, reason: str) -> Outcome:
    known = scenario if isinstance(scenario, Mapping) else {}
    expect = known.get("expect")
    passed = False if expect is not None else None
    line: dict[str, Any] = {
        "id": known.get("id"),
        "suite": known.get("suite"),
        "decision": "error",
        "reason": reason,
        "reasons": [],
        "expected": expect,
        "pass": passed,
    }
    return Outcome(line, passed, warning=False, error=True)


def run_scenario(scenario: Any, vocabulary: Collection[str] | None = None) -> Outcome:
    """One result line. A scenario that cannot be evaluated yields an error line; it never raises.

    ``vocabulary``: the file's ``reason_codes``; the reason is reported in it where the product's finer code
    has a broader one there (``conformance.vocabulary``).
    """
    try:
        check_scenario(scenario)
        result = in_vocabulary(ENGINES[str(scenario["suite"])](scenario), vocabulary)
        expect = scenario.get("expect")
        passed = None if expect is None else _matches(result, expect)
    except Exception as exc:  # one bad scenario (or one engine bug) never stops the run
        return _error_outcome(scenario, _error_reason(exc))
    line = {
        "id": scenario.get("id"),
        "suite": scenario["suite"],
        **result,
        "expected": expect,
        "pass": passed,
    }
    low = scenario.get("confidence") == "low"
    return Outcome(line, passed, warning=bool(low and passed is False))


def run_document(document: Any) -> list[Outcome]:
    """Every scenario of a file (or every APR vector), in order. Raises ConformanceError only when the file is
    not of either format."""
    from xiaodai.conformance.apr_vectors import is_vector_document, run_vector

    if is_vector_document(document):  # APR and schedule reference vectors (apr_dev.json's format)
        return [
            Outcome(line, passed, warning=False, error=error)
            for line, passed, error in (run_vector(v) for v in document["vectors"])
        ]
    if not isinstance(document, Mapping) or not isinstance(document.get("scenarios"), list):
        raise ConformanceError("expected a JSON object with a 'scenarios' list (or APR 'vectors')")
    vocabulary = vocabulary_of(document)
    return [run_scenario(s, vocabulary) for s in document["scenarios"]]
