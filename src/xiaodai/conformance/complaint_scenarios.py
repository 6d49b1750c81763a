"""The complaint suites of the scenario format (``complaint_sla``, ``complaint_close``,
``complaint_classify``) translated at the runner's edge into the complaint domain's typed inputs, and
evaluated with the same functions the product's complaint service calls (``xiaodai.complaints.sla``,
``sla_review``, ``closing``, ``classify``).

Format-specific readings live here and nowhere else: bare dates and offset-less times are read in the zone of
the profile the complaint routes to; ``approved_by`` may be ``{name, role}`` or a bare string; a
``holiday_calendar`` key (even an empty list) replaces the built-in calendar for that scenario; without
``when.as_of`` the moment of evaluation is the last event's time (or ``received_at``). Anything not
understood — an unknown action, event type or extension kind, a missing ``at`` — raises ``ValueError``
naming it, which the runner reports as that scenario's error line.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from xiaodai.complaints.classify import classify
from xiaodai.complaints.closing import check_close
from xiaodai.complaints.sla import evaluate_sla, verdict_to_json
from xiaodai.complaints.sla_calendar import ChinaStatutoryHolidays, FixedHolidayCalendar, HolidayCalendar
from xiaodai.complaints.sla_inputs import (
    Acknowledged,
    Approver,
    CompanyFinalResponse,
    CompanyResponse,
    Complaint,
    DecisionNotified,
    Event,
    Extension,
    ExternalAppraisal,
    FeedbackToRegulator,
    InternalTargets,
    NewFacts,
    Resubmission,
    ReviewDecisionNotified,
    ReviewRequested,
)
from xiaodai.complaints.sla_profiles import SlaBook, default_sla_book
from xiaodai.complaints.sla_review import evaluate_review_eligibility, evaluate_review_sla

__all__ = [
    "ACTIONS",
    "SUITE_DEFAULT_ACTION",
    "evaluate_complaint_scenario",
    "parse_event",
    "scenario_as_of",
    "scenario_to_inputs",
    "scenario_zone",
]

# The scenario's ``profile`` names the conduct profile; the complaint clock it means.
_PROFILE_ALIASES = {"US_RegF": "US_CFPB"}
SUITE_DEFAULT_ACTION = {
    "complaint_sla": "evaluate_sla",
    "complaint_close": "close_case",
    "complaint_classify": "classify",
}

# --------------------------------------------------------------------------------------------------
# ``given`` → typed inputs
# --------------------------------------------------------------------------------------------------


def _instant(value: Any, zone: ZoneInfo, what: str) -> datetime:
    if value is None:
        raise ValueError(f"{what} is missing")
    text = str(value)
    if len(text) == 10:  # a bare date: local midnight
        return datetime.combine(date.fromisoformat(text), time(0), tzinfo=zone)
    parsed = datetime.fromisoformat(text)
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=zone)


def _opt_instant(value: Any, zone: ZoneInfo, what: str) -> datetime | None:
    return None if value is None else _instant(value, zone, what)


def _opt_str(value: Any) -> str | None:
    return None if value is None else str(value)


def _approver(value: Any) -> Approver | None:
    if value is None:
        return None
    if isinstance(value, Mapping):
        return Approver(_opt_str(value.get("name")), _opt_str(value.get("role")))
    return Approver(name=str(value))


def _strings(value: Any) -> tuple[str, ...]:
    return tuple(str(v) for v in (value or []))


def _extension(raw: Mapping[str, Any], zone: ZoneInfo, book: SlaBook) -> Extension:
    kind = _opt_str(raw.get("kind"))
    if kind is not None and kind not in book.extension_kinds:
        known = ", ".join(sorted(book.extension_kinds))
        raise ValueError(f"unknown extension kind {kind!r} (known: {known})")
    days = raw.get("extend_to_days")
    return Extension(
        at=_instant(raw.get("at"), zone, "extension.at"),
        kind=kind,
        approved_by=_approver(raw.get("approved_by")),
        complainant_notified_at=_opt_instant(
            raw.get("complainant_notified_at"), zone, "extension.complainant_notified_at"
        ),
        reason=_opt_str(raw.get("reason")),
        extend_to_days=int(days) if days is not None else None,
    )


def _at(raw: Mapping[str, Any], zone: ZoneInfo) -> datetime:
    return _instant(raw.get("at"), zone, f"{raw.get('type')}.at")


_PARSERS: dict[str, Callable[[Mapping[str, Any], ZoneInfo, SlaBook], Event]] = {
    "acknowledged": lambda r, z, b: Acknowledged(_at(r, z)),
    "decision_notified": lambda r, z, b: DecisionNotified(_at(r, z), _strings(r.get("notice_contents"))),
    "extension": _extension,
    "external_appraisal": lambda r, z, b: ExternalAppraisal(
        start=date.fromisoformat(str(r["start"])),
        end=date.fromisoformat(str(r["end"])),
        complainant_notified_at=_opt_instant(
            r.get("complainant_notified_at"), z, "external_appraisal.complainant_notified_at"
        ),
        provider=_opt_str(r.get("provider")),
    ),
    "resubmission": lambda r, z, b: Resubmission(
        _at(r, z), new_facts=bool(r.get("new_facts")), summary=_opt_str(r.get("summary"))
    ),
    "new_facts": lambda r, z, b: NewFacts(_at(r, z)),
    "review_requested": lambda r, z, b: ReviewRequested(_at(r, z)),
    "review_decision_notified": lambda r, z, b: ReviewDecisionNotified(_at(r, z)),
    "feedback_to_regulator": lambda r, z, b: FeedbackToRegulator(
        _at(r, z), _opt_str(r.get("level")), _strings(r.get("fields"))
    ),
    "company_response": lambda r, z, b: CompanyResponse(
        _at(r, z), _opt_str(r.get("company_response_to_consumer"))
    ),
    "company_final_response": lambda r, z, b: CompanyFinalResponse(
        _at(r, z), _opt_str(r.get("company_response_to_consumer"))
    ),
}


def parse_event(raw: Mapping[str, Any], zone: ZoneInfo, book: SlaBook | None = None) -> Event:
    """One event of a scenario's ``events`` list; bare dates/times are read in ``zone``."""
    kind = raw.get("type")
    parser = _PARSERS.get(str(kind))
    if parser is None:
        raise ValueError(f"unknown complaint event type {kind!r} (known: {', '.join(sorted(_PARSERS))})")
    return parser(raw, zone, book or default_sla_book())


