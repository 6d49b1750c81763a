"""Complaint-handling time limits (pure: no clock, no I/O beyond packaged data, no environment).

``evaluate_sla(profile, complaint, events, calendar, as_of, internal_targets) -> SlaVerdict``.

Profiles are versioned data (``data/sla_profiles.json``); every verdict carries the profile version used.

CN (《银行业保险业消费投诉处理管理办法》, RULES.md §3) and CN_PBOC (PBOC-forwarded):

* the clock starts on the day of receipt, which is not counted (民法典 Art. 201); a ``Resubmission`` with
  new facts (or a ``NewFacts`` event) restarts it from that event's day (again not counted) and resets the
  limit to the base 15 days — any extension has to be made again for the new facts, and a decision notified
  before the restart no longer answers the complaint; a ``Resubmission`` without new facts is a duplicate
  merged into the complaint (``DUPLICATE_MERGED``, the clock unchanged);
* the decision and its notice are due by the end (23:59:59 local) of the last counted day; external
  appraisal days (``ExternalAppraisal``, inclusive date ranges) are not counted, but only when the
  complainant was told by the period's last day — otherwise the days count (``EXCLUSION_NOT_NOTIFIED``);
* if the last day falls in the holiday calendar, the deadline moves to the day after the holiday run
  (民法典 Art. 203). Only *statutory holidays* roll the deadline: with the default calendar
  (``ChinaStatutoryHolidays``) a plain weekend last day does not move it; a caller-supplied calendar
  (``FixedHolidayCalendar``) is used exactly as given;
* extensions: CN ``complex_to_30d`` (notice to the complainant) and ``special_plus_30d`` (approval by a
  senior of the superior institution / HQ — judged by the approver's role, data ``senior_role_markers`` —
  AND notice; 60 days at most); CN_PBOC ``pboc_complex`` (or any kind) with a reason, approval by the
  complaint-handling head and notice, 60 at most. An extension kind no profile knows is an input error
  (``ValueError`` naming it). An extension made or notified after the deadline then in force is void. A
  void extension leaves the limit where it was and makes the verdict a breach (conventions: "breach =
  regulatory limit exceeded or extension invalid");
* the decision notice must state the verification, basis, reasons and remedies (``NOTICE_INCOMPLETE``);
* a forwarded complaint (CN_PBOC always; CN when ``forwarded_by`` is set or the channel is
  ``regulator_transfer``) also reports its result back to the regulator (``FeedbackToRegulator``) by the
  same deadline (``REGULATOR_FEEDBACK_LATE``; none recorded is informational,
  ``REGULATOR_FEEDBACK_NOT_RECORDED`` / ``_PENDING``, since an absent event means "not known").

US_CFPB: the company response is due within 15 calendar days of ``date_sent_to_company`` (day 15
inclusive, no holiday roll); the final response (``CompanyFinalResponse``, or a ``CompanyResponse`` other
than "In progress") within 60 days; ``timely_response`` is
"Yes"/"No" as the CFPB database publishes it. A complaint forwarded by the CFPB (``forwarded_by`` "CFPB" or
channel "CFPB_portal") follows these rules whatever profile the caller names; a CN complaint forwarded by
"PBOC" follows CN_PBOC (``resolve_profile``; routing is data too).

Internal targets (house policy, not law): acknowledgement within 24 hours of receipt by default (a decision
notice also acknowledges). Missing one makes an otherwise on-time verdict ``late``.

Status: ``breach`` if any breach code (data ``reason_order.breach``), else ``late`` if any internal code,
else ``on_time``. ``reason`` is the first of ``reasons``: void extensions, time-limit breaches, notice
content, internal targets, met/open codes, informational codes. Every code is listed with its meaning in
the data file (``reason_codes``).

Events after ``as_of`` have not happened yet. Open complaints get an escalation level: the share of the
time allowed (from 00:00 of day 1 to the end of the deadline day, wall clock) elapsed at ``as_of`` —
``None``, ``"70%"``, ``"90%"`` — or ``"breached"`` once the deadline has passed.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from xiaodai.complaints.closing import notice_reason
from xiaodai.complaints.sla_calendar import (
    ONE_DAY,
    ChinaStatutoryHolidays,
    FixedHolidayCalendar,
    HolidayCalendar,
)
from xiaodai.complaints.sla_clock import deadline_day, end_of_day_at, escalation_level, local_day
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
from xiaodai.complaints.sla_profiles import (
    ExtensionRule,
    RoutingRule,
    SlaBook,
    SlaProfile,
    SlaProfileError,
    default_sla_book,
    parse_sla_book,
    resolve_profile,
)
from xiaodai.complaints.sla_verdict import SlaVerdict, Status, verdict_to_json

# The parts live in sla_inputs, sla_calendar, sla_clock, sla_profiles and sla_verdict; every public name
# stays importable from here. (The scenario-file translation lives at the runner's edge:
# xiaodai.conformance.complaint_scenarios.)
__all__ = [
    "Acknowledged",
    "Approver",
    "ChinaStatutoryHolidays",
    "CompanyFinalResponse",
    "CompanyResponse",
    "Complaint",
    "DecisionNotified",
    "Event",
    "Extension",
    "ExtensionRule",
    "ExternalAppraisal",
    "FeedbackToRegulator",
    "FixedHolidayCalendar",
    "HolidayCalendar",
    "InternalTargets",
    "NewFacts",
    "Resubmission",
    "ReviewDecisionNotified",
    "ReviewRequested",
    "RoutingRule",
    "SlaBook",
    "SlaProfile",
    "SlaProfileError",
    "SlaVerdict",
    "Status",
    "deadline_day",
    "default_sla_book",
    "evaluate_sla",
    "needs_regulator_feedback",
    "parse_sla_book",
    "resolve_profile",
    "verdict_to_json",
]


# --------------------------------------------------------------------------------------------------
# Evaluation
# --------------------------------------------------------------------------------------------------


def evaluate_sla(  # noqa: PLR0917 - the signature the callers share
    profile: str,
    complaint: Complaint,
    events: Sequence[Event],
    calendar: HolidayCalendar,
    as_of: datetime,
    internal_targets: InternalTargets | None = None,
    *,
    book: SlaBook | None = None,
) -> SlaVerdict:
    """Verdict on ``complaint``'s handling time as of ``as_of`` (events after ``as_of`` are ignored)."""
    if as_of.tzinfo is None or complaint.received_at.tzinfo is None:
        raise ValueError("as_of and complaint.received_at must be timezone-aware")
    book = book or default_sla_book()
    prof = resolve_profile(profile, complaint, book)
    targets = internal_targets or InternalTargets()
    if prof.kind == "cfpb":
        return _evaluate_cfpb(prof, book, complaint, events, as_of)
    return _evaluate_decision(
        prof=prof,
        book=book,
        complaint=complaint,
        events=events,
        calendar=calendar,
        as_of=as_of,
        targets=targets,
    )


