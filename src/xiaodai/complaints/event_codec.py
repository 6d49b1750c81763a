"""The complaint events as the product stores them (``complaint_events.event_json``): typed events to JSON and
back (pure). The stored shape is the domain's own — ``{"type": <name>, <field>: <value>, …}`` with ISO-8601
instants and dates — and extra keys a shell adds (e.g. ``merged_complaint``) are ignored on reading. Events
that are not part of the clock (notes, escalations) are not events here: ``CLOCK_EVENT_TYPES`` says which
stored types the clock reads.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields
from datetime import date, datetime
from typing import Any

from xiaodai.complaints.sla_inputs import (
    Acknowledged,
    Approver,
    CompanyFinalResponse,
    CompanyResponse,
    DecisionNotified,
    Event,
    Extension,
    ExternalAppraisal,
    FeedbackToRegulator,
    NewFacts,
    Resubmission,
    ReviewDecisionNotified,
    ReviewRequested,
)

__all__ = ["CLOCK_EVENT_TYPES", "event_from_json", "event_to_json"]

_TYPES: dict[str, type[Any]] = {
    "acknowledged": Acknowledged,
    "decision_notified": DecisionNotified,
    "extension": Extension,
    "external_appraisal": ExternalAppraisal,
    "new_facts": NewFacts,
    "resubmission": Resubmission,
    "review_requested": ReviewRequested,
    "review_decision_notified": ReviewDecisionNotified,
    "feedback_to_regulator": FeedbackToRegulator,
    "company_response": CompanyResponse,
    "company_final_response": CompanyFinalResponse,
}
_NAMES = {cls: name for name, cls in _TYPES.items()}
CLOCK_EVENT_TYPES = frozenset(_TYPES)
_DATES = frozenset({"start", "end"})
_TUPLES = frozenset({"notice_contents", "fields"})


def _encode(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Approver):
        return {"name": value.name, "role": value.role}
    if isinstance(value, tuple):
        return list(value)
    return value


def event_to_json(event: Event) -> dict[str, Any]:
    out: dict[str, Any] = {"type": _NAMES[type(event)]}
    for f in fields(event):
        out[f.name] = _encode(getattr(event, f.name))
    return out


def _decode(name: str, value: Any) -> Any:
    if value is None:
        return None
    if name == "at" or name.endswith("_at"):
        parsed = datetime.fromisoformat(str(value))
        if parsed.tzinfo is None:
            raise ValueError(f"stored event time {name}={value!r} has no UTC offset")
        return parsed
    if name in _DATES:
        return date.fromisoformat(str(value))
    if name == "approved_by":
        if isinstance(value, Mapping):
            return Approver(value.get("name"), value.get("role"))
        return Approver(name=str(value))
    if name in _TUPLES:
        return tuple(str(v) for v in value)
    return value


def event_from_json(raw: Mapping[str, Any]) -> Event:
    """A stored clock event; an unknown ``type`` raises ``ValueError`` naming it."""
    cls = _TYPES.get(str(raw.get("type")))
    if cls is None:
        raise ValueError(f"unknown complaint event type {raw.get('type')!r}")
    kwargs = {f.name: _decode(f.name, raw[f.name]) for f in fields(cls) if f.name in raw}
    event: Event = cls(**kwargs)
    return event
