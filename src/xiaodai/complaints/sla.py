"""Complaint-handling time limits (pure: no clock, no I/O beyond packaged data, no environment).

``evaluate_sla(profile, complaint, events, calendar, as_of, internal_targets) -> SlaVerdict``.

Profiles are versioned data (``data/sla_profiles.json``); every verdict carries the profile version used.

CN (《银行业保险业消费投诉处理管理办法》, RULES.md §3) and CN_PBOC (PBOC-forwarded):

* the clock starts on the day of receipt, which is not counted (民法典 Art. 201); a ``NewFacts`` event
  restarts it from that event's day (again not counted) and resets the limit to the base 15 days — any
  extension has to be made again for the new facts;
* the decision and its notice are due by the end (23:59:59 local) of the last counted day; external
  appraisal days (``ExternalAppraisal``, inclusive date ranges) are not counted, but only when the
  complainant was told by the period's last day — otherwise the days count (``EXCLUSION_NOT_NOTIFIED``);
* if the last day falls in the holiday calendar, the deadline moves to the day after the holiday run
  (民法典 Art. 203). Only *statutory holidays* roll the deadline: with the default calendar
  (``ChinaStatutoryHolidays``) a plain weekend last day does not move it; a caller-supplied calendar
  (``FixedHolidayCalendar``) is used exactly as given;
* extensions: CN ``complex_to_30d`` (notice to the complainant) and ``special_plus_30d`` (senior approval
  AND notice; 60 days at most); CN_PBOC any extension with a reason, approval by the complaint-handling
  head and notice, 60 at most. An extension made or notified after the deadline then in force is void. A
  void extension leaves the limit where it was and makes the verdict a breach (conventions: "breach =
  regulatory limit exceeded or extension invalid");
* the decision notice must state the verification, basis, reasons and remedies (``NOTICE_INCOMPLETE``).

US_CFPB: the company response is due within 15 calendar days of ``date_sent_to_company`` (day 15
inclusive, no holiday roll); the final (non-"In progress") response within 60 days; ``timely_response`` is
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

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from importlib import resources
from typing import Any, Literal, Protocol, TypeAlias
from zoneinfo import ZoneInfo

from xiaodai.money.calendar import CalendarSource, china_business_day

Status: TypeAlias = Literal["on_time", "late", "breach"]

_DAY = timedelta(days=1)
_END_OF_DAY = time(23, 59, 59)
_MAX_HOLIDAY_RUN = 366  # a supplied calendar longer than this would be a data error


class SlaProfileError(ValueError):
    """A profile is unknown or its data is malformed."""


# --------------------------------------------------------------------------------------------------
# Inputs
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Complaint:
    id: str
    received_at: datetime  # aware
    channel: str | None = None
    category: str | None = None
    forwarded_by: str | None = None  # "PBOC", "CFPB", … or None
    date_sent_to_company: date | None = None  # CFPB clock start
    product: str | None = None
    sub_product: str | None = None
    issue: str | None = None


@dataclass(frozen=True, slots=True)
class Acknowledged:
    at: datetime


@dataclass(frozen=True, slots=True)
class DecisionNotified:
    at: datetime
    notice_contents: tuple[str, ...] = ()  # e.g. "verification_summary", "remedies:核查/调解/仲裁/诉讼"


@dataclass(frozen=True, slots=True)
class Extension:
    at: datetime
    kind: str | None = None  # CN: "complex_to_30d" | "special_plus_30d"; PBOC: any
    approved_by: str | None = None
    complainant_notified_at: datetime | None = None
    reason: str | None = None
    extend_to_days: int | None = None  # PBOC: total days asked for (default: the 60-day ceiling)


@dataclass(frozen=True, slots=True)
class ExternalAppraisal:
    start: date  # inclusive
    end: date  # inclusive
    complainant_notified_at: datetime | None = None
    provider: str | None = None


@dataclass(frozen=True, slots=True)
class NewFacts:
    at: datetime


@dataclass(frozen=True, slots=True)
class CompanyResponse:
    at: datetime
    company_response_to_consumer: str | None = None  # "In progress" is interim; anything else is final


Event: TypeAlias = (
    Acknowledged | DecisionNotified | Extension | ExternalAppraisal | NewFacts | CompanyResponse
)


@dataclass(frozen=True, slots=True)
class InternalTargets:
    """House targets (policy, not law)."""

    ack_within_hours: float = 24


class HolidayCalendar(Protocol):
    def is_holiday(self, day: date) -> bool:
        """True if ``day`` is a statutory holiday (法定节假日) for the Art. 203 roll."""
        ...

    def is_provisional(self, day: date) -> bool:
        """True if the answer for ``day`` comes from a fallback rather than published data."""
        ...


@dataclass(frozen=True, slots=True)
class FixedHolidayCalendar:
    """Exactly the holidays given (e.g. a scenario's ``holiday_calendar``); nothing else rolls."""

    days: frozenset[date]

    def is_holiday(self, day: date) -> bool:
        return day in self.days

    def is_provisional(self, day: date) -> bool:
        return False


@dataclass(frozen=True, slots=True)
class ChinaStatutoryHolidays:
    """Statutory holidays from the official calendar (``xiaodai.money.calendar.china_business_day``).

    A day is a holiday if it is an official non-working weekday, or a non-working weekend day inside a run
    of non-working days that contains such a weekday (e.g. Sat 3 Oct inside 1-7 Oct). A plain weekend is
    not a holiday: the Art. 203 roll is about 节假日. Years the State Council has not published yet fall back
    to weekends only — no holidays at all — and are flagged provisional.
    """

    max_scan: int = 10

    def is_holiday(self, day: date) -> bool:
        if china_business_day(day).is_business_day:
            return False
        if day.weekday() < 5:
            return True
        return any(d.weekday() < 5 for d in self._run(day, -1)) or any(
            d.weekday() < 5 for d in self._run(day, 1)
        )

    def _run(self, day: date, step: int) -> Iterator[date]:
        for i in range(1, self.max_scan + 1):
            other = day + step * i * _DAY
            if china_business_day(other).is_business_day:
                return
            yield other

    def is_provisional(self, day: date) -> bool:
        return china_business_day(day).source is CalendarSource.WEEKEND_FALLBACK


# --------------------------------------------------------------------------------------------------
# Profiles (packaged, versioned data)
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ExtensionRule:
    extend_to_days: int
    requires: frozenset[str]  # "approved_by" | "reason" | "complainant_notified"
    caller_may_set_days: bool


@dataclass(frozen=True, slots=True)
class SlaProfile:
    name: str
    version: str
    kind: str  # "decision" | "cfpb"
    zone: ZoneInfo
    base_days: int
    max_days: int
    final_days: int | None
    holiday_roll: bool
    exclusions_allowed: bool
    new_facts_restart: bool
    ack_target_applies: bool
    notice_required_contents: tuple[str, ...]
    interim_responses: frozenset[str]
    extensions: Mapping[str, ExtensionRule]
    default_extension: ExtensionRule | None

    def extension_rule(self, kind: str | None) -> ExtensionRule | None:
        if kind is not None and kind in self.extensions:
            return self.extensions[kind]
        return self.default_extension


@dataclass(frozen=True, slots=True)
class RoutingRule:
    field: str  # "forwarded_by" | "channel"
    equals: str
    profile: str
    from_profiles: frozenset[str] | None  # None: whatever profile was asked for


@dataclass(frozen=True, slots=True)
class SlaBook:
    profiles: Mapping[str, SlaProfile]
    routing: tuple[RoutingRule, ...]
    escalation: tuple[tuple[str, float], ...]  # ascending fraction
    reason_codes: Mapping[str, str]
    breach_codes: frozenset[str]
    late_codes: frozenset[str]

    def route(self, requested: str | None, forwarded_by: str | None, channel: str | None) -> str | None:
        values = {"forwarded_by": forwarded_by, "channel": channel}
        for rule in self.routing:
            value = values.get(rule.field)
            if value is None or value.casefold() != rule.equals.casefold():
                continue
            if rule.from_profiles is None or requested in rule.from_profiles:
                return rule.profile
        return None


def _extension_rule(raw: Mapping[str, Any]) -> ExtensionRule:
    return ExtensionRule(
        int(raw["extend_to_days"]), frozenset(raw.get("requires", [])), bool(raw.get("caller_may_set_days"))
    )


def parse_sla_book(data: Mapping[str, Any]) -> SlaBook:
    try:
        profiles = {
            name: SlaProfile(
                name=name,
                version=str(raw["version"]),
                kind=str(raw["kind"]),
                zone=ZoneInfo(raw["timezone"]),
                base_days=int(raw["base_days"]),
                max_days=int(raw["max_days"]),
                final_days=int(raw["final_days"]) if raw.get("final_days") is not None else None,
                holiday_roll=bool(raw["holiday_roll"]),
                exclusions_allowed=bool(raw["exclusions_allowed"]),
                new_facts_restart=bool(raw["new_facts_restart"]),
                ack_target_applies=bool(raw["ack_target_applies"]),
                notice_required_contents=tuple(raw.get("notice_required_contents", [])),
                interim_responses=frozenset(raw.get("interim_responses", [])),
                extensions={k: _extension_rule(v) for k, v in raw.get("extensions", {}).items()},
                default_extension=(
                    _extension_rule(raw["default_extension"]) if raw.get("default_extension") else None
                ),
            )
            for name, raw in data["profiles"].items()
        }
        routing = tuple(
            RoutingRule(
                str(r["field"]),
                str(r["equals"]),
                str(r["profile"]),
                frozenset(r["from_profiles"]) if r.get("from_profiles") is not None else None,
            )
            for r in data.get("routing", [])
        )
        escalation = tuple(
            sorted(((str(t["level"]), float(t["fraction"])) for t in data["escalation_thresholds"]), key=_snd)
        )
        order = data["reason_order"]
        book = SlaBook(
            profiles,
            routing,
            escalation,
            dict(data["reason_codes"]),
            frozenset(order["breach"]),
            frozenset(order["late"]),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise SlaProfileError(f"malformed SLA profile data: {exc!r}") from exc
    unknown = [r.profile for r in routing if r.profile not in profiles]
    if unknown:
        raise SlaProfileError(f"routing names unknown profiles: {unknown}")
    return book


def _snd(pair: tuple[str, float]) -> float:
    return pair[1]


@cache
def default_sla_book() -> SlaBook:
    """The profiles shipped with xiaodai (package data: configuration, not environment)."""
    text = resources.files("xiaodai.complaints").joinpath("data/sla_profiles.json").read_text("utf-8")
    return parse_sla_book(json.loads(text))


def resolve_profile(requested: str, complaint: Complaint, book: SlaBook | None = None) -> SlaProfile:
    """The profile whose rules apply: routing (CFPB/PBOC forwarding) first, then the name asked for."""
    book = book or default_sla_book()
    name = book.route(requested, complaint.forwarded_by, complaint.channel) or requested
    if name not in book.profiles:
        raise SlaProfileError(f"unknown SLA profile {requested!r} (known: {sorted(book.profiles)})")
    return book.profiles[name]


# --------------------------------------------------------------------------------------------------
# Verdict
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SlaVerdict:
    status: Status
    reason: str
    reasons: tuple[str, ...]
    regulatory_deadline: datetime  # aware, 23:59:59 local on the last day
    responded_at: datetime | None  # decision notice / first company response; None while open
    timely_response: str | None  # CFPB "Yes"/"No"; None otherwise or not yet known
    days_allowed: int
    escalation: str | None  # open complaints: None | "70%" | "90%" | "breached"
    profile: str
    profile_version: str
    clock_started_on: date  # the (not counted) start day; CFPB: date_sent_to_company
    excluded_days: int = 0  # excluded appraisal days inside the counted window
    final_deadline: datetime | None = None  # CFPB 60-day final response
    notice_missing: tuple[str, ...] = ()
    calendar_provisional: bool = False


def verdict_to_json(v: SlaVerdict) -> dict[str, Any]:
    return {
        "sla_status": v.status,
        "reason": v.reason,
        "reasons": list(v.reasons),
        "regulatory_deadline": v.regulatory_deadline.isoformat(),
        "timely_response": v.timely_response,
        "escalation": v.escalation,
        "responded_at": v.responded_at.isoformat() if v.responded_at else None,
        "days_allowed": v.days_allowed,
        "final_deadline": v.final_deadline.isoformat() if v.final_deadline else None,
        "notice_missing": list(v.notice_missing),
        "calendar_provisional": v.calendar_provisional,
        "profile": v.profile,
        "profile_version": v.profile_version,
    }


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


def deadline_day(
    start: date,
    days: int,
    excluded: frozenset[date],
    calendar: HolidayCalendar,
    holiday_roll: bool = True,
) -> tuple[date, bool]:
    """Last day of a ``days``-day period from ``start`` (not counted), skipping ``excluded`` days, rolled
    past a holiday run; with whether any day inspected for the roll was provisional."""
    day, counted = start, 0
    while counted < days:
        day += _DAY
        if day not in excluded:
            counted += 1
    if not holiday_roll:
        return day, False
    provisional = calendar.is_provisional(day)
    for _ in range(_MAX_HOLIDAY_RUN):
        if not calendar.is_holiday(day):
            return day, provisional
        day += _DAY
        provisional = provisional or calendar.is_provisional(day)
    raise ValueError(f"holiday run longer than {_MAX_HOLIDAY_RUN} days after {start}")


def _local(t: datetime, zone: ZoneInfo) -> date:
    return t.astimezone(zone).date()


def _end_of(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, _END_OF_DAY, tzinfo=zone)


def _escalation(
    first_day: date, last_day: date, zone: ZoneInfo, as_of: datetime, thresholds: Sequence[tuple[str, float]]
) -> str | None:
    """Share of [00:00 of ``first_day``, 24:00 of ``last_day``) elapsed at ``as_of`` (real time, in UTC)."""
    start = datetime.combine(first_day, time(0), tzinfo=zone).astimezone(UTC)
    end = datetime.combine(last_day + _DAY, time(0), tzinfo=zone).astimezone(UTC)
    now = as_of.astimezone(UTC)
    if now >= end:
        return "breached"
    fraction = (now - start) / (end - start)
    level = None
    for name, threshold in thresholds:
        if fraction >= threshold:
            level = name
    return level


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
        return (notified is not None and notified <= as_of) or event.start <= _local(as_of, zone)
    return event.at <= as_of


def _missing_contents(required: Sequence[str], contents: Sequence[str]) -> tuple[str, ...]:
    return tuple(
        item for item in required if not any(c == item or c.startswith(item + ":") for c in contents)
    )


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
    decisions = sorted((e for e in seen if isinstance(e, DecisionNotified)), key=lambda e: e.at)
    decision = decisions[0] if decisions else None
    cutoff = decision.at if decision else as_of
    info: list[str] = []
    void: list[str] = []

    # Excluded external-appraisal days (only with notice to the complainant by the period's last day).
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
        if notified is not None and notified <= as_of and _local(notified, zone) <= ev.end:
            excluded.update(ev.start + i * _DAY for i in range((ev.end - ev.start).days + 1))
        else:
            info.append("EXCLUSION_NOT_NOTIFIED")
    skip = frozenset(excluded)

    # Restarts and extensions, in time order, up to the decision.
    start_day = _local(complaint.received_at, zone)
    days = prof.base_days
    restarted = False
    timeline = sorted(
        (e for e in seen if isinstance(e, NewFacts | Extension) and e.at <= cutoff), key=lambda e: e.at
    )
    for ev in timeline:
        if isinstance(ev, NewFacts):
            if prof.new_facts_restart:
                start_day, days, restarted = _local(ev.at, zone), prof.base_days, True
            else:
                info.append("NEW_FACTS_NOT_APPLICABLE")
            continue
        rule = prof.extension_rule(ev.kind)
        if rule is None:
            void.append("EXTENSION_UNKNOWN_KIND")
            continue
        in_force, _ = deadline_day(start_day, days, skip, calendar, prof.holiday_roll)
        failures = []
        if _local(ev.at, zone) > in_force:
            failures.append("EXTENSION_AFTER_DEADLINE")
        if "approved_by" in rule.requires and not (ev.approved_by or "").strip():
            failures.append("EXTENSION_NOT_APPROVED")
        notified = ev.complainant_notified_at
        if "complainant_notified" in rule.requires and (
            notified is None or notified > as_of or _local(notified, zone) > in_force
        ):
            failures.append("EXTENSION_NOT_NOTIFIED")
        if "reason" in rule.requires and not (ev.reason or "").strip():
            failures.append("EXTENSION_NO_REASON")
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
        if _local(decision.at, zone) <= last_day:
            if days >= prof.max_days:
                met.append("SLA_MET_EXTENDED_60D")
            elif days > prof.base_days:
                met.append("SLA_MET_EXTENDED_30D")
            if last_day != unexcluded_day:
                met.append("SLA_MET_EXCLUDED_PERIOD")
            if restarted:
                met.append("SLA_MET_CLOCK_RESTARTED")
            met = met or ["SLA_MET"]
        elif days >= prof.max_days:
            breach.append("SLA_BREACH_60D_MAX")
        elif days > prof.base_days:
            breach.append("SLA_BREACH_30D")
        else:
            breach.append("SLA_BREACH_15D")
        notice_missing = _missing_contents(prof.notice_required_contents, decision.notice_contents)
        if notice_missing:
            breach.append("NOTICE_INCOMPLETE")
    else:
        escalation = _escalation(start_day + _DAY, last_day, zone, as_of, book.escalation)
        if _local(as_of, zone) > last_day:
            breach.append("SLA_OPEN_BREACHED")
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
        regulatory_deadline=_end_of(last_day, zone),
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
        sent = _local(complaint.received_at, zone)
        info.append("CFPB_SENT_DATE_ASSUMED")
    due = sent + prof.base_days * _DAY
    final_due = sent + (prof.final_days or prof.max_days) * _DAY
    today = _local(as_of, zone)
    responses = sorted(
        (e for e in events if isinstance(e, CompanyResponse) and e.at <= as_of), key=lambda e: e.at
    )
    first = responses[0] if responses else None
    final = next(
        (r for r in responses if (r.company_response_to_consumer or "") not in prof.interim_responses), None
    )

    breach: list[str] = []
    met: list[str] = []
    if first is not None:
        timely: str | None = "Yes" if _local(first.at, zone) <= due else "No"
    else:
        timely = "No" if today > due else None
    if timely == "Yes":
        met.append("CFPB_TIMELY")
    elif timely == "No":
        breach.append("CFPB_UNTIMELY_15D")
    if final is not None:
        if _local(final.at, zone) <= final_due:
            met.append("CFPB_FINAL_WITHIN_60D")
        else:
            breach.append("CFPB_FINAL_OVER_60D")
    elif today > final_due:
        breach.append("CFPB_FINAL_OVER_60D")

    escalation = None
    if final is None:
        window_end = due if first is None else final_due
        escalation = _escalation(sent + _DAY, window_end, zone, as_of, book.escalation)
        if today > window_end:
            breach.append("SLA_OPEN_BREACHED")
        else:
            met.append("SLA_OPEN_ON_TIME")

    reasons = _ordered(breach, met, info)
    return SlaVerdict(
        status=_status(reasons, book),
        reason=reasons[0],
        reasons=reasons,
        regulatory_deadline=_end_of(due, zone),
        responded_at=first.at if first else None,
        timely_response=timely,
        days_allowed=prof.base_days,
        escalation=escalation,
        profile=prof.name,
        profile_version=prof.version,
        clock_started_on=sent,
        final_deadline=_end_of(final_due, zone),
    )


# --------------------------------------------------------------------------------------------------
# Conformance ``given`` blocks
# --------------------------------------------------------------------------------------------------


def _instant(value: Any, zone: ZoneInfo) -> datetime:
    text = str(value)
    if len(text) == 10:  # a bare date: local midnight
        return datetime.combine(date.fromisoformat(text), time(0), tzinfo=zone)
    parsed = datetime.fromisoformat(text)
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=zone)


def _opt_instant(value: Any, zone: ZoneInfo) -> datetime | None:
    return None if value is None else _instant(value, zone)


def _opt_str(value: Any) -> str | None:
    return None if value is None else str(value)


def parse_event(raw: Mapping[str, Any], zone: ZoneInfo) -> Event:
    """One event of a conformance ``events`` list; bare dates/times are read in ``zone``."""
    kind = raw.get("type")
    if kind == "acknowledged":
        return Acknowledged(_instant(raw["at"], zone))
    if kind == "decision_notified":
        return DecisionNotified(
            _instant(raw["at"], zone), tuple(str(c) for c in raw.get("notice_contents", []))
        )
    if kind == "extension":
        days = raw.get("extend_to_days")
        return Extension(
            at=_instant(raw["at"], zone),
            kind=_opt_str(raw.get("kind")),
            approved_by=_opt_str(raw.get("approved_by")),
            complainant_notified_at=_opt_instant(raw.get("complainant_notified_at"), zone),
            reason=_opt_str(raw.get("reason")),
            extend_to_days=int(days) if days is not None else None,
        )
    if kind == "external_appraisal":
        return ExternalAppraisal(
            start=date.fromisoformat(str(raw["start"])),
            end=date.fromisoformat(str(raw["end"])),
            complainant_notified_at=_opt_instant(raw.get("complainant_notified_at"), zone),
            provider=_opt_str(raw.get("provider")),
        )
    if kind == "new_facts":
        return NewFacts(_instant(raw["at"], zone))
    if kind == "company_response":
        return CompanyResponse(_instant(raw["at"], zone), _opt_str(raw.get("company_response_to_consumer")))
    raise ValueError(f"unknown complaint event type {kind!r}")


def scenario_to_inputs(
    given: Mapping[str, Any], *, profile: str | None = None, book: SlaBook | None = None
) -> tuple[Complaint, list[Event], HolidayCalendar, InternalTargets | None]:
    """Parse a conformance ``given`` block (complaint, events, holiday_calendar, internal_targets).

    Bare dates and offset-less times are read in the time zone of the profile the complaint routes to
    (CFPB-forwarded: US_CFPB's; otherwise CN's). A ``holiday_calendar`` key — even an empty list — is used
    exactly; without one the official China statutory-holiday calendar applies.
    """
    book = book or default_sla_book()
    raw = given["complaint"]
    forwarded_by, channel = _opt_str(raw.get("forwarded_by")), _opt_str(raw.get("channel"))
    routed = book.route(profile, forwarded_by, channel) or profile or "CN"
    zone = book.profiles[routed].zone if routed in book.profiles else book.profiles["CN"].zone
    sent = raw.get("date_sent_to_company")
    complaint = Complaint(
        id=str(raw["id"]),
        received_at=_instant(raw["received_at"], zone),
        channel=channel,
        category=_opt_str(raw.get("category")),
        forwarded_by=forwarded_by,
        date_sent_to_company=date.fromisoformat(str(sent)) if sent is not None else None,
        product=_opt_str(raw.get("product")),
        sub_product=_opt_str(raw.get("sub_product")),
        issue=_opt_str(raw.get("issue")),
    )
    events = [parse_event(e, zone) for e in given.get("events", [])]
    calendar: HolidayCalendar
    if "holiday_calendar" in given:
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
