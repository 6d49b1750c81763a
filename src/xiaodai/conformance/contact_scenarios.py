"""Scenario files (SCENARIO_FORMAT.md, suites ``contact``, ``message``, ``credit_reporting``) translated into
the collections engines' typed inputs, at the runner's edge.

The case and the attempt use the product's own document readers (``collections.contact_document``: the
staff API body and a case's stored context are written with the same field names); what only a scenario
has — ``now_local``, the ``prior_contacts`` the product keeps in its contact log, the reporting history —
is read here. Anything not understood raises ``ScenarioInputError`` (a ``ValueError``) naming the field, so
the runner can report that one scenario as ``decision: error`` and go on.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from xiaodai.collections.contact_document import (
    COLLECTOR_ROLES,
    ContactDocumentError,
    parse_attempt,
    parse_case,
    parse_moment,
    parse_prior_contact,
)
from xiaodai.collections.contact_facts import Attempt, ContactCase, PriorContact
from xiaodai.collections.contact_policy import Profile, ProfileError, Verdict, evaluate, load_profile
from xiaodai.collections.credit_reporting import (
    ConsumerCommunication,
    PriorNotice,
    ReportingVerdict,
    evaluate_reporting,
)

CONTACT_PROFILES = ("CN", "US_RegF")
REPORTING_ACTIONS = {"CN": "submit_negative_record", "US_RegF": "furnish_to_cra"}


class ScenarioInputError(ContactDocumentError):
    """A scenario's facts or act cannot be understood; the message names the field."""


@dataclass(frozen=True)
class ContactInputs:
    profile: Profile
    case: ContactCase
    history: tuple[PriorContact, ...]
    attempt: Attempt
    as_of: datetime


def _mapping(scenario: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = scenario.get(key)
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ScenarioInputError(f"{key}: expected an object")
    return value


def _profile(scenario: Mapping[str, Any]) -> Profile:
    name = scenario.get("profile")
    if name not in CONTACT_PROFILES:
        raise ScenarioInputError(f"profile: unknown value {name!r} (known: {', '.join(CONTACT_PROFILES)})")
    try:
        return load_profile(str(name))
    except ProfileError as exc:
        raise ScenarioInputError(f"profile: {exc}") from None


def contact_inputs(scenario: Mapping[str, Any]) -> ContactInputs:
    """The engine's inputs for one ``contact`` / ``message`` scenario."""
    profile = _profile(scenario)
    given = _mapping(scenario, "given")
    when = _mapping(scenario, "when")
    moment = given.get("now_local") or when.get("at")
    if moment is None:
        raise ScenarioInputError("given.now_local: required (the moment of the attempted act)")
    as_of = parse_moment(moment, "given.now_local" if given.get("now_local") else "when.at")
    assert as_of is not None
    prior = given.get("prior_contacts") or []
    if not isinstance(prior, list):
        raise ScenarioInputError("given.prior_contacts: expected a list")
    history = tuple(parse_prior_contact(c, f"given.prior_contacts[{i}]") for i, c in enumerate(prior))
    return ContactInputs(profile, parse_case(given, "given"), history, parse_attempt(when, "when"), as_of)


def evaluate_contact_scenario(scenario: Mapping[str, Any]) -> Verdict:
    inputs = contact_inputs(scenario)
    return evaluate(inputs.profile, inputs.case, inputs.history, inputs.attempt, inputs.as_of)


def _items(given: Mapping[str, Any], key: str) -> list[tuple[str, Mapping[str, Any]]]:
    raw = given.get(key) or []
    if not isinstance(raw, list):
        raise ScenarioInputError(f"given.{key}: expected a list")
    out = []
    for i, item in enumerate(raw):
        if not isinstance(item, Mapping):
            raise ScenarioInputError(f"given.{key}[{i}]: expected an object")
        out.append((f"given.{key}[{i}]", item))
    return out


def _bool(item: Mapping[str, Any], key: str, path: str) -> bool | None:
    value = item.get(key)
    if value is not None and not isinstance(value, bool):
        raise ScenarioInputError(f"{path}.{key}: expected true or false, got {value!r}")
    return value


def _required_moment(item: Mapping[str, Any], path: str) -> datetime:
    at = parse_moment(item.get("at"), f"{path}.at")
    if at is None:
        raise ScenarioInputError(f"{path}.at: required")
    return at


def evaluate_reporting_scenario(scenario: Mapping[str, Any]) -> ReportingVerdict:
    """One ``credit_reporting`` scenario through the same policy the workflow uses."""
    name = scenario.get("profile")
    if name not in REPORTING_ACTIONS:
        raise ScenarioInputError(f"profile: unknown value {name!r} (known: {', '.join(REPORTING_ACTIONS)})")
    given = _mapping(scenario, "given")
    when = _mapping(scenario, "when")
    action = when.get("action")
    if action not in REPORTING_ACTIONS.values():
        raise ScenarioInputError(
            f"when.action: unknown value {action!r} (known: {', '.join(REPORTING_ACTIONS.values())})"
        )
    at = parse_moment(when.get("at"), "when.at")
    if at is None:
        raise ScenarioInputError("when.at: required (the moment of the submission)")
    role = given.get("collector_role")
    if role is not None and role not in COLLECTOR_ROLES:
        raise ScenarioInputError(
            f"given.collector_role: unknown value {role!r} (known: {', '.join(COLLECTOR_ROLES)})"
        )
    notices = []
    for path, item in _items(given, "notices_sent"):
        channels = item.get("channels") or []
        if not isinstance(channels, list):
            raise ScenarioInputError(f"{path}.channels: expected a list")
        notices.append(
            PriorNotice(
                kind=str(item.get("type") or item.get("kind") or "negative_info_prior_notice"),
                at=_required_moment(item, path),
                channels=tuple(str(c) for c in channels),
                delivered=_bool(item, "delivered", path),
            )
        )
    communications = [
        ConsumerCommunication(
            at=_required_moment(item, path),
            channel=str(item.get("channel") or ""),
            kind=None if item.get("kind") is None else str(item["kind"]),
            outcome=None if item.get("outcome") is None else str(item["outcome"]),
            undeliverable_notice_received=bool(_bool(item, "undeliverable_notice_received", path)),
        )
        for path, item in _items(given, "communications_with_consumer")
    ]
    return evaluate_reporting(
        str(name),
        at=at,
        notices=notices,
        communications=communications,
        collector_role=role or ("third_party_debt_collector" if str(name).startswith("US") else None),
    )
