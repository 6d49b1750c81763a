"""Step 3 of the debit batch: book a chunk of answers in one transaction.

The chunk's attempts still unanswered are locked and get their outcome; the money that moved is allocated —
the common case by the columnar kernel (``fastsql`` inside PostgreSQL, ``fastpath`` in polars on SQLite),
every other debit by ``servicing.service.book_repayment`` (the function ``servicing.repay`` runs, on the
same records, per loan in attempt order) — and written in bulk (``bulk_sql``): journal entries and
postings by ``COPY`` on PostgreSQL, loans, instalments and attempts by ``UPDATE … FROM`` a staged table.
Loans are locked (``FOR UPDATE``, in id order); instalments are written only if their ``billed`` flag is
still what was read (end of day bills without the loan lock), else ``ChunkConflictError`` and the chunk
is booked again. On PostgreSQL the foreign keys of what the chunk writes are checked once for the set
(``bulk_sql.references_in_bulk`` / ``check_references``) instead of by a trigger per row, when allowed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, NamedTuple

import polars as pl
from sqlalchemy import Connection, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from xiaodai.db.tables import InstallmentRow, LoanRow
from xiaodai.db.tables.payments import DebitAttemptRow
from xiaodai.ledger.journal import JournalEntry
from xiaodai.payments.bulk_sql import (
    ENTRY_SCHEMA,
    POSTING_SCHEMA,
    SQLITE_IN,
    ChunkConflictError,
    check_references,
    entry_frames,
    insert_entry_frames,
    reference_marks,
    references_in_bulk,
    references_per_row,
    select_in,
    stage,
)
from xiaodai.payments.channel import DebitResponse, DebitStatus
from xiaodai.payments.debit_send import Claimed
from xiaodai.payments.fastpath import INSTALLMENT_COLUMNS, LOAN_COLUMNS, FastBooked, book_fast, read_frame
from xiaodai.payments.fastsql import MOVED_SCHEMA, book_in_sql
from xiaodai.servicing.errors import ServicingError
from xiaodai.servicing.loans import INSTALLMENT_FIELDS, LOAN_FIELDS, Installment, Loan, loan_values
from xiaodai.servicing.service import book_repayment

__all__ = ["ChunkConflictError", "book", "retrying"]

WORK_MEM = "64MB"  # this transaction's sorts and hashes of a chunk stay in memory (default 4 MB spills)
RETRYABLE = ("40001", "40P01")  # serialization failure, deadlock


class Moved(NamedTuple):  # a tuple: no Python ``__init__`` per debit; its fields in ``MOVED_SCHEMA``'s order
    attempt_id: int
    channel_ref: str
    loan_id: int
    installment_id: int
    settled_fen: int
    on: date


_MOVED_MONEY = frozenset(s for s in DebitStatus if s.moved_money)  # a set look-up, not a property per debit
_LOANS = LoanRow.__table__.c
_INSTALLMENTS = InstallmentRow.__table__.c
_ATTEMPTS = DebitAttemptRow.__table__.c


def _load(
    connection: Connection, loan_ids: Sequence[int]
) -> tuple[dict[int, Loan], dict[int, list[Installment]]]:
    loans: dict[int, Loan] = {}
    query = select(*(_LOANS[name] for name in LOAN_FIELDS)).order_by(_LOANS.id)
    for row in select_in(connection, query, _LOANS.id, loan_ids, lock=True):
        loan = Loan(*row)
        loan.loaded = tuple(row)
        loans[loan.id] = loan
    rows: dict[int, list[Installment]] = defaultdict(list)
    query = (
        select(_INSTALLMENTS.loan_id, *(_INSTALLMENTS[name] for name in INSTALLMENT_FIELDS))
        .where(_INSTALLMENTS.active.is_(True))
        .order_by(_INSTALLMENTS.loan_id, _INSTALLMENTS.period, _INSTALLMENTS.schedule_version)
    )
    for loan_id, *row in select_in(connection, query, _INSTALLMENTS.loan_id, loan_ids):
        record = Installment(*row)
        record.loaded = tuple(row)
        rows[loan_id].append(record)
    return loans, rows


@dataclass(slots=True)
class Booked:
    entries: list[JournalEntry]
    entry_of: dict[int, int]  # attempt id → index in entries (of its repayment entry)
    refused: dict[int, str]  # attempt id → why its money could not be booked (left for reconciliation)
    loans: list[Loan]
    installments: list[Installment]


def allocate_chunk(session: Session, moved: Sequence[Moved]) -> Booked:
    """Book every debit that moved money on the loans' records, per loan in attempt order, with the servicing
    rules (``book_repayment``). Nothing is written here."""
    connection = session.connection()
    loans, rows = _load(connection, sorted({m.loan_id for m in moved}))
    entries: list[JournalEntry] = []
    entry_of: dict[int, int] = {}
    refused: dict[int, str] = {}
    for m in sorted(moved, key=lambda m: (m.loan_id, m.attempt_id)):
        loan = loans.get(m.loan_id)
        if loan is None:
            refused[m.attempt_id] = f"loan {m.loan_id} does not exist"
            continue
        try:
            journal, _ = book_repayment(
                session,
                loan,
                rows[m.loan_id],
                amount_fen=m.settled_fen,
                on=m.on,
                key=f"repay:{m.channel_ref}",
            )
        except ServicingError as exc:  # nothing was moved on the records (checked before any change)
            refused[m.attempt_id] = str(exc)
            continue
        loan.version += 1  # as ``loans.save`` does once per repayment (the next one sees it)
        entries.extend(journal)
        entry_of[m.attempt_id] = len(entries) - 1
    changed_loans = [loan for loan in loans.values() if loan_values(loan) != loan.loaded]
    changed_rows = [r for rs in rows.values() for r in rs if _installment_now(r) != r.loaded]
    return Booked(entries, entry_of, refused, changed_loans, changed_rows)


def _installment_now(row: Installment) -> tuple[Any, ...]:
    return tuple(getattr(row, name) for name in INSTALLMENT_FIELDS)


LOAN_WRITTEN = (
    "state",
    "principal_outstanding_fen",
    "interest_outstanding_fen",
    "fees_outstanding_fen",
    "penalties_outstanding_fen",
    "overpayment_fen",
    "paid_total_fen",
    "dpd",
    "bucket",
    "closed_on",
    "version",
)
INSTALLMENT_WRITTEN = ("billed", "paid_principal_fen", "paid_interest_fen", "paid_fee_fen", "paid_on")
_INSTALLMENT_BILLED = INSTALLMENT_FIELDS.index("billed")

LOAN_SCHEMA = {
    "id": pl.Int64,
    "state": pl.String,
    "principal_outstanding_fen": pl.Int64,
    "interest_outstanding_fen": pl.Int64,
    "fees_outstanding_fen": pl.Int64,
    "penalties_outstanding_fen": pl.Int64,
    "overpayment_fen": pl.Int64,
    "paid_total_fen": pl.Int64,
    "dpd": pl.Int64,
    "bucket": pl.String,
    "closed_on": pl.Date,
    "version": pl.Int64,
}
INSTALLMENT_SCHEMA = {
    "id": pl.Int64,
    "was_billed": pl.Boolean,
    "billed": pl.Boolean,
    "paid_principal_fen": pl.Int64,
    "paid_interest_fen": pl.Int64,
    "paid_fee_fen": pl.Int64,
    "paid_on": pl.Date,
}
ATTEMPT_SCHEMA = {
    "id": pl.Int64,
    "status": pl.String,
    "settled_fen": pl.Int64,
    "posted_fen": pl.Int64,
    "reason": pl.String,
    "entry_id": pl.Int64,
}


def write_chunk(
    connection: Connection,
    booked: Booked,
    fast: FastBooked | None,
    outcomes: Sequence[tuple[int, DebitResponse]],
    *,
    in_sql: bool = False,
) -> dict[int, int]:
    """Write the chunk: entries, loans, instalments (guarded on ``billed``), attempts. Returns attempt id →
    entry id of the debits posted by ``booked`` and ``fast``. ``in_sql``: ``fastsql`` has booked debits of
    the chunk already (table ``batch_fast``): their attempts take its entry ids."""
    k_entries, k_postings = entry_frames(booked.entries)
    attempt_of = {k: attempt for attempt, k in booked.entry_of.items()}
    k_entries = k_entries.with_columns(
        attempt_id=pl.Series([attempt_of.get(k) for k in range(len(booked.entries))], dtype=pl.Int64)
    )
    entries, postings = [k_entries], [k_postings]
    loans = [
        pl.DataFrame(
            [(loan.id, *(getattr(loan, c) for c in LOAN_WRITTEN)) for loan in booked.loans],
            schema=LOAN_SCHEMA,
            orient="row",
        )
    ]
    rows = [
        pl.DataFrame(
            [
                (r.id, r.loaded[_INSTALLMENT_BILLED], *(getattr(r, c) for c in INSTALLMENT_WRITTEN))
                for r in booked.installments
            ],
            schema=INSTALLMENT_SCHEMA,
            orient="row",
        )
    ]
    if fast is not None and fast.attempt_ids:
        offset = len(booked.entries)
        entries.append(fast.entries.with_columns(pl.col("seq") + offset).select(list(ENTRY_SCHEMA)))
        postings.append(fast.postings.with_columns(pl.col("seq") + offset).select(list(POSTING_SCHEMA)))
        loans.append(fast.loans.select(list(LOAN_SCHEMA)).cast(LOAN_SCHEMA))  # type: ignore[arg-type]
        rows.append(fast.installments.select(list(INSTALLMENT_SCHEMA)).cast(INSTALLMENT_SCHEMA))  # type: ignore[arg-type]
    all_entries = pl.concat(entries)
    ids = insert_entry_frames(connection, all_entries, pl.concat(postings))
    posted = all_entries.filter(pl.col("attempt_id").is_not_null()).join(ids, on="seq")
    entry_ids = dict(zip(posted["attempt_id"].to_list(), posted["id"].to_list(), strict=True))
    loan_frame, row_frame = pl.concat(loans), pl.concat(rows)
    if loan_frame.height:
        stage(connection, "batch_loans", loan_frame)
        sets = ", ".join(f"{c} = s.{c}" for c in LOAN_WRITTEN)
        done = connection.execute(
            text(f"UPDATE loans SET {sets} FROM batch_loans s WHERE loans.id = s.id")
        ).rowcount
        if done != loan_frame.height:
            raise RuntimeError(f"{done} loans updated of {loan_frame.height}")
    if row_frame.height:
        stage(connection, "batch_installments", row_frame)
        sets = ", ".join(f"{c} = s.{c}" for c in INSTALLMENT_WRITTEN)
        done = connection.execute(
            text(
                f"UPDATE installments SET {sets} FROM batch_installments s"
                " WHERE installments.id = s.id AND installments.billed = s.was_billed"
            )
        ).rowcount
        if done != row_frame.height:
            raise ChunkConflictError(f"{row_frame.height - done} instalments changed under the batch")
    attempt_ids = [attempt_id for attempt_id, _ in outcomes]
    settled = [answer.settled_fen for _, answer in outcomes]
    stage(  # by column: no tuple per attempt
        connection,
        "batch_attempts",
        pl.DataFrame(
            {
                "id": attempt_ids,
                "status": [answer.status.value for _, answer in outcomes],
                "settled_fen": settled,
                "posted_fen": [s if i in entry_ids else 0 for i, s in zip(attempt_ids, settled, strict=True)],
                "reason": [answer.reason for _, answer in outcomes],
                "entry_id": list(map(entry_ids.get, attempt_ids)),
            },
            schema=ATTEMPT_SCHEMA,
        ),
    )
    # the chunk's id range as well: without it the planner, from statistics that lag behind the day's
    # attempts, hash-joins the staged outcomes to a scan of the whole table for every chunk
    span = {"low": min(attempt_ids, default=0), "high": max(attempt_ids, default=-1)}
    if in_sql:
        sets = (
            "status = s.status, settled_fen = s.settled_fen,"
            " posted_fen = CASE WHEN f.attempt_id IS NULL THEN s.posted_fen ELSE s.settled_fen END,"
            " reason = COALESCE(s.reason, debit_attempts.reason),"
            " entry_id = COALESCE(s.entry_id, f.entry_id)"
            " FROM batch_attempts s LEFT JOIN batch_fast f ON f.attempt_id = s.id"
        )
    else:
        sets = (
            "status = s.status, settled_fen = s.settled_fen,"
            " posted_fen = s.posted_fen, reason = COALESCE(s.reason, debit_attempts.reason),"
            " entry_id = s.entry_id"
            " FROM batch_attempts s"
        )
    update = (
        f"UPDATE debit_attempts SET {sets}"
        " WHERE debit_attempts.id = s.id AND debit_attempts.id BETWEEN :low AND :high"
    )
    if connection.dialect.name == "postgresql":  # the outcomes, and the final ones leave debit_in_flight
        connection.execute(
            text(
                f"WITH done AS ({update} RETURNING debit_attempts.id, debit_attempts.status)"
                " DELETE FROM debit_in_flight f USING done WHERE f.attempt_id = done.id"
                " AND f.attempt_id BETWEEN :low AND :high AND done.status <> 'pending'"
            ),
            span,
        )
    else:
        connection.execute(text(update), span)
        connection.execute(
            text(
                "DELETE FROM debit_in_flight WHERE attempt_id IN (SELECT d.id FROM debit_attempts d"
                " JOIN batch_attempts s ON s.id = d.id WHERE d.status <> 'pending')"
            )
        )
    if connection.dialect.name != "postgresql":
        for name in ("batch_loans", "batch_installments", "batch_attempts"):
            connection.execute(text(f"DROP TABLE IF EXISTS temp.{name}"))
    return entry_ids


def _moved_frame(moved: Sequence[Moved]) -> pl.DataFrame:
    return pl.DataFrame(moved, schema=MOVED_SCHEMA, orient="row")


def _fast(connection: Connection, moved: Sequence[Moved], on: date) -> FastBooked | None:
    """The columnar path for the debits it covers (``payments.fastpath``); loans already locked."""
    if not moved:
        return None
    moved_frame = _moved_frame(moved).rename({"on_date": "on"})
    loan_ids = sorted({m.loan_id for m in moved})
    loans, rows = [], []
    step = len(loan_ids) if connection.dialect.name == "postgresql" else SQLITE_IN
    for start in range(0, len(loan_ids), step):
        part = loan_ids[start : start + step]
        if connection.dialect.name == "postgresql":
            where, params = "IN (SELECT unnest(CAST('{" + ",".join(map(str, part)) + "}' AS BIGINT[])))", {}
        else:
            params = {f"i{k}": v for k, v in enumerate(part)}
            where = "IN (" + ", ".join(f":{name}" for name in params) + ")"
        loans.append(
            read_frame(
                connection,
                f"SELECT {', '.join(LOAN_COLUMNS)} FROM loans WHERE id {where}",
                LOAN_COLUMNS,
                params,
            )
        )
        rows.append(
            read_frame(
                connection,
                f"SELECT {', '.join(INSTALLMENT_COLUMNS)} FROM installments WHERE active AND loan_id {where}",
                INSTALLMENT_COLUMNS,
                params,
            )
        )
    return book_fast(moved_frame, pl.concat(loans), pl.concat(rows), on)


def book(
    session: Session,
    *,
    claimed: Sequence[Claimed],
    answers: Sequence[DebitResponse],
    on: date,
    unanswered_only: bool = True,
    columnar: bool = True,
) -> tuple[dict[str, int], list[dict[str, Any]]]:
    """One transaction: the chunk's attempts that are still unanswered (locked) get their outcome; the money
    that moved is booked (``columnar``: the common case by ``fastpath``, the rest by ``book_repayment``).
    Returns counts and the refused bookings. ``unanswered_only=False``: any pending attempt (a timed-out
    one whose outcome the settlement file gives; its reason is kept)."""
    connection = session.connection()
    if connection.dialect.name == "postgresql" and WORK_MEM:
        connection.execute(text(f"SET LOCAL work_mem = '{WORK_MEM}'"))
        connection.execute(text("SET LOCAL jit = off"))  # compiling a chunk's plans costs more than it saves
    # foreign keys set-based when allowed (``bulk_sql.references_in_bulk``): the loans the entries reference
    # are locked FOR UPDATE below, the entries the postings and attempts reference are this transaction's
    bulk = references_in_bulk(connection)
    marks = reference_marks(connection) if bulk else None
    by_id = {c.attempt_id: (c, a) for c, a in zip(claimed, answers, strict=True)}
    query = select(_ATTEMPTS.id, _ATTEMPTS.installment_id).where(_ATTEMPTS.status == "pending")
    if unanswered_only:
        query = query.where(_ATTEMPTS.reason.is_(None))
    still = {
        int(r[0]): int(r[1]) for r in select_in(connection, query, _ATTEMPTS.id, sorted(by_id), lock=True)
    }
    outcomes = [(i, by_id[i][1]) for i in sorted(still)]
    moved = [
        Moved(i, c.channel_ref, c.loan_id, still[i], a.settled_fen, max(on, c.business_date))
        for i, a in outcomes
        if a.status in _MOVED_MONEY
        for c in (by_id[i][0],)
    ]
    loan_ids = sorted({m.loan_id for m in moved})
    select_in(connection, select(_LOANS.id).order_by(_LOANS.id), _LOANS.id, loan_ids, lock=True)
    in_sql = columnar and bool(moved) and connection.dialect.name == "postgresql"
    fast = None
    if in_sql:  # the common case booked inside PostgreSQL (``fastsql``)
        others = book_in_sql(connection, _moved_frame(moved), on).others
        taken = {m.attempt_id for m in moved if m.attempt_id not in others}
    else:
        fast = _fast(connection, moved, on) if columnar else None
        taken = fast.attempt_ids if fast is not None else set()
    booked = allocate_chunk(session, [m for m in moved if m.attempt_id not in taken])
    write_chunk(connection, booked, fast, outcomes, in_sql=in_sql)
    if marks is not None:
        check_references(connection, marks, [i for i, _ in outcomes])
        references_per_row(connection)
    counts: dict[str, int] = defaultdict(int)
    for _, answer in outcomes:
        counts[answer.status.value] += 1
    counts["posted_fen"] = sum(
        m.settled_fen for m in moved if m.attempt_id in booked.entry_of or m.attempt_id in taken
    )
    counts["answered_elsewhere"] = len(by_id) - len(still)
    counts["columnar"] = len(taken)
    refused = [{"attempt_id": i, "reason": why} for i, why in booked.refused.items()]
    return dict(counts), refused


def retrying(factory: sessionmaker[Session], work: Callable[[Session], Any], tries: int = 3) -> Any:
    """``work`` in a transaction of its own, again (up to ``tries``) after a ``ChunkConflictError``, a
    serialization failure or a deadlock; the last failure is raised."""
    for attempt in range(tries):
        try:
            with factory() as session, session.begin():
                return work(session)
        except (ChunkConflictError, DBAPIError) as exc:
            if isinstance(exc, DBAPIError) and getattr(exc.orig, "sqlstate", None) not in RETRYABLE:
                raise
            if attempt == tries - 1:
                raise
    raise AssertionError("unreachable")
