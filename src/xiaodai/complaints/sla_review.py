"""The review (核查) after a decision: may one still be requested, and is it decided in time? (pure)

CN (《银行业保险业消费投诉处理管理办法》; RULES.md §3): a complainant who disagrees with the decision may ask
for a review within 30 days of the decision notice; the review is decided and notified within 30 days of the
request. Both periods are counted like the complaint's own limit (民法典 Arts. 201-203): the start day (the
notice's, the request's) is not counted, the period ends at 24:00 local of its last day, and a holiday last
day moves to the day after the holiday run. The days are profile data (``review_request_days``,
``review_days``); a profile without them (US_CFPB) has no review procedure.

``evaluate_review_eligibility`` answers "may a review still be requested at ``as_of``?" (against the latest
decision notice by then); ``evaluate_review_sla`` is the clock of a review already requested.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal

from xiaodai.complaints.sla_calendar import HolidayCalendar
from xiaodai.complaints.sla_clock import deadline_day, end_of_day_at, local_day
from xiaodai.complaints.sla_inputs import (
    Complaint,
    DecisionNotified,
    Event,
    ReviewDecisionNotified,
    ReviewRequested,
)
from xiaodai.complaints.sla_profiles import SlaBook, SlaProfile, default_sla_book, resolve_profile
from xiaodai.complaints.sla_verdict import Status

__all__ = ["ReviewVerdict", "evaluate_review_eligibility", "evaluate_review_sla", "review_window_last_day"]


@dataclass(frozen=True, slots=True)
class ReviewVerdict:
    status: Status
    reason: str
    regulatory_deadline: datetime | None  # end (23:59:59 local) of the period that decides this verdict
    decision: Literal["allow", "block"] | None = None  # eligibility only
    notice_at: datetime | None = None
    requested_at: datetime | None = None
    decided_at: datetime | None = None
    profile: str = ""
    profile_version: str = ""

    @property
    def reasons(self) -> tuple[str, ...]:
        return (self.reason,)

    def to_json(self) -> dict[str, Any]:
        return {
            "decision": self.decision,
            "sla_status": self.status,
            "reason": self.reason,
            "reasons": list(self.reasons),
            "regulatory_deadline": (
                self.regulatory_deadline.isoformat() if self.regulatory_deadline is not None else None
            ),
            "profile": self.profile,
            "profile_version": self.profile_version,
        }


def review_window_last_day(prof: SlaProfile, notice_at: datetime, calendar: HolidayCalendar) -> date:
    """Last day on which a review of the decision notified at ``notice_at`` may be requested."""
    if prof.review_request_days is None:
        raise ValueError(f"profile {prof.name} has no review procedure")
    last, _ = deadline_day(
        local_day(notice_at, prof.zone), prof.review_request_days, frozenset(), calendar, prof.holiday_roll
    )
    return last


def _latest_notice(events: Sequence[Event], until: datetime) -> DecisionNotified | None:
    notices = [e for e in events if isinstance(e, DecisionNotified) and e.at <= until]
    return max(notices, key=lambda e: e.at) if notices else None


def _verdict(prof: SlaProfile, status: Status, reason: str, last: date | None, **kw: Any) -> ReviewVerdict:
    deadline = end_of_day_at(last, prof.zone) if last is not None else None
    return ReviewVerdict(status, reason, deadline, profile=prof.name, profile_version=prof.version, **kw)


def evaluate_review_eligibility(
    profile: str,
    complaint: Complaint,
    events: Sequence[Event],
    calendar: HolidayCalendar,
    as_of: datetime,
    *,
    book: SlaBook | None = None,
) -> ReviewVerdict:
    """May the complainant still ask for a review at ``as_of``? ``allow`` up to 24:00 of the last day."""
    if as_of.tzinfo is None:
        raise ValueError("as_of must be timezone-aware")
    prof = resolve_profile(profile, complaint, book or default_sla_book())
    if prof.review_request_days is None:
        return _verdict(prof, "on_time", "REVIEW_NOT_APPLICABLE", None, decision="block")
    notice = _latest_notice(events, as_of)
    if notice is None:
        return _verdict(prof, "on_time", "REVIEW_NO_DECISION", None, decision="block")
    last = review_window_last_day(prof, notice.at, calendar)
    if local_day(as_of, prof.zone) <= last:
        return _verdict(
            prof, "on_time", "REVIEW_REQUEST_IN_TIME", last, decision="allow", notice_at=notice.at
        )
    return _verdict(
        prof, "on_time", "REVIEW_REQUEST_OUT_OF_TIME", last, decision="block", notice_at=notice.at
    )


def evaluate_review_sla(
    profile: str,
    complaint: Complaint,
    events: Sequence[Event],
    calendar: HolidayCalendar,
    as_of: datetime,
    *,
    book: SlaBook | None = None,
) -> ReviewVerdict:
    """Status of the review's clock at ``as_of`` (the latest review request by then).

    Raises ``ValueError`` when no review has been requested by ``as_of`` (a missing required fact).
    """
    if as_of.tzinfo is None:
        raise ValueError("as_of must be timezone-aware")
    prof = resolve_profile(profile, complaint, book or default_sla_book())
    if prof.review_request_days is None or prof.review_days is None:
        return _verdict(prof, "on_time", "REVIEW_NOT_APPLICABLE", None)
    requests = [e for e in events if isinstance(e, ReviewRequested) and e.at <= as_of]
    if not requests:
        raise ValueError("evaluate_review_sla needs a review_requested event (none by as_of)")
    request = max(requests, key=lambda e: e.at)
    notice = _latest_notice(events, request.at)
    if notice is None:
        return _verdict(prof, "on_time", "REVIEW_NO_DECISION", None, requested_at=request.at)
    window_last = review_window_last_day(prof, notice.at, calendar)
    if local_day(request.at, prof.zone) > window_last:
        return _verdict(
            prof,
            "on_time",
            "REVIEW_REQUEST_OUT_OF_TIME",
            window_last,
            notice_at=notice.at,
            requested_at=request.at,
        )
    due, _ = deadline_day(
        local_day(request.at, prof.zone), prof.review_days, frozenset(), calendar, prof.holiday_roll
    )
    decided = min(
        (e.at for e in events if isinstance(e, ReviewDecisionNotified) and request.at <= e.at <= as_of),
        default=None,
    )
    common: dict[str, Any] = {"notice_at": notice.at, "requested_at": request.at, "decided_at": decided}
    if decided is not None:
        if local_day(decided, prof.zone) <= due:
            return _verdict(prof, "on_time", "REVIEW_SLA_MET", due, **common)
        return _verdict(prof, "breach", "REVIEW_SLA_BREACH_30D", due, **common)
    if local_day(as_of, prof.zone) > due:
        return _verdict(prof, "breach", "REVIEW_OPEN_BREACHED", due, **common)
    return _verdict(prof, "on_time", "REVIEW_OPEN_ON_TIME", due, **common)
