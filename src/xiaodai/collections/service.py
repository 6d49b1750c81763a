"""Collections shell: the ONLY code path that records or sends a collection contact.

Every attempt is evaluated by the contact-policy engine first; the attempt is written to the append-only
contact log with its decision, reasons and rule version; only an allowed attempt reaches a channel. Each
decision is also an event on the tamper-evident audit trail that names the log row.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from xiaodai.accounts.service import roles_of
from xiaodai.audit.trail import record
from xiaodai.collections import contact_document
from xiaodai.collections.channels import Channel, SimulatedChannel
from xiaodai.collections.contact_document import ContactDocumentError
from xiaodai.collections.contact_facts import Attempt, ContactCase, PriorContact
from xiaodai.collections.contact_policy import Verdict, evaluate, load_profile
from xiaodai.db.tables import CollectionCaseRow, ContactAttemptRow, LoanRow, UserRow
from xiaodai.metrics import CONTACT_BLOCKS, count_on_commit
from xiaodai.servicing.errors import LoanNotFoundError, ServicingError

DEFAULT_CHANNEL: Channel = SimulatedChannel()


class AssigneeError(ValueError):
    """A collection case may be assigned only to an existing staff member holding the collector role."""

    status = 422


def check_assignee(session: Session, user_id: int) -> None:
    user = session.get(UserRow, user_id)
    if user is None or user.kind != "staff" or "collector" not in roles_of(user):
        raise AssigneeError(
            f"user {user_id} is not a collector: a collection case is assigned to a collector"
        )


class ContactInputError(ServicingError):
    """A case context or an attempt the engine cannot read (a field outside its vocabulary…): 4xx."""


def parse_case(document: Any) -> ContactCase:
    try:
        return contact_document.parse_case(document)
    except ContactDocumentError as exc:
        raise ContactInputError(f"case context: {exc}") from exc


def parse_attempt(document: Any) -> Attempt:
    try:
        return contact_document.parse_attempt(document)
    except ContactDocumentError as exc:
        raise ContactInputError(f"attempt: {exc}") from exc


def open_case(
    session: Session,
    *,
    loan_id: int,
    profile: str = "CN",
    context: dict[str, Any] | None = None,
    assigned_to: int | None = None,
) -> CollectionCaseRow:
    if session.get(LoanRow, loan_id) is None:
        raise LoanNotFoundError(f"loan {loan_id} does not exist")
    load_profile(profile)
    if assigned_to is not None:
        check_assignee(session, assigned_to)
    parse_case(context or {})  # refuse a context the engine would not understand, before storing it
    case = session.get(CollectionCaseRow, loan_id)
    if case is None:
        case = CollectionCaseRow(
            loan_id=loan_id, profile=profile, context_json=json.dumps(context or {}), assigned_to=assigned_to
        )
        session.add(case)
    else:
        case.profile = profile
        if context is not None:
            case.context_json = json.dumps(context)
        case.assigned_to = assigned_to if assigned_to is not None else case.assigned_to
    session.flush()
    return case


def _history(session: Session, loan_id: int) -> list[PriorContact]:
    rows = session.execute(
        select(ContactAttemptRow)
        .where(ContactAttemptRow.loan_id == loan_id, ContactAttemptRow.decision == "allow")
        .order_by(ContactAttemptRow.attempted_at)
    ).scalars()
    return [
        PriorContact(
            _aware(r.attempted_at),
            r.target_type,
            r.channel,
            r.phone_id,
            r.contact_id,
            r.initiated_by,
            r.outcome or "",
        )
        for r in rows
    ]


def _aware(at: datetime) -> datetime:
    """Stored in UTC; SQLite hands timestamps back without their offset."""
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def _context(session: Session, case: CollectionCaseRow, loan: LoanRow) -> ContactCase:
    """The stored case document, read like the API body, with the loan's own days past due."""
    context = parse_case(json.loads(case.context_json or "{}"))
    return replace(context, debt=replace(context.debt, days_past_due=loan.dpd))


def preview(session: Session, *, loan_id: int, attempt: Attempt, as_of: datetime) -> Verdict:
    """What the engine would say, without recording or sending anything."""
    case = session.get(CollectionCaseRow, loan_id)
    loan = session.get(LoanRow, loan_id)
    if case is None or loan is None:
        raise ServicingError(f"loan {loan_id} has no collection case")
    return evaluate(
        load_profile(case.profile),
        _context(session, case, loan),
        _history(session, loan_id),
        attempt,
        as_of,
    )


