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
class Approver:
    """Who approved an extension: a name and the role that makes the approval count."""

    name: str | None = None
    role: str | None = None

    def present(self) -> bool:
        return bool((self.name or "").strip() or (self.role or "").strip())


@dataclass(frozen=True, slots=True)
class Extension:
    at: datetime
    kind: str | None = None  # CN: "complex_to_30d" | "special_plus_30d"; PBOC: "pboc_complex" (or any)
    approved_by: Approver | None = None
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
    """The complainant brought new facts (same as ``Resubmission(new_facts=True)``)."""

    at: datetime


@dataclass(frozen=True, slots=True)
class Resubmission:
    """The complainant wrote again: new facts restart the clock from here; without, a duplicate merged."""

    at: datetime
    new_facts: bool
    summary: str | None = None


@dataclass(frozen=True, slots=True)
class ReviewRequested:
    """The complainant asked for a review (核查) of the decision."""

    at: datetime


@dataclass(frozen=True, slots=True)
class ReviewDecisionNotified:
    at: datetime


@dataclass(frozen=True, slots=True)
class FeedbackToRegulator:
    """The handling result reported back to the regulator that forwarded the complaint."""

    at: datetime
    level: str | None = None
    fields: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class CompanyResponse:
    at: datetime
    company_response_to_consumer: str | None = None  # "In progress" is interim; anything else is final


@dataclass(frozen=True, slots=True)
class CompanyFinalResponse:
    """CFPB: the company's final response (whatever its wording)."""

    at: datetime
    company_response_to_consumer: str | None = None


Event: TypeAlias = (
    Acknowledged
    | DecisionNotified
    | Extension
    | ExternalAppraisal
    | NewFacts
    | Resubmission
    | ReviewRequested
    | ReviewDecisionNotified
    | FeedbackToRegulator
    | CompanyResponse
    | CompanyFinalResponse
)


@dataclass(frozen=True, slots=True)
class InternalTargets:
    """House targets (policy, not law)."""

    ack_within_hours: float = 24