def _status(reasons: Sequence[str], book: SlaBook) -> Status:
    if any(r in book.breach_codes for r in reasons):
        return "breach"
    if any(r in book.late_codes for r in reasons):
        return "late"
    return "on_time"


def _ordered(*groups: Sequence[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(code for group in groups for code in group))


def _happened(event: Event, as_of: datetime, zone: ZoneInfo) -> bool:
    if isinstance(event, ExternalAppraisal):
        notified = event.complainant_notified_at
        return (notified is not None and notified <= as_of) or event.start <= local_day(as_of, zone)
    return event.at <= as_of


def _missing_contents(required: Sequence[str], contents: Sequence[str]) -> tuple[str, ...]:
    return tuple(
        item for item in required if not any(c == item or c.startswith(item + ":") for c in contents)
    )


def _restarts(event: Event) -> bool:
    return isinstance(event, NewFacts) or (isinstance(event, Resubmission) and event.new_facts)


def needs_regulator_feedback(prof: SlaProfile, complaint: Complaint) -> bool:
    """Forwarded complaints report their result back to the forwarding regulator."""
    if prof.regulator_feedback == "always":
        return True
    if prof.regulator_feedback != "when_forwarded":
        return False
    return bool((complaint.forwarded_by or "").strip()) or complaint.channel == "regulator_transfer"


def _excluded_days(
    prof: SlaProfile, seen: Sequence[Event], as_of: datetime, info: list[str]
) -> frozenset[date]:
    """External-appraisal days not counted (only with notice to the complainant by the period's last day)."""
    zone = prof.zone
    excluded: set[date] = set()
    for ev in seen:
        if not isinstance(ev, ExternalAppraisal):
            continue
        if ev.end < ev.start:
            raise ValueError(f"external appraisal ends ({ev.end}) before it starts ({ev.start})")
        if not prof.exclusions_allowed:
            info.append("EXCLUSION_NOT_APPLICABLE")
            continue
        notified = ev.complainant_notified_at
        if notified is not None and notified <= as_of and local_day(notified, zone) <= ev.end:
            excluded.update(ev.start + i * ONE_DAY for i in range((ev.end - ev.start).days + 1))
        else:
            info.append("EXCLUSION_NOT_NOTIFIED")
    return frozenset(excluded)


def _extension_failures(
    ev: Extension,
    rule: ExtensionRule,
    in_force: date,
    *,
    prof: SlaProfile,
    book: SlaBook,
    as_of: datetime,
) -> list[str]:
    zone = prof.zone
    failures = []
    if local_day(ev.at, zone) > in_force:
        failures.append("EXTENSION_AFTER_DEADLINE")
    approver = ev.approved_by
    if "approved_by" in rule.requires and not (approver is not None and approver.present()):
        failures.append("EXTENSION_NOT_APPROVED")
    if "senior_approval" in rule.requires and not (
        approver is not None and book.is_senior(approver.role, approver.name)
    ):
        failures.append("EXTENSION_NOT_APPROVED")
    notified = ev.complainant_notified_at
    if "complainant_notified" in rule.requires and (
        notified is None or notified > as_of or local_day(notified, zone) > in_force
    ):
        failures.append("EXTENSION_NOT_NOTIFIED")
    if "reason" in rule.requires and not (ev.reason or "").strip():
        failures.append("EXTENSION_NO_REASON")
    return list(dict.fromkeys(failures))


def _limit_breach(days: int, prof: SlaProfile) -> str:
    """The code of the limit in force that was run past: 15 days, extended 30, or the 60-day ceiling."""
    if days >= prof.max_days:
        return "SLA_BREACH_60D_MAX"
    return "SLA_BREACH_30D" if days > prof.base_days else "SLA_BREACH_15D"


def _extension_rule(ev: Extension, prof: SlaProfile, book: SlaBook) -> ExtensionRule | str:
    """The rule for ``ev`` under ``prof``, or the reason code voiding it; unknown kinds are an input error."""
    if ev.kind is not None and book.extension_kinds and ev.kind not in book.extension_kinds:
        raise ValueError(
            f"unknown extension kind {ev.kind!r} (known: {', '.join(sorted(book.extension_kinds))})"
        )
    rule = prof.extension_rule(ev.kind)
    if rule is not None:
        return rule
    return "EXTENSION_KIND_MISSING" if ev.kind is None else "EXTENSION_KIND_NOT_APPLICABLE"


def _evaluate_decision(
    *,
    prof: SlaProfile,
    book: SlaBook,
    complaint: Complaint,
    events: Sequence[Event],
    calendar: HolidayCalendar,
    as_of: datetime,
    targets: InternalTargets,
) -> SlaVerdict:
    zone = prof.zone
    seen = [e for e in events if _happened(e, as_of, zone)]
    info: list[str] = []
    void: list[str] = []
    skip = _excluded_days(prof, seen, as_of, info)

    # New facts restart the clock from the last of them (a decision before it no longer answers the case);
    # a resubmission without new facts is a duplicate merged into the complaint, the clock unchanged.
    start_at, restarted = complaint.received_at, False
    restarts = sorted(e.at for e in seen if isinstance(e, NewFacts | Resubmission) and _restarts(e))
    for at in restarts:
        if prof.new_facts_restart:
            start_at, restarted = max(start_at, at), True
        else:
            info.append("NEW_FACTS_NOT_APPLICABLE")
    if any(isinstance(e, Resubmission) and not e.new_facts for e in seen):
        info.append("DUPLICATE_MERGED")
    start_day = local_day(start_at, zone)
    decisions = sorted(
        (e for e in seen if isinstance(e, DecisionNotified) and e.at >= start_at), key=lambda e: e.at
    )
    decision = decisions[0] if decisions else None
    cutoff = decision.at if decision else as_of

    # Extensions after the (re)start and up to the decision, in time order.
    days = prof.base_days
    extensions = sorted(
        (e for e in seen if isinstance(e, Extension) and start_at <= e.at <= cutoff), key=lambda e: e.at
    )
    for ev in extensions:
        rule = _extension_rule(ev, prof, book)
        if isinstance(rule, str):
            void.append(rule)
            continue
        in_force, _ = deadline_day(start_day, days, skip, calendar, prof.holiday_roll)
        failures = _extension_failures(ev, rule, in_force, prof=prof, book=book, as_of=as_of)
        if failures:
            void.extend(failures)
            continue
        target = rule.extend_to_days
        if rule.caller_may_set_days and ev.extend_to_days is not None:
            target = ev.extend_to_days
        if target > prof.max_days:
            info.append("EXTENSION_CAPPED")
            target = prof.max_days
        days = max(days, target)

    last_day, provisional = deadline_day(start_day, days, skip, calendar, prof.holiday_roll)
    unexcluded_day, _ = deadline_day(start_day, days, frozenset(), calendar, prof.holiday_roll)
    excluded_in_window = sum(1 for d in skip if start_day < d <= last_day)
    if provisional:
        info.append("HOLIDAY_CALENDAR_PROVISIONAL")

    breach: list[str] = []
    met: list[str] = []
    notice_missing: tuple[str, ...] = ()
    escalation = None
    if decision is not None:
        if local_day(decision.at, zone) <= last_day:
            if days >= prof.max_days:
                met.append("SLA_MET_EXTENDED_60D")
            elif days > prof.base_days:
                met.append("SLA_MET_EXTENDED_30D")
            if last_day != unexcluded_day:
                met.append("SLA_MET_EXCLUDED_PERIOD")
            if restarted:
                met.append("SLA_MET_CLOCK_RESTARTED")
            met = met or ["SLA_MET"]
        else:
            breach.append(_limit_breach(days, prof))
        notice_missing = _missing_contents(prof.notice_required_contents, decision.notice_contents)
        if notice_missing:
            breach.append(notice_reason(notice_missing))
        if needs_regulator_feedback(prof, complaint):
            feedback = min(
                (e.at for e in seen if isinstance(e, FeedbackToRegulator) and e.at >= start_at), default=None
            )
            # An absent event means "not known" (SCENARIO_FORMAT.md): only a recorded late report breaches.
            if feedback is not None and local_day(feedback, zone) > last_day:
                breach.append("REGULATOR_FEEDBACK_LATE")
            elif feedback is None and local_day(as_of, zone) > last_day:
                info.append("REGULATOR_FEEDBACK_NOT_RECORDED")
            elif feedback is None:
                info.append("REGULATOR_FEEDBACK_PENDING")
    else:
        escalation = escalation_level(start_day + ONE_DAY, last_day, zone, as_of, book.escalation)
        if local_day(as_of, zone) > last_day:
            breach.append("SLA_OPEN_BREACHED")
            breach.append(_limit_breach(days, prof))  # which limit the open complaint has run past
        else:
            met.append("SLA_OPEN_ON_TIME")

    internal: list[str] = []
    if prof.ack_target_applies:
        ack_by = complaint.received_at + timedelta(hours=targets.ack_within_hours)
        acks = [e.at for e in seen if isinstance(e, Acknowledged | DecisionNotified)]
        first_ack = min(acks) if acks else None
        if (first_ack is None and as_of > ack_by) or (first_ack is not None and first_ack > ack_by):
            internal.append("ACK_LATE_INTERNAL")

    reasons = _ordered(void, breach, internal, met, info)
    return SlaVerdict(
        status=_status(reasons, book),
        reason=reasons[0],
        reasons=reasons,
        regulatory_deadline=end_of_day_at(last_day, zone),
        responded_at=decision.at if decision else None,
        timely_response=None,
        days_allowed=days,
        escalation=escalation,
        profile=prof.name,
        profile_version=prof.version,
        clock_started_on=start_day,
        excluded_days=excluded_in_window,
        notice_missing=notice_missing,
        calendar_provisional=provisional,
    )


def _evaluate_cfpb(
    prof: SlaProfile, book: SlaBook, complaint: Complaint, events: Sequence[Event], as_of: datetime
) -> SlaVerdict:
    zone = prof.zone
    info: list[str] = []
    sent = complaint.date_sent_to_company
    if sent is None:
        sent = local_day(complaint.received_at, zone)
        info.append("CFPB_SENT_DATE_ASSUMED")
    due = sent + prof.base_days * ONE_DAY
    final_due = sent + (prof.final_days or prof.max_days) * ONE_DAY
    today = local_day(as_of, zone)
    responses = sorted(
        (e for e in events if isinstance(e, CompanyResponse | CompanyFinalResponse) and e.at <= as_of),
        key=lambda e: e.at,
    )
    first = responses[0] if responses else None
    final = next(
        (
            r
            for r in responses
            if isinstance(r, CompanyFinalResponse)
            or (r.company_response_to_consumer or "") not in prof.interim_responses
        ),
        None,
    )

    breach: list[str] = []
    met: list[str] = []
    if first is not None:
        timely: str | None = "Yes" if local_day(first.at, zone) <= due else "No"
    else:
        timely = "No" if today > due else None
    if timely == "Yes":
        met.append("CFPB_TIMELY")
    elif timely == "No":
        breach.append("CFPB_UNTIMELY_15D")
    if final is not None:
        if local_day(final.at, zone) <= final_due:
            met.append("CFPB_FINAL_WITHIN_60D")
        else:
            breach.append("CFPB_FINAL_OVER_60D")
    elif today > final_due:
        breach.append("CFPB_FINAL_OVER_60D")

    escalation = None
    if final is None:
        window_end = due if first is None else final_due
        escalation = escalation_level(sent + ONE_DAY, window_end, zone, as_of, book.escalation)
        if today > window_end:
            breach.append("SLA_OPEN_BREACHED")
        else:
            met.append("SLA_OPEN_ON_TIME")

    reasons = _ordered(breach, met, info)
    return SlaVerdict(
        status=_status(reasons, book),
        reason=reasons[0],
        reasons=reasons,
        regulatory_deadline=end_of_day_at(due, zone),
        responded_at=first.at if first else None,
        timely_response=timely,
        days_allowed=prof.base_days,
        escalation=escalation,
        profile=prof.name,
        profile_version=prof.version,
        clock_started_on=sent,
        final_deadline=end_of_day_at(final_due, zone),
    )