def _profile_name(profile: str | None) -> str | None:
    return _PROFILE_ALIASES.get(profile, profile) if profile is not None else None


def scenario_zone(given: Mapping[str, Any], *, profile: str | None, book: SlaBook | None = None) -> ZoneInfo:
    """The zone bare dates are read in: that of the profile the complaint routes to (else CN's)."""
    book = book or default_sla_book()
    raw = given.get("complaint") or {}
    requested = _profile_name(profile)
    routed = (
        book.route(requested, _opt_str(raw.get("forwarded_by")), _opt_str(raw.get("channel")))
        or requested
        or "CN"
    )
    return book.profiles[routed].zone if routed in book.profiles else book.profiles["CN"].zone


def scenario_to_inputs(
    given: Mapping[str, Any], *, profile: str | None = None, book: SlaBook | None = None
) -> tuple[Complaint, list[Event], HolidayCalendar, InternalTargets | None]:
    """Parse a scenario's ``given`` block (complaint, events, holiday_calendar, internal_targets)."""
    book = book or default_sla_book()
    raw = given.get("complaint")
    if not isinstance(raw, Mapping):
        raise ValueError("given.complaint is missing")
    forwarded_by, channel = _opt_str(raw.get("forwarded_by")), _opt_str(raw.get("channel"))
    zone = scenario_zone(given, profile=profile, book=book)
    sent = raw.get("date_sent_to_company")
    complaint = Complaint(
        id=str(raw.get("id", "")),
        received_at=_instant(raw.get("received_at"), zone, "complaint.received_at"),
        channel=channel,
        category=_opt_str(raw.get("category")),
        forwarded_by=forwarded_by,
        date_sent_to_company=date.fromisoformat(str(sent)) if sent is not None else None,
        product=_opt_str(raw.get("product")),
        sub_product=_opt_str(raw.get("sub_product")),
        issue=_opt_str(raw.get("issue")),
    )
    events = [parse_event(e, zone, book) for e in given.get("events") or []]
    calendar: HolidayCalendar
    if given.get("holiday_calendar") is not None:
        calendar = FixedHolidayCalendar(
            frozenset(date.fromisoformat(str(d)) for d in given["holiday_calendar"])
        )
    else:
        calendar = ChinaStatutoryHolidays()
    targets_raw = given.get("internal_targets")
    targets = (
        InternalTargets(ack_within_hours=float(targets_raw.get("ack_within_hours", 24)))
        if targets_raw is not None
        else None
    )
    return complaint, events, calendar, targets


