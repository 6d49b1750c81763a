"""Complaints shell: intake with an immediate acknowledgement and deadline, classification (human override),
duplicates merged, evidence attached, a collection hold for conduct complaints, closing only with a complete
decision notice. The regulatory clock is the pure ``sla.evaluate_sla`` over the stored events. Every change of
state (intake, reclassification, close with its decision, review request, escalation) is an audit event."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from xiaodai.audit.trail import record
from xiaodai.complaints.closing import check_close, missing_notice_parts, root_causes
from xiaodai.complaints.event_codec import CLOCK_EVENT_TYPES, event_from_json, event_to_json
from xiaodai.complaints.evidence import collect_evidence
from xiaodai.complaints.sla import evaluate_sla, verdict_to_json
from xiaodai.complaints.sla_calendar import ChinaStatutoryHolidays
from xiaodai.complaints.sla_inputs import (
    Acknowledged,
    Complaint,
    DecisionNotified,
    Event,
    FeedbackToRegulator,
    InternalTargets,
    Resubmission,
    ReviewDecisionNotified,
    ReviewRequested,
)
from xiaodai.complaints.sla_review import ReviewVerdict, evaluate_review_eligibility, evaluate_review_sla
from xiaodai.db.tables import (
    CollectionCaseRow,
    ComplaintEventRow,
    ComplaintRow,
    LoanRow,
    UserRow,
)

DUPLICATE_WINDOW = timedelta(days=30)
CONDUCT = "collection_conduct"
FEE_DISPUTE = "fees_interest"
FEE_DISPUTE_SUSPENDS_PENALTY = True  # policy: no penalty accrues on a loan while its charges are disputed


class ComplaintError(ValueError):
    status = 400


def _classify(narrative: str) -> dict[str, Any]:
    try:
        from xiaodai.complaints.classify import classify
    except ImportError:  # pragma: no cover - the classifier ships with the package
        return {"category": "other", "sub_issue": None, "confidence": 0.0, "needs_triage": True}
    result = classify(narrative)
    return {**result.to_json(), "needs_triage": result.needs_triage}


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


ACK_TARGET = InternalTargets(ack_within_hours=24)
# The complaint's profile as named by the service; routing (data) sends CFPB- and PBOC-forwarded
# complaints to their own clocks.
PROFILE = "CN"


def _events(session: Session, complaint_id: int, *, clock_only: bool = True) -> list[dict[str, Any]]:
    """The complaint's events; by default only those the regulatory clock reads (not notes, escalations)."""
    rows = session.execute(
        select(ComplaintEventRow)
        .where(ComplaintEventRow.complaint_id == complaint_id)
        .order_by(ComplaintEventRow.id)
    ).scalars()
    events = [json.loads(r.event_json) for r in rows]
    return [e for e in events if e.get("type") in CLOCK_EVENT_TYPES] if clock_only else events


def _add_event(
    session: Session, complaint: ComplaintRow, event: Event | dict[str, Any], **extra: Any
) -> None:
    """Store an event: a typed clock event (through the codec) or a shell-only record (note, escalation)."""
    raw = event if isinstance(event, dict) else {**event_to_json(event), **extra}
    session.add(ComplaintEventRow(complaint_id=complaint.id, event_json=json.dumps(raw, ensure_ascii=False)))
    session.flush()


def _clock_inputs(session: Session, complaint: ComplaintRow) -> tuple[Complaint, list[Event]]:
    """The typed inputs of the pure clock: the complaint and its stored clock events."""
    parsed = Complaint(
        id=complaint.public_id,
        received_at=_aware(complaint.received_at),
        channel=complaint.channel,
        category=complaint.category,
        forwarded_by=complaint.forwarded_by,
    )
    return parsed, [event_from_json(e) for e in _events(session, complaint.id)]


def sla(session: Session, complaint: ComplaintRow, as_of: datetime) -> dict[str, Any]:
    """The complaint's regulatory clock at ``as_of`` (the ``evaluate_sla`` the conformance runner calls)."""
    parsed, events = _clock_inputs(session, complaint)
    verdict = evaluate_sla(PROFILE, parsed, events, ChinaStatutoryHolidays(), as_of, ACK_TARGET)
    return verdict_to_json(verdict)


