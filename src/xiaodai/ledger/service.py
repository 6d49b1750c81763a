"""Posting journal entries and re-deriving balances from them (shell)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import func, insert, select, text
from sqlalchemy.orm import Session

from xiaodai.db.tables import JournalEntryRow, LoanRow, PostingRow
from xiaodai.ledger.chart import Account
from xiaodai.ledger.journal import JournalEntry

# stored loan balance column ← account; the overpayment liability is stored as a positive amount owed back
LOAN_COLUMNS: dict[Account, tuple[str, int]] = {
    Account.LOAN_PRINCIPAL: ("principal_outstanding_fen", 1),
    Account.LOAN_INTEREST: ("interest_outstanding_fen", 1),
    Account.LOAN_FEES: ("fees_outstanding_fen", 1),
    Account.LOAN_PENALTIES: ("penalties_outstanding_fen", 1),
    Account.OVERPAYMENT: ("overpayment_fen", -1),
}


class LoanBalances(Protocol):
    """The loan whose stored balances an entry moves: a ``LoanRow`` or a servicing ``Loan`` record."""

    id: int
    principal_outstanding_fen: int
    interest_outstanding_fen: int
    fees_outstanding_fen: int
    penalties_outstanding_fen: int
    overpayment_fen: int


_INSERT_ENTRY = insert(JournalEntryRow).returning(JournalEntryRow.id)
_INSERT_POSTINGS = insert(PostingRow)
# PostgreSQL: the entry and its postings in one statement (one round trip, one statement's Python); the
# postings are inserted in the order of the entry's legs, so their ids are the same as with two statements.
_INSERT_ENTRY_WITH_POSTINGS = text(
    """
    WITH entry AS (
        INSERT INTO journal_entries (business_date, event, idempotency_key, loan_id, reverses_id, memo)
        VALUES (:business_date, :event, :idempotency_key, :loan_id, :reverses_id, :memo)
        RETURNING id
    ), legs AS (
        INSERT INTO postings (entry_id, account, loan_id, amount_fen)
        SELECT entry.id, leg.account, leg.loan_id, leg.amount_fen
        FROM entry,
             unnest(CAST(:accounts AS VARCHAR[]), CAST(:loan_ids AS BIGINT[]), CAST(:amounts AS BIGINT[]))
                 WITH ORDINALITY AS leg(account, loan_id, amount_fen, n)
        ORDER BY leg.n
    )
    SELECT id FROM entry
    """
)


def post(session: Session, entry: JournalEntry, *, loan: LoanBalances | None = None) -> int:
    """Insert the entry and its postings; move the loan's stored balances by the same amounts.

    The rows go straight to the session's connection, in the caller's transaction, without a flush: they
    are in the database when this returns, and nothing else pending in the session is written. On
    PostgreSQL entry and postings are one statement (a data-modifying ``WITH``); elsewhere the entry is
    ``INSERT … RETURNING id`` and its postings one executemany. The loan's balances change on ``loan``
    only (an ORM row: written by the session's next flush; a servicing ``Loan`` record: by its ``save``).
    """
    connection = session.connection()
    values: dict[str, Any] = {
        "business_date": entry.business_date,
        "event": entry.event,
        "idempotency_key": entry.idempotency_key,
        "loan_id": entry.loan_id,
        "reverses_id": entry.reverses,
        "memo": entry.memo,
    }
    entry_id: int
    if connection.dialect.name == "postgresql":
        values["accounts"] = [p.account.value for p in entry.postings]
        values["loan_ids"] = [p.loan_id for p in entry.postings]
        values["amounts"] = [p.amount_fen for p in entry.postings]
        entry_id = connection.execute(_INSERT_ENTRY_WITH_POSTINGS, values).scalar_one()
    else:
        entry_id = connection.execute(_INSERT_ENTRY, values).scalar_one()
        connection.execute(
            _INSERT_POSTINGS,
            [
                {
                    "entry_id": entry_id,
                    "account": p.account.value,
                    "loan_id": p.loan_id,
                    "amount_fen": p.amount_fen,
                }
                for p in entry.postings
            ],
        )
    if loan is not None:
        for posting in entry.postings:
            if posting.loan_id == loan.id and posting.account in LOAN_COLUMNS:
                column, sign = LOAN_COLUMNS[posting.account]
                setattr(loan, column, getattr(loan, column) + sign * posting.amount_fen)
    return entry_id


@dataclass(frozen=True, slots=True)
class Difference:
    loan_id: int | None
    what: str
    stored: int
    derived: int


def check(session: Session) -> list[Difference]:
    """Re-derive every loan's balances and the trial balance from the journal; list every difference."""
    problems: list[Difference] = []
    unbalanced = session.execute(
        select(PostingRow.entry_id, func.sum(PostingRow.amount_fen))
        .group_by(PostingRow.entry_id)
        .having(func.sum(PostingRow.amount_fen) != 0)
    ).all()
    problems.extend(
        Difference(None, f"entry {entry_id} does not net to zero", 0, int(total))
        for entry_id, total in unbalanced
    )
    trial = session.execute(select(func.coalesce(func.sum(PostingRow.amount_fen), 0))).scalar_one()
    if trial != 0:
        problems.append(Difference(None, "trial balance", 0, int(trial)))
    derived: dict[int, dict[str, int]] = defaultdict(dict)
    rows = session.execute(
        select(PostingRow.loan_id, PostingRow.account, func.sum(PostingRow.amount_fen))
        .where(PostingRow.loan_id.is_not(None))
        .group_by(PostingRow.loan_id, PostingRow.account)
    ).all()
    for loan_id, account_name, total in rows:
        derived[int(loan_id or 0)][account_name] = int(total)
    columns = [getattr(LoanRow, column) for column, _ in LOAN_COLUMNS.values()]
    for loan_id, *stored in session.execute(select(LoanRow.id, *columns)).all():
        balances = derived.get(loan_id, {})
        for (account, (column, sign)), value in zip(LOAN_COLUMNS.items(), stored, strict=True):
            want = sign * balances.get(account.value, 0)
            if value != want:
                problems.append(Difference(loan_id, column, int(value), want))
            if account is not Account.OVERPAYMENT and want < 0:
                problems.append(Difference(loan_id, f"{column} negative", int(value), want))
    return problems


def trial_balance(session: Session) -> dict[str, int]:
    rows = session.execute(
        select(PostingRow.account, func.sum(PostingRow.amount_fen))
        .group_by(PostingRow.account)
        .order_by(PostingRow.account)
    ).all()
    return {account: int(total) for account, total in rows}
