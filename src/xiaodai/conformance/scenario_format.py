"""The scenario file format (shared/conformance/SCENARIO_FORMAT.md) as data; the check run before an engine.

A scenario the runner cannot evaluate — an unknown suite, action, event type, channel or other closed
enumeration of the format, a fact of the wrong type — is reported on its own result line with
``"decision": "error"`` and a reason naming what was not understood and where (``unknown event type 'foo' in
given.events[2]``). Only the enumerations the format closes are checked here; a value the format leaves open
(``purpose``, a ``prior_contacts`` target, a role) goes to the engine, which decides what it means. Absent or
``null`` facts are "not applicable / not known", never an error by themselves.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any


class ScenarioError(ValueError):
    """This scenario cannot be evaluated; the message says what was not understood and where."""


COMPLAINT_ACTIONS = (
    "evaluate_sla",
    "evaluate_review_sla",
    "evaluate_review_eligibility",
    "close_case",
    "classify",
)
CONTACT_ACTIONS = ("contact", "answer_inbound")
SUITE_ACTIONS: dict[str, tuple[str, ...]] = {
    "contact": CONTACT_ACTIONS,
    "message": CONTACT_ACTIONS,
    "credit_reporting": ("submit_negative_record", "furnish_to_cra"),
    "complaint_sla": COMPLAINT_ACTIONS,
    "complaint_close": COMPLAINT_ACTIONS,
    "complaint_classify": COMPLAINT_ACTIONS,
    "data_protection": (
        "request_permission",
        "view_profile",
        "view_unmasked",
        "write_log",
        "export_accounts_to_agency",
    ),
}
SUITES = tuple(SUITE_ACTIONS)
# A complaint scenario may leave the act implied by its suite.
IMPLIED_ACTIONS = {
    "complaint_sla": "evaluate_sla",
    "complaint_close": "close_case",
    "complaint_classify": "classify",
}
CHANNELS = (
    "call",
    "sms",
    "app_push",
    "email",
    "letter",
    "voicemail",
    "visit",
    "social_media",
    "public_notice",
)
# "consumer" is the format's name for the borrower in prior_contacts (Reg F's word); the engines read it so.
TARGET_TYPES = (
    "borrower",
    "consumer",
    "emergency_contact",
    "spouse",
    "employer",
    "other_third_party",
    "attorney",
    "public",
)
INITIATORS = ("agent", "ai_voice", "borrower")
OUTCOMES = (
    "connected_conversation",
    "no_answer",
    "busy_signal",
    "number_not_in_service",
    "voicemail_limited_content",
)
VISIBILITY = ("private_direct_message", "public_comment")
EVENT_TYPES = (
    "acknowledged",
    "extension",
    "external_appraisal",
    "resubmission",
    "decision_notified",
    "review_requested",
    "review_decision_notified",
    "feedback_to_regulator",
    "company_response",
    "company_final_response",
)
EXTENSION_KINDS = ("complex_to_30d", "special_plus_30d", "pboc_complex")
COMPLAINT_CHANNELS = ("app", "hotline", "letter", "regulator_transfer", "CFPB_portal")
CONFIDENCE = ("high", "medium", "low")


def _known(value: Any, allowed: tuple[str, ...], what: str, where: str) -> None:
    if value is not None and value not in allowed:
        raise ScenarioError(f"unknown {what} {value!r} in {where} (known: {', '.join(allowed)})")


def _time(value: Any, where: str, *, required: bool = False) -> None:
    """An ISO-8601 time (or date) when given."""
    if value is None:
        if required:
            raise ScenarioError(f"missing required fact {where}")
        return
    if not isinstance(value, str):
        raise ScenarioError(f"{where} must be an ISO-8601 time string, not {type(value).__name__}")
    try:
        datetime.fromisoformat(value)
    except ValueError:
        raise ScenarioError(f"{where} is not an ISO-8601 time: {value!r}") from None


def _mapping(value: Any, where: str, *, required: bool = False) -> Mapping[str, Any]:
    if value is None:
        if required:
            raise ScenarioError(f"missing required fact {where}")
        return {}
    if not isinstance(value, Mapping):
        raise ScenarioError(f"{where} must be an object, not {type(value).__name__}")
    return value


def _items(value: Any, where: str) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """The objects of an optional list, each with its path."""
    if value is None:
        return
    if not isinstance(value, list):
        raise ScenarioError(f"{where} must be a list, not {type(value).__name__}")
    for i, item in enumerate(value):
        yield f"{where}[{i}]", _mapping(item, f"{where}[{i}]", required=True)


def action_of(scenario: Mapping[str, Any]) -> str:
    """The act being judged: ``when.action``, or the act a complaint suite implies."""
    when = _mapping(scenario.get("when"), "when")
    suite = str(scenario.get("suite"))
    action = when.get("action", IMPLIED_ACTIONS.get(suite))
    if action is None:
        raise ScenarioError("missing required fact when.action")
    return str(action)


def check_scenario(scenario: Any) -> None:
    """Raise ScenarioError naming the first thing this scenario says that the format does not define."""
    if not isinstance(scenario, Mapping):
        raise ScenarioError(f"a scenario must be an object, not {type(scenario).__name__}")
    suite = scenario.get("suite")
    if suite is None:
        raise ScenarioError("missing required fact suite")
    if suite not in SUITE_ACTIONS:
        raise ScenarioError(f"unknown suite {suite!r} (known: {', '.join(SUITES)})")
    _known(scenario.get("confidence"), CONFIDENCE, "confidence", "confidence")
    given = _mapping(scenario.get("given"), "given")
    when = _mapping(scenario.get("when"), "when")
    _known(action_of(scenario), SUITE_ACTIONS[suite], f"{suite} action", "when.action")
    if scenario.get("expect") is not None:
        _mapping(scenario.get("expect"), "expect")
    if suite in ("contact", "message"):
        _check_contact(given, when)
    elif suite.startswith("complaint_"):
        _check_complaint(given, needs_complaint=suite == "complaint_sla")


def _check_contact(given: Mapping[str, Any], when: Mapping[str, Any]) -> None:
    if given.get("now_local") is None and when.get("at") is None:
        raise ScenarioError("missing required fact given.now_local (the moment of the attempted act)")
    _time(given.get("now_local"), "given.now_local")
    _time(when.get("at"), "when.at")
    _known(when.get("channel"), CHANNELS, "channel", "when.channel")
    target = when.get("target")
    if target is not None:
        _known(_mapping(target, "when.target").get("type"), TARGET_TYPES, "target type", "when.target.type")
    _known(when.get("initiated_by"), INITIATORS, "initiator", "when.initiated_by")
    _known(when.get("visibility"), VISIBILITY, "visibility", "when.visibility")
    for where, contact in _items(given.get("prior_contacts"), "given.prior_contacts"):
        _time(contact.get("at"), f"{where}.at", required=True)
        _known(contact.get("channel"), CHANNELS, "channel", f"{where}.channel")
        _known(contact.get("outcome"), OUTCOMES, "outcome", f"{where}.outcome")
        _known(contact.get("initiated_by"), INITIATORS, "initiator", f"{where}.initiated_by")
    borrower = _mapping(given.get("borrower"), "given.borrower")
    for key in ("phones", "emails"):
        for _ in _items(borrower.get(key), f"given.borrower.{key}"):
            pass
    for _ in _items(given.get("contacts"), "given.contacts"):
        pass
    flags = _mapping(given.get("flags"), "given.flags")
    for _ in _items(flags.get("opted_out"), "given.flags.opted_out"):
        pass


def _check_complaint(given: Mapping[str, Any], *, needs_complaint: bool) -> None:
    complaint = _mapping(given.get("complaint"), "given.complaint", required=needs_complaint)
    _time(complaint.get("received_at"), "given.complaint.received_at")
    _known(complaint.get("channel"), COMPLAINT_CHANNELS, "complaint channel", "given.complaint.channel")
    for where, event in _items(given.get("events"), "given.events"):
        kind = event.get("type")
        if kind is None:
            raise ScenarioError(f"missing required fact {where}.type")
        _known(kind, EVENT_TYPES, "event type", where)
        _time(event.get("at"), f"{where}.at")
        if kind == "extension":
            _known(event.get("kind"), EXTENSION_KINDS, "extension kind", f"{where}.kind")
    calendar = given.get("holiday_calendar")
    if calendar is not None and not isinstance(calendar, list):
        raise ScenarioError(f"given.holiday_calendar must be a list, not {type(calendar).__name__}")