def review_clock(session: Session, complaint: ComplaintRow, as_of: datetime) -> ReviewVerdict:
    """The review's clock (``evaluate_review_sla``) at ``as_of``; the complaint must have a review request."""
    parsed, events = _clock_inputs(session, complaint)
    return evaluate_review_sla(PROFILE, parsed, events, ChinaStatutoryHolidays(), as_of)


def _suspend_penalty(session: Session, loan_id: int | None, on: bool) -> bool:
    from xiaodai.db.tables import LoanRow

    if loan_id is None or not FEE_DISPUTE_SUSPENDS_PENALTY:
        return False
    # Locked and read afresh: the flush checks (and bumps) the loan's version, so a loan end of day changed
    # since the session first read it is refreshed here instead of failing with StaleDataError.
    loan = session.get(LoanRow, loan_id, with_for_update=True, populate_existing=True)
    if loan is None:
        return False
    loan.penalty_suspended = on
    session.flush()  # bumps loans.version: end of day's guarded write sees that the loan changed
    return True


def _set_hold(session: Session, loan_id: int | None, complaint_id: str, on: bool) -> bool:
    if loan_id is None:
        return False
    case = session.get(CollectionCaseRow, loan_id)
    if case is None:
        return False
    context = json.loads(case.context_json or "{}")
    flags = dict(context.get("flags", {}))
    if on:
        flags["complaint_hold"] = {"complaint_id": complaint_id}
    else:
        flags.pop("complaint_hold", None)
    context["flags"] = flags
    case.context_json = json.dumps(context, ensure_ascii=False)
    session.flush()
    return True


def file_complaint(
    session: Session,
    *,
    narrative: str,
    channel: str,
    received_at: datetime,
    user_id: int | None = None,
    loan_id: int | None = None,
    forwarded_by: str | None = None,
    new_facts: bool = False,
) -> dict[str, Any]:
    """Intake: classified, acknowledged at once with its deadline, merged into a recent duplicate.

    A duplicate is recorded on the original as a resubmission: with ``new_facts`` (an officer's judgement
    that it brings facts the original did not have) the original's clock restarts; without, it merges and
    the clock is unchanged (RULES.md §3)."""
    if not narrative.strip():
        raise ComplaintError("a complaint needs a description")
    if received_at.tzinfo is None:
        raise ComplaintError("received_at needs a UTC offset")
    if user_id is not None and session.get(UserRow, user_id) is None:
        raise ComplaintError(f"no user with id {user_id}")
    if loan_id is not None and session.get(LoanRow, loan_id) is None:
        raise ComplaintError(f"no loan with id {loan_id}")
    classification = _classify(narrative)
    category = str(classification.get("category") or "other")
    duplicate = None
    if user_id is not None:
        duplicate = (
            session.execute(
                select(ComplaintRow).where(
                    ComplaintRow.user_id == user_id,
                    ComplaintRow.loan_id == loan_id,
                    ComplaintRow.category == category,
                    ComplaintRow.status.in_(("open", "triage")),
                    ComplaintRow.received_at >= received_at - DUPLICATE_WINDOW,
                )
            )
            .scalars()
            .first()
        )
    row = ComplaintRow(
        public_id=uuid.uuid4().hex[:12],
        user_id=user_id,
        loan_id=loan_id,
        channel=channel,
        forwarded_by=forwarded_by,
        received_at=received_at,
        narrative=narrative,
        category=category,
        sub_issue=classification.get("sub_issue"),
        classification_json=json.dumps(classification, ensure_ascii=False),
        status="merged" if duplicate else ("triage" if classification.get("needs_triage") else "open"),
        merged_into=duplicate.id if duplicate else None,
        evidence_json=json.dumps(collect_evidence(session, loan_id, received_at), ensure_ascii=False),
    )
    session.add(row)
    session.flush()
    _add_event(session, row, Acknowledged(received_at))
    target = row
    if duplicate is not None:
        _add_event(
            session,
            duplicate,
            Resubmission(received_at, new_facts=new_facts, summary=narrative[:200]),
            merged_complaint=row.public_id,
        )
        target = duplicate
    hold = _set_hold(session, loan_id, target.public_id, True) if category == CONDUCT else False
    suspended = _suspend_penalty(session, loan_id, True) if category == FEE_DISPUTE else False
    verdict = sla(session, target, received_at)
    record(
        session,
        actor="system",
        action="complaint-intake",
        subject=f"complaint:{row.public_id}",
        reason=row.status.upper(),
        payload={
            "channel": channel,
            "user_id": user_id,
            "loan_id": loan_id,
            "category": category,
            "confidence": classification.get("confidence"),
            "merged_into": target.public_id if duplicate is not None else None,
            "collection_hold": hold,
            "penalty_suspended": suspended,
        },
        version=_versions(classification, verdict),
    )
    return {
        "complaint_id": target.public_id,
        "merged": duplicate is not None,
        "status": target.status,
        "category": target.category,
        "classification": classification,
        "collection_hold": hold,
        "penalty_suspended": suspended,
        "acknowledged_at": received_at.isoformat(),
        "regulatory_deadline": verdict["regulatory_deadline"],
    }


