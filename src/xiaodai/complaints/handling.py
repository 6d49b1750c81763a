"""A complaint officer's steps between intake and close (shell): assign, attach evidence, extend the clock.

* assign: the complaint gets an owner (a complaint officer or admin); escalations notify them.
* evidence: a note with what was checked (a document, a call, a ledger line), on the complaint's file.
* extension: ``complex_to_30d`` (notice to the complainant) is recorded by the officer; ``special_plus_30d``
  (60 days at most) also needs a senior's approval (上级机构或总行高级管理人员): it is requested, then
  approved by another person holding the admin role — the platform's head-office role, recorded as such so
  that the regulatory clock (``sla``, senior role markers) counts it — and only then becomes the
  ``extension`` event the clock reads. The complainant is notified when the extension takes effect. Every
  step is an audit record.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from xiaodai.audit.trail import record
from xiaodai.complaints.service import ComplaintError, _add_event, _events, get
from xiaodai.db.tables import ComplaintEventRow, UserRow

EXTENSION_KINDS = ("complex_to_30d", "special_plus_30d")
NEEDS_APPROVAL = frozenset({"special_plus_30d"})
MIN_TEXT = 5
HEAD_OFFICE_ROLE = "head_office admin"  # the admin role is the platform's head office (a senior marker)


def _open(session: Session, public_id: str) -> Any:
    row = get(session, public_id)
    if row.status not in ("open", "triage"):
        raise ComplaintError(f"complaint {public_id} is {row.status}: it cannot be changed")
    return row


def assign(session: Session, *, public_id: str, assignee: UserRow, by: UserRow, at: datetime) -> None:
    roles = set(assignee.roles.split(",")) if assignee.kind == "staff" else set()
    if not roles & {"complaint_officer", "admin"}:
        raise ComplaintError("a complaint is assigned to a complaint officer or an admin")
    row = _open(session, public_id)
    before = row.assigned_to
    row.assigned_to = assignee.id
    _add_event(session, row, {"type": "assigned", "at": at.isoformat(), "to": assignee.id, "by": by.id})
    record(
        session,
        actor=f"user:{by.id}",
        action="complaint-assign",
        subject=f"complaint:{row.public_id}",
        reason="ASSIGNED",
        payload={"from": before, "to": assignee.id},
    )


def add_evidence(session: Session, *, public_id: str, text: str, by: UserRow, at: datetime) -> None:
    if len(text.strip()) < MIN_TEXT:
        raise ComplaintError("describe the evidence (5 characters or more)")
    row = _open(session, public_id)
    _add_event(session, row, {"type": "evidence", "at": at.isoformat(), "text": text.strip(), "by": by.id})
    record(
        session,
        actor=f"user:{by.id}",
        action="complaint-evidence",
        subject=f"complaint:{row.public_id}",
        reason="EVIDENCE_ATTACHED",
    )


def request_extension(
    session: Session, *, public_id: str, kind: str, reason: str, by: UserRow, at: datetime
) -> dict[str, Any]:
    """Record an extension (``complex_to_30d``) or ask for one that needs approval (``special_plus_30d``)."""
    if kind not in EXTENSION_KINDS:
        raise ComplaintError(f"unknown extension {kind!r} ({', '.join(EXTENSION_KINDS)})")
    if len(reason.strip()) < MIN_TEXT:
        raise ComplaintError("an extension needs its reason (5 characters or more)")
    row = _open(session, public_id)
    if kind not in NEEDS_APPROVAL:
        _extend(session, row, kind=kind, reason=reason.strip(), approved_by=None, at=at)
        record(
            session,
            actor=f"user:{by.id}",
            action="complaint-extension",
            subject=f"complaint:{row.public_id}",
            reason=kind.upper(),
        )
        return {"status": "extended", "kind": kind}
    request_id = uuid.uuid4().hex[:12]
    _add_event(
        session,
        row,
        {
            "type": "extension_requested",
            "request_id": request_id,
            "kind": kind,
            "reason": reason.strip(),
            "by": by.id,
            "at": at.isoformat(),
        },
    )
    record(
        session,
        actor=f"user:{by.id}",
        action="complaint-extension-requested",
        subject=f"complaint:{row.public_id}",
        reason=kind.upper(),
    )
    return {"status": "pending", "kind": kind, "request_id": request_id}


def pending_extensions(session: Session, *, public_id: str) -> list[dict[str, Any]]:
    row = get(session, public_id)
    events = _events(session, row.id, clock_only=False)
    decided = {e.get("request_id") for e in events if e.get("type") == "extension_decided"}
    return [e for e in events if e.get("type") == "extension_requested" and e["request_id"] not in decided]


def approve_extension(
    session: Session, *, public_id: str, request_id: str, by: UserRow, at: datetime
) -> dict[str, Any]:
    """A second person approves: the extension takes effect now and the complainant is notified now."""
    row = _open(session, public_id)
    wanted = next(
        (e for e in pending_extensions(session, public_id=public_id) if e["request_id"] == request_id), None
    )
    if wanted is None:
        raise ComplaintError(f"no pending extension request {request_id}")
    if wanted["by"] == by.id:
        raise ComplaintError("the person who asked for an extension cannot approve it (four eyes)")
    if by.kind != "staff" or "admin" not in by.roles.split(","):
        raise ComplaintError("only a head-office administrator approves this extension")
    _add_event(
        session,
        row,
        {
            "type": "extension_decided",
            "request_id": request_id,
            "approved": True,
            "by": by.id,
            "at": at.isoformat(),
        },
    )
    _extend(
        session,
        row,
        kind=str(wanted["kind"]),
        reason=str(wanted["reason"]),
        approved_by={"name": f"user:{by.id}", "role": HEAD_OFFICE_ROLE},
        at=at,
    )
    record(
        session,
        actor=f"user:{by.id}",
        action="complaint-extension-approved",
        subject=f"complaint:{row.public_id}",
        reason=str(wanted["kind"]).upper(),
        payload={"requested_by": wanted["by"]},
    )
    return {"status": "extended", "kind": wanted["kind"]}


def _extend(
    session: Session, row: Any, *, kind: str, reason: str, approved_by: dict[str, str] | None, at: datetime
) -> None:
    event: dict[str, Any] = {
        "type": "extension",
        "at": at.isoformat(),
        "kind": kind,
        "reason": reason,
        "complainant_notified_at": at.isoformat(),
    }
    if approved_by:
        event["approved_by"] = approved_by
    _add_event(session, row, event)


def history(session: Session, *, public_id: str) -> list[dict[str, Any]]:
    """Every event on the complaint's file, oldest first (clock events, notes, evidence, assignments)."""
    row = get(session, public_id)
    rows = session.execute(
        select(ComplaintEventRow)
        .where(ComplaintEventRow.complaint_id == row.id)
        .order_by(ComplaintEventRow.id)
    ).scalars()
    return [json.loads(r.event_json) for r in rows]
