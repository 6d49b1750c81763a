"""Posting journal entries and re-deriving balances from them (shell)."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import Connection, func, insert, select, text
from sqlalchemy.orm import Session

from xiaodai.db.driver import DriverStatement, fetch_rows
from xiaodai.db.tables import JournalEntryRow, LoanRow, PostingRow
from xiaodai.ledger.chart import Account
from xiaodai.ledger.journal import JournalEntry, with_commitment
from xiaodai.metrics import count_payments

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
# PostgreSQL: entries and their postings in one statement (one round trip, one statement's Python). Entries
# are inserted in the order given and postings in the order of their legs, entry after entry, so that every
# id is the one the two statements per entry used elsewhere give. ``{also}``: more data-modifying ``WITH``
# items of the caller (``insert_entries``).
_PG_ENTRIES = """
WITH entry AS (
    INSERT INTO journal_entries (business_date, event, idempotency_key, loan_id, reverses_id, memo)
    SELECT e.business_date, e.event, e.idempotency_key, e.loan_id, e.reverses_id, e.memo
    FROM ROWS FROM (
        json_to_recordset(CAST(:entries AS JSON)) AS (
            business_date DATE, event VARCHAR, idempotency_key VARCHAR, loan_id BIGINT, reverses_id BIGINT,
            memo TEXT
        )
    ) WITH ORDINALITY AS e(business_date, event, idempotency_key, loan_id, reverses_id, memo, n)
    ORDER BY e.n
    RETURNING id, idempotency_key
), legs AS (
    INSERT INTO postings (entry_id, account, loan_id, amount_fen)
    SELECT entry.id, leg.account, leg.loan_id, leg.amount_fen
    FROM ROWS FROM (
        json_to_recordset(CAST(:legs AS JSON)) AS (
            idempotency_key VARCHAR, account VARCHAR, loan_id BIGINT, amount_fen BIGINT
        )
    ) WITH ORDINALITY AS leg(idempotency_key, account, loan_id, amount_fen, n)
    JOIN entry ON entry.idempotency_key = leg.idempotency_key
    ORDER BY leg.n
){also}
SELECT id FROM entry ORDER BY id
"""
STATEMENTS_KEPT = 1024
_PG_STATEMENTS: dict[str, DriverStatement] = {}  # per ``also``


def pg_entries(
    entries: Sequence[JournalEntry], *, also: str = "", params: Mapping[str, Any] | None = None
) -> tuple[DriverStatement, dict[str, Any]]:
    """PostgreSQL: the one statement that inserts ``entries`` and their postings (and ``also``'s items) and
    its parameters; it returns the entries' ids in order (``insert_entries`` runs it on a session's
    connection, ``api.loop_repay`` on the driver's own)."""
    statement = _PG_STATEMENTS.get(also)
    if statement is None:
        if len(_PG_STATEMENTS) >= STATEMENTS_KEPT:  # a bound on memory; shapes are few in practice
            _PG_STATEMENTS.clear()
        statement = _PG_STATEMENTS.setdefault(
            also, DriverStatement(text(_PG_ENTRIES.replace("{also}", also)))
        )
    # Entries and legs as two JSON documents: one text parameter each is less Python than ten arrays.
    values: dict[str, Any] = {
        "entries": json.dumps(
            [
                {
                    "business_date": e.business_date.isoformat(),
                    "event": e.event,
                    "idempotency_key": e.idempotency_key,
                    "loan_id": e.loan_id,
                    "reverses_id": e.reverses,
                    "memo": e.memo,
                }
                for e in entries
            ]
        ),
        "legs": json.dumps(
            [
                {
                    "idempotency_key": e.idempotency_key,
                    "account": p.account.value,
                    "loan_id": p.loan_id,
                    "amount_fen": p.amount_fen,
                }
                for e in entries
                for p in e.postings
            ]
        ),
    }
    if params:
        values.update(params)
    return statement, values


def insert_entries(
    connection: Connection,
    entries: Sequence[JournalEntry],
    *,
    also: str = "",
    params: Mapping[str, Any] | None = None,
) -> list[int]:
    """Insert ``entries`` and their postings, in order; returns their ids. Balances are not moved.

    On PostgreSQL this is one statement for all of them; ``also`` adds the caller's own data-modifying
    ``WITH`` items to it (``", name AS (UPDATE …)"``, with their ``params``), so that a command writes its
    journal and its rows in one round trip. Elsewhere each entry is ``INSERT … RETURNING id`` and one
    executemany of its postings, and ``also`` must be empty (the caller runs its own statements).
    """
    count_payments(connection, (e.event for e in entries))  # the metric moves if and when this commits
    if connection.dialect.name == "postgresql":
        statement, values = pg_entries(entries, also=also, params=params)
        return [row[0] for row in fetch_rows(connection, statement, values)]  # the driver's: a hot statement
    if also:
        raise ValueError("extra WITH items are for PostgreSQL only")
    ids = []
    for entry in entries:
        entry_id: int = connection.execute(
            _INSERT_ENTRY,
            {
                "business_date": entry.business_date,
                "event": entry.event,
                "idempotency_key": entry.idempotency_key,
                "loan_id": entry.loan_id,
                "reverses_id": entry.reverses,
                "memo": entry.memo,
            },
        ).scalar_one()
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
        ids.append(entry_id)
    return ids


def move_balances(loan: LoanBalances, entry: JournalEntry) -> None:
    """Move the loan's stored balances by the entry's postings on the loan's receivable and overpayment
    accounts (the cache of the journal that ``check`` verifies)."""
    for posting in entry.postings:
        if posting.loan_id == loan.id and posting.account in LOAN_COLUMNS:
            column, sign = LOAN_COLUMNS[posting.account]
            setattr(loan, column, getattr(loan, column) + sign * posting.amount_fen)


def post(session: Session, entry: JournalEntry, *, loan: LoanBalances | None = None) -> int:
    """Insert the entry and its postings (``insert_entries``); move the loan's stored balances by the same
    amounts.

    The rows go straight to the session's connection, in the caller's transaction, without a flush: they
    are in the database when this returns, and nothing else pending in the session is written. The loan's
    balances change on ``loan`` only (an ORM row: written by the session's next flush; a servicing ``Loan``
    record: by ``servicing.loans.save``).

    A loan drawn on a credit line (``line_id``) also moves the line's off-balance-sheet commitment by the
    principal it moves (``journal.with_commitment``).
    """
    if loan is not None and getattr(loan, "line_id", None) is not None:
        entry = with_commitment(entry, loan.id)
    (entry_id,) = insert_entries(session.connection(), [entry])
    if loan is not None:
        move_balances(loan, entry)
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
