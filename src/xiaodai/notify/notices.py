"""Notices we owe a borrower: enqueue (once per dedupe key; the one entry point other domains use), their
views and the business date's report."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from xiaodai.db.tables import (
    LoanRow,
    NoticeOutboxRow,
    NoticeRow,
    UserRow,
)
from xiaodai.notify.basics import NoticeError
from xiaodai.notify.deciding import decide_notice, outbox_view
from xiaodai.notify.reminder_policy import (
    NoticePolicy,
    PolicyError,
    default_policy,
)


def enqueue_notice(
    session: Session,
    borrower_id: int,
    kind: str,
    payload: Mapping[str, Any],
    *,
    business_date: date,
    dedupe_key: str | None = None,
    loan_id: int | None = None,
    as_of: datetime | None = None,
    policy: NoticePolicy | None = None,
) -> dict[str, Any]:
    """Record that ``borrower_id`` is owed a ``kind`` notice (once per ``dedupe_key``; default
    ``<kind>:<borrower>:<business date>``). With ``as_of`` it is decided at once (outbox rows written,
    allowed ones queued for the sender); without, the next ``drain`` decides it. Other domains call this,
    e.g. a credit line's limit change: ``enqueue_notice(s, 7, "limit_decrease", {"old_limit": "20000.00",
    "new_limit": "10000.00", "reason": "BUREAU_DETERIORATION"}, business_date=day, as_of=now)``."""
    chosen = policy or default_policy()
    try:
        rule = chosen.kind(kind)
    except PolicyError as exc:
        raise NoticeError(str(exc)) from None
    user = session.get(UserRow, borrower_id)
    if user is None or user.kind != "borrower":
        raise NoticeError(f"borrower {borrower_id} does not exist")
    if loan_id is not None:
        loan = session.get(LoanRow, loan_id)
        if loan is None or loan.borrower_id != borrower_id:
            raise NoticeError(f"loan {loan_id} is not borrower {borrower_id}'s")
    full = {"loan_id": loan_id, **payload} if loan_id is not None else dict(payload)
    try:
        chosen.render(rule, "zh", full)  # refuse a payload the template cannot use, before storing it
        chosen.render(rule, "en", full)
    except PolicyError as exc:
        raise NoticeError(str(exc)) from None
    key = dedupe_key or f"{kind}:{borrower_id}:{business_date.isoformat()}"
    row = session.execute(select(NoticeRow).where(NoticeRow.dedupe_key == key)).scalar_one_or_none()
    created = row is None
    if row is None:
        row = NoticeRow(
            dedupe_key=key,
            borrower_id=borrower_id,
            loan_id=loan_id,
            kind=kind,
            category=rule.category.value,
            business_date=business_date,
            payload_json=json.dumps(full, ensure_ascii=False, sort_keys=True),
            status="open",
        )
        session.add(row)
        session.flush()
    decisions = decide_notice(session, row, as_of=as_of, policy=chosen) if as_of is not None else []
    return {**notice_view(row), "created": created, "decisions": decisions}


def notice_view(row: NoticeRow) -> dict[str, Any]:
    return {
        "notice_id": row.id,
        "dedupe_key": row.dedupe_key,
        "borrower_id": row.borrower_id,
        "loan_id": row.loan_id,
        "kind": row.kind,
        "category": row.category,
        "business_date": row.business_date.isoformat(),
        "status": row.status,
        "reason": row.reason,
    }


def day_report(session: Session, *, day: date) -> dict[str, Any]:
    """The business date's notices by status, and every decision on them by reason."""
    statuses = dict(
        session.execute(
            select(NoticeRow.status, func.count())
            .where(NoticeRow.business_date == day)
            .group_by(NoticeRow.status)
        ).all()
    )
    reasons = dict(
        session.execute(
            select(NoticeOutboxRow.reason, func.count())
            .join(NoticeRow, NoticeRow.id == NoticeOutboxRow.notice_id)
            .where(NoticeRow.business_date == day)
            .group_by(NoticeOutboxRow.reason)
        ).all()
    )
    return {
        "notices": {str(k): int(v) for k, v in sorted(statuses.items())},
        "decisions_by_reason": {str(k): int(v) for k, v in sorted(reasons.items())},
    }


def notices_for(
    session: Session, *, day: date | None = None, borrower_id: int | None = None
) -> list[dict[str, Any]]:
    query = select(NoticeRow).order_by(NoticeRow.id)
    if day is not None:
        query = query.where(NoticeRow.business_date == day)
    if borrower_id is not None:
        query = query.where(NoticeRow.borrower_id == borrower_id)
    notices = list(session.execute(query).scalars())
    rows: dict[int, list[dict[str, Any]]] = {}
    if notices:
        for r in session.execute(
            select(NoticeOutboxRow)
            .where(NoticeOutboxRow.notice_id.in_([n.id for n in notices]))
            .order_by(NoticeOutboxRow.id)
        ).scalars():
            rows.setdefault(r.notice_id, []).append(outbox_view(r))
    return [{**notice_view(n), "decisions": rows.get(n.id, [])} for n in notices]