def attempt_contact(
    session: Session,
    *,
    loan_id: int,
    attempt: Attempt,
    as_of: datetime,
    actor: str,
    channel: Channel | None = None,
    inbound_outcome: str = "connected_conversation",
) -> dict[str, Any]:
    """Evaluate, log, and (only if allowed) send. Inbound calls are logged with their outcome too.

    ``attempt`` is typed: the API, CLI and web form read their JSON or form fields with ``parse_attempt``
    (a field outside the vocabulary is a ``ContactInputError``, 4xx) before calling here."""
    loan = session.execute(
        select(LoanRow).where(LoanRow.id == loan_id).with_for_update()
    ).scalar_one_or_none()
    if loan is None:
        raise LoanNotFoundError(f"loan {loan_id} does not exist")
    case = session.get(CollectionCaseRow, loan_id)
    if case is None:
        raise ServicingError(f"loan {loan_id} has no collection case: open one first")
    profile = load_profile(case.profile)
    parsed = attempt
    verdict = evaluate(profile, _context(session, case, loan), _history(session, loan_id), parsed, as_of)
    outcome = None
    if verdict.allowed:
        if parsed.action == "answer_inbound":
            outcome = inbound_outcome
        else:
            to = parsed.phone_id or parsed.email_id or parsed.contact_id or "borrower"
            outcome = (channel or DEFAULT_CHANNEL).send(channel=parsed.channel, to=to, message=parsed.message)
    row = ContactAttemptRow(
        loan_id=loan_id,
        attempted_at=as_of.astimezone(UTC),
        actor=actor,
        action=parsed.action,
        channel=parsed.channel,
        target_type=parsed.target_type,
        contact_id=parsed.contact_id,
        phone_id=parsed.phone_id,
        email_id=parsed.email_id,
        message=parsed.message,
        initiated_by="debtor" if parsed.action == "answer_inbound" else (parsed.initiated_by or "agent"),
        decision=verdict.decision,
        reason=verdict.reason,
        reasons=json.dumps(list(verdict.reasons)),
        rule_version=verdict.rule_version,
        profile=profile.name,
        outcome=outcome,
    )
    session.add(row)
    session.flush()
    if verdict.decision == "block":
        count_on_commit(session.connection(), CONTACT_BLOCKS.labels(reason=verdict.reason))
    record(
        session,
        actor=actor,
        action="contact-decision",
        subject=f"loan:{loan_id}",
        reason=verdict.reason,
        payload={
            "contact_attempt_id": row.id,
            "decision": verdict.decision,
            "action": parsed.action,
            "channel": parsed.channel,
            "target_type": parsed.target_type,
            "profile": profile.name,
        },
        version=verdict.rule_version,
    )
    return {"attempt_id": row.id, **verdict.to_json(), "outcome": outcome}


def contact_history(session: Session, *, loan_id: int) -> list[dict[str, Any]]:
    rows = session.execute(
        select(ContactAttemptRow)
        .where(ContactAttemptRow.loan_id == loan_id)
        .order_by(ContactAttemptRow.attempted_at)
    ).scalars()
    return [
        {
            "id": r.id,
            "at": _aware(r.attempted_at).isoformat(),
            "channel": r.channel,
            "target": r.target_type,
            "decision": r.decision,
            "reason": r.reason,
            "reasons": json.loads(r.reasons),
            "outcome": r.outcome,
            "rule_version": r.rule_version,
            "actor": r.actor,
        }
        for r in rows
    ]


def violations_report(session: Session) -> dict[str, Any]:
    """Blocked attempts by reason (what the engine prevented), newest first."""
    rows = list(
        session.execute(
            select(ContactAttemptRow)
            .where(ContactAttemptRow.decision == "block")
            .order_by(ContactAttemptRow.attempted_at.desc())
        ).scalars()
    )
    return {
        "blocked": len(rows),
        "by_reason": dict(Counter(r.reason for r in rows).most_common()),
        "recent": [
            {
                "id": r.id,
                "loan_id": r.loan_id,
                "at": _aware(r.attempted_at).isoformat(),
                "reason": r.reason,
                "channel": r.channel,
                "actor": r.actor,
            }
            for r in rows[:50]
        ],
    }


def run_campaign(
    session: Session,
    *,
    as_of: datetime,
    actor: str = "campaign",
    strategy: dict[str, Any] | None = None,
    channel: Channel | None = None,
) -> dict[str, Any]:
    """Plan today's contacts for every loan with a collection case and pass each through the engine."""
    from xiaodai.collections.strategy import LoanFacts, default_strategy, plan
    from xiaodai.servicing.views import loan_view

    chosen = strategy or default_strategy()
    results: Counter[str] = Counter()
    referrals = []
    cases = session.execute(select(CollectionCaseRow)).scalars().all()
    for case in cases:
        view = loan_view(session, loan_id=case.loan_id, as_of=as_of.date())
        if view["state"] not in ("active", "overdue"):
            continue
        upcoming = next((r for r in view["schedule"] if r["status"] in ("scheduled", "due")), None)
        overdue = sum(
            (Decimal(r["outstanding"]) for r in view["schedule"] if r["status"] == "overdue"), Decimal(0)
        )
        facts = LoanFacts(
            case.loan_id,
            view["bucket"],
            view["days_past_due"],
            datetime.fromisoformat(upcoming["due_date"]).date() if upcoming else None,
            upcoming["payment"] if upcoming else "0.00",
            f"{overdue:.2f}",
        )
        loan = session.get(LoanRow, case.loan_id)
        assert loan is not None
        phones = _context(session, case, loan).phones
        phone = phones[0].id if phones else None
        for planned in plan(facts, as_of.date(), strategy=chosen):
            if planned.action == "refer_to_agency":
                referrals.append(case.loan_id)
                results["REFER_TO_AGENCY"] += 1
                continue
            if planned.channel is None:  # a step without a medium plans nothing to send
                continue
            attempt = Attempt(
                "contact",
                planned.channel,
                phone_id=phone,
                message=planned.message,
                purpose=planned.step,
            )
            outcome = attempt_contact(
                session, loan_id=case.loan_id, attempt=attempt, as_of=as_of, actor=actor, channel=channel
            )
            results[outcome["reason"]] += 1
    return {"cases": len(cases), "results": dict(results.most_common()), "agency_referrals": referrals}