def _versions(classification: dict[str, Any], verdict: dict[str, Any]) -> str:
    taxonomy, patterns = classification.get("taxonomy_version"), classification.get("patterns_version")
    clock = f"{verdict.get('profile')}/{verdict.get('profile_version')}"
    return f"taxonomy:{taxonomy} patterns:{patterns} sla:{clock}"


def get(session: Session, public_id: str) -> ComplaintRow:
    row = session.execute(
        select(ComplaintRow).where(ComplaintRow.public_id == public_id)
    ).scalar_one_or_none()
    if row is None:
        raise ComplaintError(f"complaint {public_id} not found")
    return row


def reclassify(
    session: Session, *, public_id: str, category: str, sub_issue: str | None, officer: str
) -> None:
    """A human can always override the automatic classification."""
    row = get(session, public_id)
    before = {"category": row.category, "sub_issue": row.sub_issue, "status": row.status}
    row.category, row.sub_issue, row.classified_by = category, sub_issue, "human"
    if row.status == "triage":
        row.status = "open"
    if category == CONDUCT:
        _set_hold(session, row.loan_id, row.public_id, True)
    _add_event(
        session,
        row,
        {"type": "note", "at": datetime.now(tz=UTC).isoformat(), "text": f"reclassified by {officer}"},
    )
    record(
        session,
        actor=officer,
        action="complaint-reclassify",
        subject=f"complaint:{row.public_id}",
        reason="HUMAN_OVERRIDE",
        payload={
            "before": before,
            "after": {"category": category, "sub_issue": sub_issue, "status": row.status},
        },
    )


POSTED_REMEDIES = {
    "waive_penalty": "penalty",
    "waive_fee": "fee",
    "waive_interest": "interest",
    "refund_fee": "fee",
    "refund_interest": "interest",
}
RECORDED_REMEDIES = {"apology", "credit_report_correction_request", "staff_coaching", "explanation", "none"}


def _post_remedies(
    session: Session,
    row: ComplaintRow,
    remedies: list[dict[str, Any]],
    at: datetime,
) -> list[dict[str, Any]]:
    """Monetary remedies go through servicing (waivers, credits); others are recorded with the decision."""

    from xiaodai.money.money import MoneyError
    from xiaodai.money.parse import parse_amount_fen
    from xiaodai.servicing import service as servicing
    from xiaodai.servicing.allocation import Component

    posted = []
    for n, remedy in enumerate(remedies):
        kind = str(remedy.get("kind"))
        if kind in RECORDED_REMEDIES:
            continue
        if kind not in POSTED_REMEDIES:
            raise ComplaintError(f"unknown remedy {kind!r}")
        if row.loan_id is None:
            raise ComplaintError(f"remedy {kind} needs the complaint to concern a loan")
        try:
            fen = parse_amount_fen(remedy.get("amount"), what=f"remedies.{n}.amount")
        except MoneyError as exc:
            raise ComplaintError(str(exc)) from None
        component = Component(POSTED_REMEDIES[kind])
        key = f"complaint:{row.public_id}:{n}"
        if kind.startswith("waive_"):
            result = servicing.waive(
                session,
                loan_id=row.loan_id,
                component=component,
                amount_fen=fen,
                on=at.date(),
                idempotency_key=key,
                reason=f"complaint {row.public_id}",
            )
        else:
            result = servicing.credit_borrower(
                session,
                loan_id=row.loan_id,
                amount_fen=fen,
                on=at.date(),
                idempotency_key=key,
                income=component,
                reason=f"complaint {row.public_id}",
            )
        posted.append({"kind": kind, "entry_id": result["entry_id"]})
    return posted


