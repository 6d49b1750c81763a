"""Collections workflow (shell): promises to pay, agency referral exports, negative credit reporting.

Each action is checked by a pure policy first and audited: agency exports by ``privacy.policy`` (whitelist,
entrustment contract, impact assessment, necessary fields only — PIPL Arts. 21, 23, 55); negative reporting
by ``collections.credit_reporting`` (a notice to the borrower first — 征信业管理条例 Art. 15 — and the house
waiting period).
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from xiaodai.collections.credit_reporting import ConsumerCommunication, PriorNotice, evaluate_reporting
from xiaodai.collections.service import parse_case
from xiaodai.db.tables import (
    AgencyRow,
    AuditEventRow,
    CollectionCaseRow,
    ContactAttemptRow,
    CreditReportEventRow,
    LoanEventRow,
    LoanRow,
    PersonalDataRow,
    PromiseRow,
)
from xiaodai.money.money import Money
from xiaodai.privacy.policy import Agency, AgencyExport, decide_agency_export
from xiaodai.servicing.errors import LoanNotFoundError, ServicingError

HOUSE_WAITING_DAYS = 7  # between the pre-reporting notice and the first negative submission (house policy)


def _loan(session: Session, loan_id: int) -> LoanRow:
    loan = session.get(LoanRow, loan_id)
    if loan is None:
        raise LoanNotFoundError(f"loan {loan_id} does not exist")
    return loan


def record_promise(
    session: Session, *, loan_id: int, promised_on: date, amount_fen: int, made_by: str, today: date
) -> dict[str, Any]:
    loan = _loan(session, loan_id)
    if amount_fen <= 0:
        raise ServicingError("a promise needs a positive amount")
    if promised_on < today:
        raise ServicingError("a promise date cannot be in the past")
    row = PromiseRow(
        loan_id=loan_id,
        promised_on=promised_on,
        amount_fen=amount_fen,
        paid_before_fen=loan.paid_total_fen,
        status="open",
        made_by=made_by,
    )
    session.add(row)
    session.flush()
    return {
        "promise_id": row.id,
        "loan_id": loan_id,
        "promised_on": promised_on.isoformat(),
        "amount": Money.from_minor(amount_fen).to_json(),
        "status": "open",
    }


def settle_promises(session: Session, *, today: date) -> dict[str, int]:
    """Promises due before ``today``: kept if the payments since reach the amount, else broken (an event)."""
    counts = {"kept": 0, "broken": 0}
    due = (
        session.execute(select(PromiseRow).where(PromiseRow.status == "open", PromiseRow.promised_on < today))
        .scalars()
        .all()
    )
    for promise in due:
        loan = _loan(session, promise.loan_id)
        paid = loan.paid_total_fen - promise.paid_before_fen
        promise.status = "kept" if paid >= promise.amount_fen else "broken"
        counts[promise.status] += 1
        if promise.status == "broken":
            session.add(
                LoanEventRow(
                    loan_id=loan.id,
                    business_date=today,
                    kind="promise-broken",
                    payload=json.dumps(
                        {
                            "promise_id": promise.id,
                            "promised": Money.from_minor(promise.amount_fen).to_json(),
                            "paid": Money.from_minor(max(0, paid)).to_json(),
                        }
                    ),
                )
            )
    session.flush()
    return counts


def export_to_agency(
    session: Session,
    *,
    agency_id: str,
    loan_ids: list[int],
    fields: list[str],
    actor: str,
    borrower_unreachable: bool = False,
) -> dict[str, Any]:
    """Export accounts to an agency only when the data-protection policy allows it; audited either way."""
    row = session.get(AgencyRow, agency_id)
    agency = Agency(
        id=agency_id,
        on_whitelist=bool(row and row.on_whitelist),
        entrustment_contract_id=row.entrustment_contract_id if row else None,
        pia_id=row.pia_id if row else None,
    )
    # Consent is per borrower: accounts whose borrower withdrew it are withheld below (CONSENT_WITHDRAWN).
    verdict = decide_agency_export(
        agency, AgencyExport(fields=tuple(fields), borrower_unreachable=borrower_unreachable)
    )
    decision, reason, reasons = verdict.decision, verdict.reason, list(verdict.reasons)
    session.add(
        AuditEventRow(
            actor=actor,
            action="agency-export",
            subject=f"agency:{agency_id}",
            reason=reason,
            payload=json.dumps({"loans": loan_ids, "fields": fields, "reasons": reasons}),
        )
    )
    session.flush()
    if decision != "allow":
        return {"exported": False, "reason": reason, "reasons": reasons}
    rows = []
    from xiaodai.privacy import store
    from xiaodai.privacy.keys import current_ring
    from xiaodai.privacy.masking import mask_id_number
    from xiaodai.privacy.service import agency_sharing_allowed

    withheld = []
    for loan_id in loan_ids:
        loan = _loan(session, loan_id)
        if not agency_sharing_allowed(session, loan_id):
            withheld.append({"loan_id": loan_id, "reason": "CONSENT_WITHDRAWN"})
            continue
        record: dict[str, Any] = {
            "loan_id": loan.id,
            "days_past_due": loan.dpd,
            "amount_due": Money.from_minor(
                loan.interest_outstanding_fen + loan.fees_outstanding_fen + loan.penalties_outstanding_fen
            ).to_json(),
        }
        if loan.borrower_id is not None and fields_need_identity(fields):
            person = store.read_fields(current_ring(), session.get(PersonalDataRow, loan.borrower_id))
            record["name"] = person.get("name")
            record["mobile"] = person.get("phone")
            record["masked_id"] = mask_id_number(person["id_number"]) if "id_number" in person else None
        rows.append({k: v for k, v in record.items() if k in fields or k == "loan_id"})
    if withheld:
        session.add(
            AuditEventRow(
                actor=actor,
                action="agency-export-withheld",
                subject=f"agency:{agency_id}",
                reason="CONSENT_WITHDRAWN",
                payload=json.dumps({"loans": [w["loan_id"] for w in withheld]}),
            )
        )
        session.flush()
    return {"exported": True, "reason": reason, "rows": rows, "withheld": withheld}


def fields_need_identity(fields: list[str]) -> bool:
    return bool({"name", "mobile", "masked_id"} & set(fields))


def send_reporting_notice(session: Session, *, loan_id: int, at: datetime) -> dict[str, Any]:
    _loan(session, loan_id)
    session.add(
        CreditReportEventRow(
            loan_id=loan_id,
            kind="negative_record_notice",
            at=at.astimezone(UTC),
            detail=json.dumps({"channel": "sms+app"}),
        )
    )
    session.flush()
    return {"loan_id": loan_id, "notice_at": at.isoformat()}


def _communications(session: Session, loan_id: int) -> list[ConsumerCommunication]:
    """US 1006.30(a): what the contact log shows was communicated to the consumer (allowed attempts only)."""
    rows = session.execute(
        select(ContactAttemptRow).where(
            ContactAttemptRow.loan_id == loan_id,
            ContactAttemptRow.decision == "allow",
            ContactAttemptRow.target_type.in_(("borrower", "consumer")),
        )
    ).scalars()
    return [
        ConsumerCommunication(
            at=r.attempted_at if r.attempted_at.tzinfo else r.attempted_at.replace(tzinfo=UTC),
            channel="call" if r.channel in ("voice", "ai_voice") else r.channel,
            kind="limited_content_message" if r.reason == "ALLOWED_LIMITED_CONTENT" else None,
            outcome=r.outcome,
            undeliverable_notice_received=r.outcome == "undeliverable",
        )
        for r in rows
    ]


def submit_negative_record(
    session: Session, *, loan_id: int, at: datetime, profile: str | None = None, actor: str = "system"
) -> dict[str, Any]:
    """Submit to the bureau only after the notice (CN) or a communication (US) and the waiting period; a
    refusal is recorded too. The profile is the collection case's unless given."""
    loan = _loan(session, loan_id)
    case = session.get(CollectionCaseRow, loan_id)
    profile = profile or (case.profile if case is not None else "CN")
    notices = [
        PriorNotice(kind=e.kind, at=e.at if e.at.tzinfo else e.at.replace(tzinfo=UTC))
        for e in session.execute(
            select(CreditReportEventRow).where(
                CreditReportEventRow.loan_id == loan_id, CreditReportEventRow.kind == "negative_record_notice"
            )
        ).scalars()
    ]
    us = profile.startswith("US")
    role = parse_case(json.loads(case.context_json or "{}")).collector_role if case is not None else None
    verdict = evaluate_reporting(
        profile,
        at=at,
        notices=notices,
        communications=_communications(session, loan_id) if us else (),
        collector_role=role or ("third_party_debt_collector" if us else None),
        house_waiting_days=HOUSE_WAITING_DAYS,
    )
    decision, reason, reasons = verdict.decision, verdict.reason, list(verdict.reasons)
    kind = "submission" if decision == "allow" else "submission_refused"
    session.add(
        CreditReportEventRow(
            loan_id=loan_id,
            kind=kind,
            at=at.astimezone(UTC),
            detail=json.dumps({"reason": reason, "dpd": loan.dpd, "actor": actor}),
        )
    )
    session.flush()
    return {
        "loan_id": loan_id,
        "submitted": decision == "allow",
        "reason": reason,
        "reasons": reasons,
        "earliest": None
        if decision == "allow" or verdict.earliest_at is None
        else verdict.earliest_at.isoformat(),
    }
