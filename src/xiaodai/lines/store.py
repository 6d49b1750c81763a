"""Reading a credit line: the line rows, the borrower's open line, the outstanding principal drawn on it and
the principal reserved by drawdowns whose payout waits for the channel."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from xiaodai.db.tables import (
    CreditLineRow,
    LoanRow,
    UserRow,
)
from xiaodai.lines.limit import (
    LineError,
    LineState,
)
from xiaodai.money.money import Money
from xiaodai.servicing.lifecycle import LoanState

OFFER_DAYS = 30  # an increase offer lapses after this many days
PLANS = ("instalment", "daily")


class LineNotFoundError(LineError):
    status = 404

    def __init__(self, message: str = "credit line not found") -> None:
        super().__init__(message, "LINE_NOT_FOUND")


def yuan(fen: int) -> str:
    return Money.from_minor(fen).to_json()


# ---------------------------------------------------------------- reading


def outstanding_fen(session: Session, line_id: int) -> int:
    total = session.execute(
        select(func.coalesce(func.sum(LoanRow.principal_outstanding_fen), 0)).where(
            LoanRow.line_id == line_id
        )
    ).scalar_one()
    return int(total)


def reserved_fen(session: Session, line_id: int) -> int:
    """Principal of the line's drawdowns signed but not yet paid out (the payout is pending at the channel):
    not drawn (nothing is posted until the payout settles) but not available to draw either."""
    total = session.execute(
        select(func.coalesce(func.sum(LoanRow.principal_fen), 0)).where(
            LoanRow.line_id == line_id, LoanRow.state == LoanState.SIGNED.value
        )
    ).scalar_one()
    return int(total)


def open_line_of(session: Session, user_id: int, *, lock: bool = False) -> CreditLineRow | None:
    query = (
        select(CreditLineRow)
        .where(CreditLineRow.borrower_id == user_id, CreditLineRow.state != LineState.CLOSED.value)
        .order_by(CreditLineRow.id.desc())
    )
    if lock:
        query = query.with_for_update()
    return session.execute(query).scalars().first()


def line_row(session: Session, line_id: int, *, lock: bool = True) -> CreditLineRow:
    query = select(CreditLineRow).where(CreditLineRow.id == line_id)
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    row = session.execute(query).scalar_one_or_none()
    if row is None:
        raise LineNotFoundError(f"credit line {line_id} does not exist")
    return row


def own_line(session: Session, user: UserRow, *, lock: bool = False) -> CreditLineRow:
    row = open_line_of(session, user.id, lock=lock)
    if row is None:
        raise LineNotFoundError("you have no open credit line")
    return row