def close(
    session: Session,
    *,
    public_id: str,
    at: datetime,
    notice: dict[str, Any],
    root_cause: str,
    remedies: list[dict[str, Any]],
    officer: str = "system",
) -> dict[str, Any]:
    """Close with a decision notice stating verification, basis, reasons and remedy channels."""
    row = get(session, public_id)
    if row.status == "closed":
        raise ComplaintError("already closed")
    decision, _reason, reasons = check_close(notice, remedies, root_cause)
    if decision != "allow":
        messages = {
            "NOTICE_INCOMPLETE": "the decision notice must state: " + ", ".join(missing_notice_parts(notice)),
            "NOTICE_MISSING_REMEDIES": "the decision notice must state: "
            + ", ".join(missing_notice_parts(notice)),
            "REMEDY_MISSING": "closing needs the remedies decided (or a recorded 'none' with its reason)",
            "ROOT_CAUSE_MISSING": "a root-cause code is required on close",
            "ROOT_CAUSE_UNKNOWN": f"unknown root-cause code {root_cause!r} (see root_causes.json)",
        }
        raise ComplaintError("; ".join(messages[r] for r in reasons))
    posted = _post_remedies(session, row, remedies, at)
    contents = [
        "verification_summary",
        "basis",
        "reasons",
        "remedies:"
        + "/".join(
            str(r)
            for r in notice.get("remedy_channels", ["review", "mediation", "arbitration", "litigation"])
        ),
    ]
    _add_event(session, row, DecisionNotified(at, tuple(contents)))
    link = root_causes().get(root_cause, {}).get("links", {})
    row.decision_json = json.dumps(
        {"notice": notice, "remedies": remedies, "root_cause_links": link}, ensure_ascii=False
    )
    row.root_cause, row.status, row.closed_at = root_cause, "closed", at
    _set_hold(session, row.loan_id, row.public_id, False)
    if row.category == FEE_DISPUTE:
        _suspend_penalty(session, row.loan_id, False)
    clock = sla(session, row, at)
    record(
        session,
        actor=officer,
        action="complaint-decision",
        subject=f"complaint:{row.public_id}",
        reason=root_cause[:60],
        payload={
            "at": at.isoformat(),
            "remedies": [str(r.get("kind")) for r in remedies],
            "posted_entries": [p["entry_id"] for p in posted],
            "sla_status": clock["sla_status"],
        },
        version=f"sla:{clock.get('profile')}/{clock.get('profile_version')}",
    )
    return {
        "complaint_id": row.public_id,
        "status": "closed",
        "sla": clock,
        "posted": posted,
        "review_until": _review_until(session, row, at),
    }


def _review_until(session: Session, row: ComplaintRow, at: datetime) -> str | None:
    parsed, events = _clock_inputs(session, row)
    window = evaluate_review_eligibility(PROFILE, parsed, events, ChinaStatutoryHolidays(), at)
    return window.regulatory_deadline.date().isoformat() if window.regulatory_deadline else None


def queue(session: Session, *, as_of: datetime) -> list[dict[str, Any]]:
    """Open and triage complaints, most urgent first, with their clock."""
    rows = session.execute(select(ComplaintRow).where(ComplaintRow.status.in_(("open", "triage")))).scalars()
    out = []
    for row in rows:
        clock = sla(session, row, as_of)
        out.append(
            {
                "complaint_id": row.public_id,
                "status": row.status,
                "category": row.category,
                "loan_id": row.loan_id,
                "received_at": _aware(row.received_at).isoformat(),
                "regulatory_deadline": clock["regulatory_deadline"],
                "sla_status": clock["sla_status"],
                "escalation": clock.get("escalation"),
                "evidence": sorted(k for k, v in json.loads(row.evidence_json or "{}").items() if v),
            }
        )
    return sorted(out, key=lambda c: c["regulatory_deadline"])


