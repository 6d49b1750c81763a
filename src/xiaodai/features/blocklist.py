"""The platform blocklist (shell): add, remove, list — every change an audit event with actor and reason.

An entry names a user id, an ID number (stored only as its blind index) or both; removal sets
``removed_at`` (entries are never deleted), so the decision records that read it stay explainable.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from xiaodai.audit.trail import record
from xiaodai.db.tables import BlocklistRow, UserRow
from xiaodai.privacy.crypto import blind_index
from xiaodai.privacy.keys import current_ring


class BlocklistError(ValueError):
    status = 400


def add(
    session: Session, *, user_id: int | None, id_number: str | None, reason: str, actor: str
) -> dict[str, Any]:
    if user_id is None and not id_number:
        raise BlocklistError("name the person: a user id, an ID number, or both")
    if not reason.strip():
        raise BlocklistError("a blocklist entry needs a reason code")
    if user_id is not None and session.get(UserRow, user_id) is None:
        raise BlocklistError(f"user {user_id} does not exist")
    bidx = blind_index(current_ring(), "id_number", id_number) if id_number else None
    row = BlocklistRow(user_id=user_id, id_number_bidx=bidx, reason=reason.strip()[:60], added_by=actor[:100])
    session.add(row)
    session.flush()
    record(
        session,
        actor=actor,
        action="blocklist-add",
        subject=f"blocklist:{row.id}",
        reason=row.reason,
        payload={"user_id": user_id, "by_id_number": bidx is not None},
    )
    return {"id": row.id, "user_id": user_id, "by_id_number": bidx is not None, "reason": row.reason}


def remove(session: Session, *, entry_id: int, reason: str, actor: str) -> dict[str, Any]:
    row = session.get(BlocklistRow, entry_id)
    if row is None or row.removed_at is not None:
        raise BlocklistError(f"blocklist entry {entry_id} does not exist or was already removed")
    if not reason.strip():
        raise BlocklistError("removing an entry needs a reason code")
    row.removed_at = datetime.now(tz=UTC)
    session.flush()
    record(
        session,
        actor=actor,
        action="blocklist-remove",
        subject=f"blocklist:{row.id}",
        reason=reason.strip()[:60],
        payload={"user_id": row.user_id},
    )
    return {"id": row.id, "removed": True}


def entries(session: Session) -> list[dict[str, Any]]:
    rows = session.execute(
        select(BlocklistRow).where(BlocklistRow.removed_at.is_(None)).order_by(BlocklistRow.id)
    ).scalars()
    return [
        {
            "id": r.id,
            "user_id": r.user_id,
            "by_id_number": r.id_number_bidx is not None,
            "reason": r.reason,
            "added_by": r.added_by,
        }
        for r in rows
    ]
