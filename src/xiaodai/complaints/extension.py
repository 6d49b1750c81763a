"""Extending a complaint's deadline (shell): the extension is an event on the regulatory clock, which decides
whether it is valid (CN: ``complex_to_30d`` needs notice to the complainant; ``special_plus_30d`` also a
senior approval; made or notified after the deadline then in force: void). Recorded either way, audited."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from xiaodai.audit.trail import record
from xiaodai.complaints.service import ComplaintError, _add_event, get, sla


def extend(
    session: Session,
    *,
    public_id: str,
    at: datetime,
    kind: str,
    reason: str,
    approved_by: str | None = None,
    notified_at: datetime | None = None,
    officer: str = "system",
) -> dict[str, Any]:
    """Record an extension; returns the clock with the deadline now in force (``void`` reasons if any)."""
    row = get(session, public_id)
    if row.status == "closed":
        raise ComplaintError("already closed")
    if not reason.strip():
        raise ComplaintError("an extension needs its reason")
    if at.tzinfo is None or (notified_at is not None and notified_at.tzinfo is None):
        raise ComplaintError("extension times need a UTC offset")
    _add_event(
        session,
        row,
        {
            "type": "extension",
            "at": at.isoformat(),
            "kind": kind,
            "reason": reason,
            "approved_by": approved_by,
            "complainant_notified_at": notified_at.isoformat() if notified_at else None,
        },
    )
    clock = sla(session, row, at)
    record(
        session,
        actor=officer,
        action="complaint-extension",
        subject=f"complaint:{row.public_id}",
        reason=kind[:60],
        payload={"approved_by": approved_by, "regulatory_deadline": clock["regulatory_deadline"]},
        version=f"sla:{clock.get('profile')}/{clock.get('profile_version')}",
    )
    return {"complaint_id": row.public_id, "sla": clock}
