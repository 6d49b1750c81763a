"""Line events: a limit or state change applied to the line, its memo-ledger entry (the undrawn
commitment) and the borrower's notice (line_notices and the notify channels)."""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from xiaodai.db.tables import (
    CreditLineEventRow,
    CreditLineRow,
    LineNoticeRow,
)
from xiaodai.ledger import service as ledger
from xiaodai.ledger.chart import Account
from xiaodai.ledger.journal import entry
from xiaodai.lines.limit import (
    ChangeKind,
    LimitChange,
    LinePolicy,
    LineState,
)
from xiaodai.lines.store import yuan

# ---------------------------------------------------------------- changes


def record_change(
    session: Session,
    line: CreditLineRow,
    change: LimitChange,
    *,
    on: date,
    actor: str,
    policy: LinePolicy,
    outstanding: int,
    notice_limit_fen: int | None = None,
) -> CreditLineEventRow:
    """Apply ``change`` to the line, append its event, post the commitment's change and write the notice."""
    event = CreditLineEventRow(
        line_id=line.id,
        kind=change.kind.value,
        old_limit_fen=change.old_limit_fen,
        new_limit_fen=change.new_limit_fen,
        old_state=change.old_state.value,
        new_state=change.new_state.value,
        reason=change.reason,
        business_date=on,
        actor=actor[:64],
        policy_version=policy.version,
    )
    session.add(event)
    session.flush()
    # the undrawn commitment is limit − outstanding principal; a closed line commits nothing
    was = 0 if change.old_state is LineState.CLOSED else change.old_limit_fen - outstanding
    now = 0 if change.new_state is LineState.CLOSED else change.new_limit_fen - outstanding
    if change.kind is ChangeKind.GRANT:
        was = 0
    if now != was:
        event.entry_id = ledger.post(
            session,
            entry(
                on,
                f"line-{change.kind.value}",
                f"line-event:{event.id}",
                [(Account.COMMITMENT_UNDRAWN, now - was), (Account.COMMITMENT_CONTRA, was - now)],
            ),
        )
    line.limit_fen = change.new_limit_fen
    line.state = change.new_state.value
    session.add(
        LineNoticeRow(
            line_id=line.id,
            user_id=line.borrower_id,
            event_id=event.id,
            kind=change.kind.value,
            reason=change.reason,
            old_limit_fen=change.old_limit_fen,
            new_limit_fen=change.new_limit_fen if notice_limit_fen is None else notice_limit_fen,
            state=change.new_state.value,
            business_date=on,
        )
    )
    session.flush()
    _send_notice(session, line, change, event, on=on, notice_limit_fen=notice_limit_fen)
    return event


# the changes the borrower is told of through the notice channels (notify/data/notice_policy.json kinds); a
# decrease and a freeze are legal notices (no opt-out), an increase offer is marketing (opt-out honoured)
_NOTICE_KINDS = {
    ChangeKind.INCREASE: "limit_increase",
    ChangeKind.DECREASE: "limit_decrease",
    ChangeKind.FREEZE: "limit_freeze",
    ChangeKind.INCREASE_OFFERED: "limit_increase_offer",
}


def _send_notice(
    session: Session,
    line: CreditLineRow,
    change: LimitChange,
    event: CreditLineEventRow,
    *,
    on: date,
    notice_limit_fen: int | None,
) -> None:
    """Queue the change's notice for the borrower's channels (SMS, e-mail, app inbox): the notify service
    judges each channel by the contact policy when it drains its queue (``xiaodai notify run``)."""
    kind = _NOTICE_KINDS.get(change.kind)
    if kind is None:
        return
    from xiaodai.notify import enqueue_notice

    new_limit = change.new_limit_fen if notice_limit_fen is None else notice_limit_fen
    enqueue_notice(
        session,
        line.borrower_id,
        kind,
        {
            "old_limit": yuan(change.old_limit_fen),
            "new_limit": yuan(new_limit),
            "reason": change.reason,
        },
        business_date=on,
        dedupe_key=f"line-event:{event.id}",
    )
