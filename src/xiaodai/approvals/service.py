"""Maker-checker (shell): file a request, approve or reject it; approval executes the operation in the same
transaction and records the result. Every step is audited."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from xiaodai.accounts.service import ForbiddenError, roles_of
from xiaodai.approvals import rules
from xiaodai.audit.trail import record
from xiaodai.db.tables import ApprovalRow, UserRow
from xiaodai.money.parse import parse_amount_fen, parse_iso_date

Executor = Callable[[Session, dict[str, Any], ApprovalRow], dict[str, Any]]


class ApprovalError(ValueError):
    status = 400

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(f"{message} ({code})")
        self.code = code
        self.status = status


def _audit(session: Session, user: UserRow, action: str, row: ApprovalRow, reason: str) -> None:
    record(
        session,
        actor=f"user:{user.id}",
        action=action,
        subject=f"approval:{row.id}",
        reason=reason,
        payload={"operation": row.operation, "subject": row.subject},
    )


def _write_off(session: Session, params: dict[str, Any], row: ApprovalRow) -> dict[str, Any]:
    from xiaodai.servicing import service as servicing

    return servicing.write_off(
        session,
        loan_id=int(params["loan_id"]),
        on=date.fromisoformat(str(params["on"])),
        idempotency_key=f"approval:{row.id}",
    )


def _waive(session: Session, params: dict[str, Any], row: ApprovalRow) -> dict[str, Any]:
    from xiaodai.servicing import service as servicing
    from xiaodai.servicing.allocation import Component

    return servicing.waive(
        session,
        loan_id=int(params["loan_id"]),
        component=Component(str(params["component"])),
        amount_fen=int(params["amount_fen"]),
        on=date.fromisoformat(str(params["on"])),
        idempotency_key=f"approval:{row.id}",
        reason=str(params["reason"]),
    )


def _model_activate(session: Session, params: dict[str, Any], row: ApprovalRow) -> dict[str, Any]:
    from xiaodai.underwriting import service as underwriting

    underwriting.activate_model(
        session, version=str(params["version"]), actor=f"approval:{row.id}", approval_id=row.id
    )
    return {"active_model": params["version"]}


def _key_rotate(session: Session, params: dict[str, Any], row: ApprovalRow) -> dict[str, Any]:
    from xiaodai.privacy.keys import current_ring, store_ring

    ring = current_ring()
    version = int(params["version"])
    store_ring(ring.with_current(version))
    return {"current_key_version": version, "next": "run `xiaodai keys rotate` to re-encrypt stored data"}


def _backdated_repayment(session: Session, params: dict[str, Any], row: ApprovalRow) -> dict[str, Any]:
    from xiaodai.servicing import service as servicing

    on = date.fromisoformat(str(params["on"]))
    _check_backdate(session, params, business_date=date.fromisoformat(str(params["business_date"])))
    result = servicing.repay(
        session,
        loan_id=int(params["loan_id"]),
        amount_fen=parse_amount_fen(params["amount"]),
        on=on,
        idempotency_key=f"approval:{row.id}",
    )
    record(
        session,
        actor=f"approval:{row.id}",
        action="repayment-backdated",
        subject=f"loan:{params['loan_id']}",
        reason="BACKDATED",
        payload={"on": on.isoformat(), "business_date": params["business_date"], "amount": params["amount"]},
    )
    return dict(result)


def _check_backdate(session: Session, params: dict[str, Any], *, business_date: date) -> None:
    """The booking date and amount of a back-dated repayment, against ``servicing.backdating``."""
    from xiaodai.db.tables import LoanRow
    from xiaodai.servicing.backdating import BACKDATE_MAX_DAYS, backdate_verdict

    try:
        on = parse_iso_date(params["on"], what="on")
        parse_amount_fen(params["amount"])
    except ValueError as exc:  # DateInputError, MoneyError
        raise ApprovalError("INVALID_PARAMS", str(exc), 422) from None
    loan = session.get(LoanRow, int(params["loan_id"]))
    assert loan is not None  # checked by the caller
    verdict = backdate_verdict(on, business_date=business_date, disbursed_on=loan.disbursed_on)
    if verdict != "ALLOWED":
        limits = (
            f"from the disbursal date ({loan.disbursed_on}) and at most {BACKDATE_MAX_DAYS} days before "
            f"the business date {business_date}, never after it"
        )
        raise ApprovalError(verdict, f"a repayment cannot be booked on {on}: {limits}", 422)


def _unmask(session: Session, params: dict[str, Any], row: ApprovalRow) -> dict[str, Any]:
    """Nothing is shown to the checker: the approval lets the maker unmask these fields of this borrower
    for the rest of the shift (``privacy.shift_allowance``)."""
    from xiaodai.privacy.access import SHIFT

    return {
        "granted_to": row.maker_id,
        "user_id": int(params["user_id"]),
        "fields": list(params["fields"]),
        "valid_for_hours": SHIFT.total_seconds() / 3600,
    }


EXECUTORS: dict[str, Executor] = {
    "backdated_repayment": _backdated_repayment,
    "unmask": _unmask,
    "write_off": _write_off,
    "waive": _waive,
    "model_activate": _model_activate,
    "key_rotate": _key_rotate,
}


def _subject(operation: str, params: dict[str, Any]) -> str:
    if "loan_id" in params:
        return f"loan:{params['loan_id']}"
    if operation == "unmask":
        return f"user:{params['user_id']}"
    if operation == "model_activate":
        return f"model:{params['version']}"
    return f"key:{params.get('version')}"


def request(
    session: Session,
    *,
    maker: UserRow,
    operation: str,
    params: dict[str, Any],
    reason: str,
    business_date: date | None = None,
) -> dict[str, Any]:
    """File a request. ``business_date`` (the platform's today) bounds date parameters where the operation
    has limits (a back-dated repayment); such a request without it is refused."""
    verdict = rules.may_request(operation, roles_of(maker), params)
    if verdict == "UNKNOWN_OPERATION":
        raise ApprovalError(verdict, f"unknown operation {operation!r}: {', '.join(rules.OPERATIONS)}", 422)
    if verdict == "PARAMS_MISSING":
        wanted = ", ".join(rules.OPERATIONS[operation].params)
        raise ApprovalError(verdict, f"{operation} needs: {wanted}", 422)
    if verdict != "ALLOWED":
        raise ForbiddenError(code=verdict)
    if len(reason.strip()) < 5:
        raise ApprovalError("REASON_REQUIRED", "a sensitive operation needs a reason", 422)
    if "loan_id" in params:
        from xiaodai.db.tables import LoanRow

        if not str(params["loan_id"]).isdigit() or session.get(LoanRow, int(params["loan_id"])) is None:
            raise ApprovalError("LOAN_NOT_FOUND", f"no loan {params['loan_id']}", 404)
    if operation == "backdated_repayment":
        if business_date is None:
            raise ApprovalError(
                "BUSINESS_DATE_REQUIRED", "a back-dated repayment needs the business date", 422
            )
        _check_backdate(session, params, business_date=business_date)
        params = {**params, "business_date": business_date.isoformat()}
    if operation == "unmask":
        _check_unmask(session, params)
    if operation == "key_rotate":
        from xiaodai.privacy.keys import current_ring

        if int(params["version"]) not in current_ring().keys:
            raise ApprovalError("KEY_VERSION_UNKNOWN", "add the key first: `xiaodai keys add`", 422)
    row = ApprovalRow(
        operation=operation,
        subject=_subject(operation, params),
        params_json=json.dumps(params, sort_keys=True, default=str),
        maker_id=maker.id,
        reason=reason.strip(),
        status="pending",
        created_at=datetime.now(tz=UTC),
    )
    session.add(row)
    session.flush()
    _audit(session, maker, "approval-requested", row, "PENDING")
    return view(row)


def _check_unmask(session: Session, params: dict[str, Any]) -> None:
    from xiaodai.privacy.access import FIELDS

    subject = session.get(UserRow, int(params["user_id"])) if str(params["user_id"]).isdigit() else None
    if subject is None or subject.kind != "borrower":
        raise ApprovalError("NOT_FOUND", f"no borrower {params['user_id']}", 404)
    fields = params["fields"]
    if not isinstance(fields, list) or not fields or any(f not in FIELDS for f in fields):
        raise ApprovalError("UNKNOWN_FIELD", f"fields: a non-empty list of {', '.join(FIELDS)}", 422)


def _pending(session: Session, approval_id: int) -> ApprovalRow:
    row = session.execute(
        select(ApprovalRow).where(ApprovalRow.id == approval_id).with_for_update()
    ).scalar_one_or_none()
    if row is None:
        raise ApprovalError("NOT_FOUND", f"no approval {approval_id}", 404)
    return row


def _check(row: ApprovalRow, checker: UserRow) -> str:
    """The four-eyes rule for this checker on this request (reason code)."""
    roles = roles_of(checker)
    return rules.may_approve(
        row.operation, maker_id=row.maker_id, checker_id=checker.id, roles=roles, status=row.status
    )


def approve(session: Session, *, checker: UserRow, approval_id: int) -> dict[str, Any]:
    row = _pending(session, approval_id)
    verdict = _check(row, checker)
    if verdict == "NOT_PENDING":
        raise ApprovalError(verdict, f"approval {approval_id} is {row.status}", 409)
    if verdict != "ALLOWED":
        from xiaodai.privacy.service import audit_refusal

        audit_refusal(session, f"user:{checker.id}", "approval-refused", f"approval:{approval_id}", verdict)
        raise ForbiddenError(code=verdict)
    result = EXECUTORS[row.operation](session, json.loads(row.params_json), row)
    row.status, row.checker_id, row.decided_at = "executed", checker.id, datetime.now(tz=UTC)
    row.result_json = json.dumps(result, default=str)
    session.flush()
    _audit(session, checker, "approval-executed", row, "EXECUTED")
    return view(row)


def reject(session: Session, *, checker: UserRow, approval_id: int, reason: str) -> dict[str, Any]:
    row = _pending(session, approval_id)
    verdict = _check(row, checker)
    if verdict == "NOT_PENDING":
        raise ApprovalError(verdict, f"approval {approval_id} is {row.status}", 409)
    if verdict not in ("ALLOWED", "CHECKER_IS_MAKER"):  # a maker may withdraw their own request
        raise ForbiddenError(code=verdict)
    row.status, row.checker_id, row.decided_at = "rejected", checker.id, datetime.now(tz=UTC)
    row.result_json = json.dumps({"reason": reason.strip()})
    session.flush()
    _audit(session, checker, "approval-rejected", row, "REJECTED")
    return view(row)


def listing(session: Session, *, viewer: UserRow, status: str | None = None) -> list[dict[str, Any]]:
    if viewer.kind != "staff":
        raise ForbiddenError(code="STAFF_ONLY")
    stmt = select(ApprovalRow).order_by(ApprovalRow.id)
    if status:
        stmt = stmt.where(ApprovalRow.status == status)
    return [view(r) for r in session.execute(stmt).scalars()]


def view(row: ApprovalRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "operation": row.operation,
        "subject": row.subject,
        "params": json.loads(row.params_json),
        "maker_id": row.maker_id,
        "reason": row.reason,
        "status": row.status,
        "checker_id": row.checker_id,
        "result": json.loads(row.result_json) if row.result_json else None,
    }