def escalate(session: Session, *, as_of: datetime) -> list[dict[str, Any]]:
    """Escalate open complaints at 70% and 90% of the time allowed (and on breach) to the assigned officer and
    their manager, once per level; each escalation is an event on the complaint and an audit record."""
    from xiaodai.db.tables import AuditEventRow

    raised = []
    for row in session.execute(
        select(ComplaintRow).where(ComplaintRow.status.in_(("open", "triage")))
    ).scalars():
        level = sla(session, row, as_of).get("escalation")
        if not level:
            continue
        done = {
            e.get("level")
            for e in _events(session, row.id, clock_only=False)
            if e.get("type") == "escalation"
        }
        if level in done:
            continue
        notify = [
            f"user:{row.assigned_to}" if row.assigned_to else "complaint-officers",
            "complaints-manager",
        ]
        _add_event(
            session, row, {"type": "escalation", "level": level, "at": as_of.isoformat(), "notify": notify}
        )
        session.add(
            AuditEventRow(
                actor="system",
                action="complaint-escalation",
                subject=f"complaint:{row.public_id}",
                reason=f"SLA_{level}",
                payload=json.dumps({"notify": notify}),
            )
        )
        raised.append({"complaint_id": row.public_id, "level": level, "notify": notify})
    session.flush()
    return raised


def request_review(session: Session, *, public_id: str, at: datetime) -> dict[str, Any]:
    """The complainant may ask for a review within 30 days of the decision notice (the window counted like
    every regulatory period: ``evaluate_review_eligibility``); it is decided within 30 days."""
    row = get(session, public_id)
    if row.status != "closed" or row.closed_at is None:
        raise ComplaintError("only a closed complaint can be reviewed")
    if at.tzinfo is None:
        raise ComplaintError("the review request time needs a UTC offset")
    parsed, events = _clock_inputs(session, row)
    eligible = evaluate_review_eligibility(PROFILE, parsed, events, ChinaStatutoryHolidays(), at)
    if eligible.decision != "allow":
        window = eligible.regulatory_deadline.isoformat() if eligible.regulatory_deadline else "-"
        raise ComplaintError(f"the 30-day window for a review request has passed ({window})")
    row.status = "review"
    _add_event(session, row, ReviewRequested(at))
    clock = review_clock(session, row, at)
    record(
        session,
        actor=f"user:{row.user_id}" if row.user_id is not None else "complainant",
        action="complaint-review-requested",
        subject=f"complaint:{row.public_id}",
        reason="REVIEW_REQUESTED",
        payload={"closed_at": _aware(row.closed_at).isoformat()},
    )
    deadline = clock.regulatory_deadline
    return {
        "complaint_id": row.public_id,
        "status": "review",
        "review_deadline": deadline.date().isoformat() if deadline else None,
    }


def decide_review(session: Session, *, public_id: str, at: datetime, officer: str) -> dict[str, Any]:
    """The review's decision notified to the complainant; the review clock's verdict is returned."""
    row = get(session, public_id)
    if row.status != "review":
        raise ComplaintError("no review is open on this complaint")
    if at.tzinfo is None:
        raise ComplaintError("the review decision time needs a UTC offset")
    _add_event(session, row, ReviewDecisionNotified(at))
    row.status = "closed"
    clock = review_clock(session, row, at)
    record(
        session,
        actor=officer,
        action="complaint-review-decision",
        subject=f"complaint:{row.public_id}",
        reason=clock.reason,
        payload={"at": at.isoformat(), "sla_status": clock.status},
    )
    return {"complaint_id": row.public_id, "status": "closed", "review": clock.to_json()}


def report_to_regulator(
    session: Session, *, public_id: str, at: datetime, level: str | None, fields: list[str]
) -> dict[str, Any]:
    """The result reported back to the regulator that forwarded the complaint (part of its clock)."""
    row = get(session, public_id)
    if not (row.forwarded_by or row.channel == "regulator_transfer"):
        raise ComplaintError("only a forwarded complaint reports back to a regulator")
    if at.tzinfo is None:
        raise ComplaintError("the feedback time needs a UTC offset")
    _add_event(session, row, FeedbackToRegulator(at, level, tuple(fields)))
    return {"complaint_id": row.public_id, "sla": sla(session, row, at)}
