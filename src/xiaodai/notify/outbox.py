"""The outbox's sending side and the borrower's inbox: queued rows handed to the sender once, what was
sent shown newest first, read marks."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from xiaodai.db.tables import (
    NoticeOutboxRow,
    NoticeRow,
)
from xiaodai.notify.basics import aware
from xiaodai.notify.senders import Sender, SimulatedSender
from xiaodai.notify.withdrawal import withdraw_paid_reminders

DEFAULT_SENDER: Sender = SimulatedSender()


def dispatch(session: Session, *, sender: Sender | None = None, as_of: datetime, limit: int = 10_000) -> int:
    """Hand queued outbox rows to the sender and mark them sent (PostgreSQL: rows another dispatcher holds
    are skipped, never sent twice). A sender that raises leaves its row queued for the next run."""
    chosen = sender or DEFAULT_SENDER
    withdraw_paid_reminders(session)  # a reminder whose instalment was paid since it was queued is not sent
    rows = list(
        session.execute(
            select(NoticeOutboxRow)
            .where(NoticeOutboxRow.status == "queued")
            .order_by(NoticeOutboxRow.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        ).scalars()
    )
    sent = 0
    for row in rows:
        try:
            ref = chosen.send(
                channel=row.channel, address_ref=row.address_ref, body=row.body, outbox_id=row.id
            )
        except Exception:  # a channel's failure keeps the message queued
            continue
        row.status, row.sent_at, row.sender_ref = "sent", as_of.astimezone(UTC), ref
        sent += 1
    session.flush()
    return sent


def inbox(session: Session, *, borrower_id: int, limit: int = 100) -> list[dict[str, Any]]:
    """What was sent to the borrower, newest first, on every channel (the app inbox keeps them all)."""
    rows = session.execute(
        select(NoticeOutboxRow, NoticeRow.kind, NoticeRow.category)
        .join(NoticeRow, NoticeRow.id == NoticeOutboxRow.notice_id)
        .where(NoticeOutboxRow.borrower_id == borrower_id, NoticeOutboxRow.status == "sent")
        .order_by(NoticeOutboxRow.sent_at.desc(), NoticeOutboxRow.id.desc())
        .limit(limit)
    ).all()
    return [
        {
            "outbox_id": r.id,
            "kind": kind,
            "category": category,
            "channel": r.channel,
            "body": r.body,
            "sent_at": aware(r.sent_at).isoformat() if r.sent_at else None,
            "read": r.read_at is not None,
        }
        for r, kind, category in rows
    ]


def mark_read(session: Session, *, borrower_id: int, as_of: datetime) -> int:
    """Mark every message the inbox shows the borrower (all channels) read; returns how many."""
    rows = session.execute(
        select(NoticeOutboxRow).where(
            NoticeOutboxRow.borrower_id == borrower_id,
            NoticeOutboxRow.status == "sent",
            NoticeOutboxRow.read_at.is_(None),
        )
    ).scalars()
    count = 0
    for row in rows:
        row.read_at = as_of.astimezone(UTC)
        count += 1
    session.flush()
    return count
