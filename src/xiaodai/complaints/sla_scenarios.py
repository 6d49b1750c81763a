"""Conformance ``given`` blocks (complaint, events, holiday calendar, internal targets) as SLA inputs."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from xiaodai.complaints.sla_calendar import ChinaStatutoryHolidays, FixedHolidayCalendar, HolidayCalendar
from xiaodai.complaints.sla_inputs import (
    Acknowledged,
    CompanyResponse,
    Complaint,
    DecisionNotified,
    Event,
    Extension,
    ExternalAppraisal,
    InternalTargets,
    NewFacts,
)
from xiaodai.complaints.sla_profiles import SlaBook, default_sla_book

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
