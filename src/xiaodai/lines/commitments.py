"""The ledger check of credit lines: every line's undrawn commitment re-derived from the journal against
limit − outstanding principal."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from xiaodai.db.tables import (
    CreditLineEventRow,
    CreditLineRow,
    LoanRow,
    PostingRow,
)
from xiaodai.ledger import service as ledger
from xiaodai.ledger.chart import Account
from xiaodai.lines.limit import (
    LineState,
)

# ---------------------------------------------------------------- ledger check


def check_commitments(session: Session) -> list[ledger.Difference]:
    """Every line's undrawn commitment, re-derived from the journal (its events' entries and its
    drawdowns' memo legs), against limit − outstanding principal; the memo accounts net to zero."""
    problems: list[ledger.Difference] = []
    memo = session.execute(
        select(func.coalesce(func.sum(PostingRow.amount_fen), 0)).where(
            PostingRow.account.in_([Account.COMMITMENT_UNDRAWN.value, Account.COMMITMENT_CONTRA.value])
        )
    ).scalar_one()
    if memo:
        problems.append(ledger.Difference(None, "memo accounts do not net to zero", 0, int(memo)))
    derived: dict[int, int] = defaultdict(int)
    for line_id, total in session.execute(
        select(CreditLineEventRow.line_id, func.sum(PostingRow.amount_fen))
        .join(PostingRow, PostingRow.entry_id == CreditLineEventRow.entry_id)
        .where(PostingRow.account == Account.COMMITMENT_UNDRAWN.value)
        .group_by(CreditLineEventRow.line_id)
    ).all():
        derived[int(line_id)] += int(total)
    for drawn_on_line, moved in session.execute(
        select(LoanRow.line_id, func.sum(PostingRow.amount_fen))
        .join(PostingRow, PostingRow.loan_id == LoanRow.id)
        .where(PostingRow.account == Account.COMMITMENT_UNDRAWN.value, LoanRow.line_id.is_not(None))
        .group_by(LoanRow.line_id)
    ).all():
        derived[int(drawn_on_line or 0)] += int(moved)
    outstanding = {
        int(line_id or 0): int(total or 0)
        for line_id, total in session.execute(
            select(LoanRow.line_id, func.sum(LoanRow.principal_outstanding_fen))
            .where(LoanRow.line_id.is_not(None))
            .group_by(LoanRow.line_id)
        ).all()
    }
    for line in session.execute(select(CreditLineRow)).scalars():
        used = int(outstanding.get(line.id, 0) or 0)
        want = 0 if line.state == LineState.CLOSED.value else line.limit_fen - used
        if derived.get(line.id, 0) != want:
            problems.append(
                ledger.Difference(None, f"line {line.id} undrawn commitment", want, derived.get(line.id, 0))
            )
        if want < 0:
            problems.append(ledger.Difference(None, f"line {line.id} available negative", want, want))
    return problems
