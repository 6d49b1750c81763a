"""What the SLA clock is given: the complaint, the events of its handling and the internal targets."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import TypeAlias

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
