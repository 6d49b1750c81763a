"""The SLA verdict (status, ordered reason codes, deadlines, escalation) and its JSON form."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal, TypeAlias

Status: TypeAlias = Literal["on_time", "late", "breach"]


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