def _event_time(event: Event) -> datetime | None:
    if isinstance(event, ExternalAppraisal):
        return event.complainant_notified_at
    return event.at


def scenario_as_of(
    when: Mapping[str, Any], complaint: Complaint, events: Sequence[Event], zone: ZoneInfo
) -> datetime:
    """``when.as_of`` if given, else the last event's time, else ``received_at`` (SCENARIO_FORMAT.md)."""
    if when.get("as_of") is not None:
        return _instant(when["as_of"], zone, "when.as_of")
    times = [t for t in (_event_time(e) for e in events) if t is not None]
    return max([complaint.received_at, *times])


# --------------------------------------------------------------------------------------------------
# Actions
# --------------------------------------------------------------------------------------------------


def _sla_line(scenario: Mapping[str, Any]) -> dict[str, Any]:
    profile = _profile_name(scenario.get("profile")) or "CN"
    complaint, events, calendar, targets = scenario_to_inputs(scenario["given"], profile=profile)
    zone = scenario_zone(scenario["given"], profile=profile)
    as_of = scenario_as_of(scenario.get("when") or {}, complaint, events, zone)
    out = verdict_to_json(evaluate_sla(profile, complaint, events, calendar, as_of, targets))
    return {
        "decision": None,
        "reason": out["reason"],
        "reasons": out["reasons"],
        "sla_status": out["sla_status"],
        "regulatory_deadline": out["regulatory_deadline"],
        "timely_response": out["timely_response"],
    }


def _review_line(scenario: Mapping[str, Any], *, eligibility: bool) -> dict[str, Any]:
    profile = _profile_name(scenario.get("profile")) or "CN"
    complaint, events, calendar, _ = scenario_to_inputs(scenario["given"], profile=profile)
    zone = scenario_zone(scenario["given"], profile=profile)
    as_of = scenario_as_of(scenario.get("when") or {}, complaint, events, zone)
    evaluate = evaluate_review_eligibility if eligibility else evaluate_review_sla
    out = evaluate(profile, complaint, events, calendar, as_of).to_json()
    return {k: out[k] for k in ("decision", "reason", "reasons", "sla_status", "regulatory_deadline")}


def _notice_from_events(given: Mapping[str, Any]) -> dict[str, Any]:
    """The decision notice's parts as stated by the last ``decision_notified`` event, if any."""
    notices = [e for e in given.get("events") or [] if e.get("type") == "decision_notified"]
    if not notices:
        return {}
    contents = _strings(notices[-1].get("notice_contents"))
    return {c.partition(":")[0]: c.partition(":")[2] or True for c in contents}


def _close_line(scenario: Mapping[str, Any]) -> dict[str, Any]:
    given, when = scenario.get("given") or {}, scenario.get("when") or {}
    notice = when.get("notice")
    if notice is None:
        notice = _notice_from_events(given)
    decision, reason, reasons = check_close(notice, when.get("remedies") or [], when.get("root_cause"))
    out: dict[str, Any] = {"decision": decision, "reason": reason, "reasons": reasons}
    if "complaint" in given:
        sla = _sla_line(scenario)
        out.update({k: sla[k] for k in ("sla_status", "regulatory_deadline", "timely_response")})
    return out


def _classify_line(scenario: Mapping[str, Any]) -> dict[str, Any]:
    given = scenario.get("given") or {}
    narrative = given.get("narrative") or (given.get("complaint") or {}).get("narrative")
    if not narrative:
        raise ValueError("classify needs given.narrative or given.complaint.narrative")
    result = classify(str(narrative))
    return {
        "decision": None,
        "reason": result.category,
        "reasons": [result.category],
        "classification": result.to_json(),
    }


ACTIONS: dict[str, Callable[[Mapping[str, Any]], dict[str, Any]]] = {
    "evaluate_sla": _sla_line,
    "evaluate_review_sla": lambda s: _review_line(s, eligibility=False),
    "evaluate_review_eligibility": lambda s: _review_line(s, eligibility=True),
    "close_case": _close_line,
    "classify": _classify_line,
}


def evaluate_complaint_scenario(scenario: Mapping[str, Any]) -> dict[str, Any]:
    """The result fields of one complaint scenario (``when.action``, else the suite's default action)."""
    when = scenario.get("when") or {}
    action = when.get("action") or SUITE_DEFAULT_ACTION.get(str(scenario.get("suite")))
    handler = ACTIONS.get(str(action))
    if handler is None:
        raise ValueError(f"unknown complaint action {action!r} (known: {', '.join(ACTIONS)})")
    return handler(scenario)
