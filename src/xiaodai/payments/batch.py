"""The set-based auto-debit batch: claim, call the channel, book — three steps, the channel outside any lock.

``run_debit_batch(factory, …)`` does for all due instalments of a day what ``service.run_debits`` does one
instalment at a time (the per-row reference, kept for the equivalence test), with the same results:

1. **Claim** (one transaction): one ``INSERT … SELECT`` creates the ``pending`` attempts of the day
   (attempt *n* of an instalment due on ``on − offset[n]``; unique ``channel_ref``; not when the attempt
   exists or the instalment has a debit in flight), in (loan, period) order. Committed before the channel
   is asked, so the channel is never called while we hold a lock.
2. **Send**: the claimed attempts not answered yet (``pending`` with no ``reason``: this day's, or those a
   crash left between claim and booking) are read in chunks, card numbers decrypted, and the channel asked
   with ``debit_batch``. The channel is idempotent per reference, so a rerun after a crash asks again and
   gets the first answer.
3. **Book** (one transaction per chunk): attempts still unanswered are locked and get their outcome;
   the money that moved is allocated by ``servicing.service.book_repayment`` — the very function
   ``servicing.repay`` runs, on the same records, in the same order (per loan, in attempt order), so
   billing, overdue-first allocation and overpayment are the servicing rules, not a copy of them — and
   written in bulk: journal entries (``repay:<channel_ref>``, one per debit, as the per-row path) and
   postings by ``COPY`` on PostgreSQL, loans, instalments and attempts by ``UPDATE … FROM`` a staged table.
   Loans are locked (``FOR UPDATE``, in id order); instalments are written only if their ``billed`` flag
   is still what was read (end of day bills without the loan lock), else the chunk is rolled back and
   booked again.

A crash between 1 and 3 leaves ``pending`` attempts without a reason: the next run of the day sends them
again; a callback or the settlement file (``reconcile``) resolves them too. A debit whose loan can no
longer take a repayment (state changed meanwhile) keeps its outcome with nothing posted: reconciliation
shows that money as missing on our side (suspense), never lost.

Not written by the batch: a ``commands`` row per debit. The attempt row (status under row lock) and the
journal's unique key ``repay:<channel_ref>`` make a debit post at most once.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from functools import partial
from typing import Any

import polars as pl
from sqlalchemy import (
    ColumnElement,
    Connection,
    CursorResult,
    Date,
    Select,
    any_,
    bindparam,
    func,
    insert,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from xiaodai.db.tables import InstallmentRow, JournalEntryRow, LoanRow, PostingRow
from xiaodai.db.tables.payments import DebitAttemptRow, PaymentCardRow
from xiaodai.ledger.journal import JournalEntry
from xiaodai.metrics import count_payments
from xiaodai.payments.channel import DebitRequest, DebitResponse, DebitStatus, PaymentChannel
from xiaodai.payments.debit_policy import RetryPolicy
from xiaodai.payments.fastpath import INSTALLMENT_COLUMNS, LOAN_COLUMNS, FastBooked, book_fast, read_frame
from xiaodai.privacy.crypto import KeyRing, aad, decrypt
from xiaodai.servicing.errors import ServicingError
from xiaodai.servicing.loans import INSTALLMENT_FIELDS, LOAN_FIELDS, Installment, Loan, loan_values
from xiaodai.servicing.service import book_repayment

CHUNK = 20_000
SQLITE_IN = 500  # bound parameters per IN list on SQLite
OPEN_STATES = ("active", "overdue")
REMAINING = (
    "(i.principal_fen + i.interest_fen + i.fee_fen - i.paid_principal_fen - i.paid_interest_fen"
    " - i.paid_fee_fen)"
)


class ChunkConflictError(RuntimeError):
    """An instalment changed under the chunk (end of day billed it): the chunk is booked again."""


# ---------------------------------------------------------------------------------------------- claim


def _attempt_case(policy: RetryPolicy, on: date) -> tuple[str, str, dict[str, date]]:
    dates = {f"d{n}": on - timedelta(days=offset) for n, offset in enumerate(policy.offsets_days)}
    case = "CASE i.due_on " + " ".join(f"WHEN :d{n} THEN {n}" for n in range(len(dates))) + " END"
    listed = ", ".join(f":{name}" for name in dates)
    return case, listed, dates


def _dated(sql: str, names: Iterable[str]) -> Any:
    return text(sql).bindparams(*(bindparam(n, type_=Date) for n in names))


def claim(session: Session, *, on: date, policy: RetryPolicy) -> dict[str, int]:
    """Create the day's ``pending`` attempts (set-based). Returns the counts ``claimed``,
    ``already_done`` (this attempt exists) and ``skipped_in_flight`` (another attempt is pending)."""
    case, listed, dates = _attempt_case(policy, on)
    due = f"""
        FROM installments i
        JOIN loans l ON l.id = i.loan_id
        JOIN payment_cards c ON c.borrower_id = l.borrower_id AND c.is_default
        WHERE i.active AND i.due_on IN ({listed}) AND {REMAINING} > 0
          AND l.state IN ('active', 'overdue') AND c.status = 'bound'
    """
    counted = session.execute(
        _dated(
            f"""SELECT
              COALESCE(SUM(CASE WHEN EXISTS (SELECT 1 FROM debit_attempts d WHERE d.installment_id = i.id
                                             AND d.attempt = {case}) THEN 1 ELSE 0 END), 0),
              COALESCE(SUM(CASE WHEN NOT EXISTS (SELECT 1 FROM debit_attempts d
                                                 WHERE d.installment_id = i.id AND d.attempt = {case})
                                 AND EXISTS (SELECT 1 FROM debit_attempts d WHERE d.installment_id = i.id
                                             AND d.status = 'pending') THEN 1 ELSE 0 END), 0)
            {due}""",
            dates,
        ),
        dates,
    ).one()
    inserted: CursorResult[Any] = session.execute(  # type: ignore[assignment]
        _dated(
            f"""INSERT INTO debit_attempts (channel_ref, loan_id, installment_id, attempt, card_id,
                                            business_date, amount_fen, settled_fen, posted_fen, status)
            SELECT 'debit:' || CAST(i.id AS VARCHAR) || ':' || CAST({case} AS VARCHAR), i.loan_id, i.id,
                   {case}, c.id, :on, {REMAINING}, 0, 0, 'pending'
            {due}
              AND NOT EXISTS (SELECT 1 FROM debit_attempts d WHERE d.installment_id = i.id
                              AND (d.attempt = {case} OR d.status = 'pending'))
            ORDER BY i.loan_id, i.period
            ON CONFLICT (channel_ref) DO NOTHING""",
            [*dates, "on"],
        ),
        {**dates, "on": on},
    )
    return {
        "claimed": int(inserted.rowcount),
        "already_done": int(counted[0]),
        "skipped_in_flight": int(counted[1]),
    }


# ----------------------------------------------------------------------------------------------- send


@dataclass(frozen=True, slots=True)
class Claimed:
    attempt_id: int
    channel_ref: str
    loan_id: int
    amount_fen: int
    business_date: date
    card_id: int
    card_enc: str
    borrower_id: int


def unanswered_span(session: Session, *, on: date) -> tuple[int, int] | None:
    """The lowest and highest id of the attempts of ``on`` not answered yet (``pending``, no reason)."""
    low, high = session.execute(
        select(func.min(DebitAttemptRow.id), func.max(DebitAttemptRow.id)).where(
            DebitAttemptRow.business_date == on,
            DebitAttemptRow.status == "pending",
            DebitAttemptRow.reason.is_(None),
        )
    ).one()
    return None if low is None else (int(low), int(high))


def unanswered(session: Session, *, on: date, low: int, high: int) -> list[Claimed]:
    """Attempts of ``on`` not answered yet with ``low <= id < high`` (a primary-key range: the day's claim
    is one INSERT, so its ids are close together)."""
    rows = session.execute(
        select(
            DebitAttemptRow.id,
            DebitAttemptRow.channel_ref,
            DebitAttemptRow.loan_id,
            DebitAttemptRow.amount_fen,
            DebitAttemptRow.business_date,
            PaymentCardRow.id,
            PaymentCardRow.number_enc,
            PaymentCardRow.borrower_id,
        )
        .join(PaymentCardRow, PaymentCardRow.id == DebitAttemptRow.card_id)
        .where(
            DebitAttemptRow.business_date == on,
            DebitAttemptRow.status == "pending",
            DebitAttemptRow.reason.is_(None),
            DebitAttemptRow.id >= low,
            DebitAttemptRow.id < high,
        )
        .order_by(DebitAttemptRow.id)
    ).all()
    return [Claimed(*r) for r in rows]


def send(
    channel: PaymentChannel, ring: KeyRing, claimed: Sequence[Claimed], numbers: dict[int, str]
) -> list[DebitResponse]:
    """Ask the channel for a chunk (``numbers``: card id → decrypted number, a cache across chunks)."""
    requests = []
    for c in claimed:
        number = numbers.get(c.card_id)
        if number is None:
            number = decrypt(ring, c.card_enc, aad("payment_cards", c.borrower_id, "number"))
            numbers[c.card_id] = number
        requests.append(DebitRequest(c.channel_ref, number, c.amount_fen, c.business_date))
    answers = channel.debit_batch(requests)
    if [a.channel_ref for a in answers] != [r.channel_ref for r in requests]:
        raise RuntimeError("the channel answered a batch out of order or incompletely")
    return answers


# ----------------------------------------------------------------------------------------------- book


@dataclass(frozen=True, slots=True)
class Moved:
    attempt_id: int
    channel_ref: str
    loan_id: int
    installment_id: int
    settled_fen: int
    on: date


_LOANS = LoanRow.__table__.c
_INSTALLMENTS = InstallmentRow.__table__.c
_ATTEMPTS = DebitAttemptRow.__table__.c


def _select_in(
    connection: Connection,
    query: Select[Any],
    column: ColumnElement[Any],
    ids: Sequence[Any],
    *,
    lock: bool = False,
) -> list[Any]:
    """``query`` restricted to ``column`` in ``ids``: one array parameter on PostgreSQL (``= ANY``), lists of
    ``SQLITE_IN`` elsewhere. ``lock``: ``FOR UPDATE`` (PostgreSQL; SQLite serialises writers)."""
    out: list[Any] = []
    pg = connection.dialect.name == "postgresql"

    def where(part: Sequence[Any]) -> ColumnElement[bool]:
        if pg:
            return column == any_(bindparam("ids", list(part), type_=ARRAY(column.type)))
        return column.in_(part)

    chunks = [ids] if pg else [ids[k : k + SQLITE_IN] for k in range(0, len(ids), SQLITE_IN)]
    for part in chunks:
        if part:
            q = query.where(where(part))
            out.extend(connection.execute(q.with_for_update() if lock else q).all())
    return out


def _load(
    connection: Connection, loan_ids: Sequence[int]
) -> tuple[dict[int, Loan], dict[int, list[Installment]]]:
    loans: dict[int, Loan] = {}
    query = select(*(_LOANS[name] for name in LOAN_FIELDS)).order_by(_LOANS.id)
    for row in _select_in(connection, query, _LOANS.id, loan_ids, lock=True):
        loan = Loan(*row)
        loan.loaded = tuple(row)
        loans[loan.id] = loan
    rows: dict[int, list[Installment]] = defaultdict(list)
    query = (
        select(_INSTALLMENTS.loan_id, *(_INSTALLMENTS[name] for name in INSTALLMENT_FIELDS))
        .where(_INSTALLMENTS.active.is_(True))
        .order_by(_INSTALLMENTS.loan_id, _INSTALLMENTS.period, _INSTALLMENTS.schedule_version)
    )
    for loan_id, *row in _select_in(connection, query, _INSTALLMENTS.loan_id, loan_ids):
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


ENTRY_SCHEMA = {
    "seq": pl.Int64,
    "business_date": pl.Date,
    "event": pl.String,
    "idempotency_key": pl.String,
    "loan_id": pl.Int64,
    "memo": pl.String,
    "attempt_id": pl.Int64,
}
POSTING_SCHEMA = {
    "seq": pl.Int64,
    "leg": pl.Int64,
    "account": pl.String,
    "loan_id": pl.Int64,
    "amount_fen": pl.Int64,
}
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
_SQL_TYPES: dict[Any, str] = {
    pl.Int64: "BIGINT",
    pl.String: "VARCHAR(200)",
    pl.Date: "DATE",
    pl.Boolean: "BOOLEAN",
}


def _copy_frame(connection: Connection, table: str, frame: pl.DataFrame) -> None:
    """``COPY table (columns) FROM STDIN`` of the frame, as CSV written by polars."""
    raw = connection.connection.driver_connection
    assert raw is not None
    data = frame.write_csv(include_header=False, null_value="", quote_style="non_numeric")
    columns = ", ".join(frame.columns)
    with (
        raw.cursor() as cursor,
        cursor.copy(f"COPY {table} ({columns}) FROM STDIN WITH (FORMAT csv)") as copy,
    ):
        copy.write(data)


def _sqlite_value(value: Any) -> Any:
    """As SQLAlchemy stores them on SQLite: dates as ISO text, booleans as 0/1."""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return int(value)
    return value


def _stage(connection: Connection, name: str, frame: pl.DataFrame) -> None:
    """A temporary table (dropped at commit on PostgreSQL) holding ``frame``."""
    definition = ", ".join(f"{c} {_SQL_TYPES[t]}" for c, t in frame.schema.items())
    if connection.dialect.name == "postgresql":
        connection.execute(text(f"CREATE TEMP TABLE {name} ({definition}) ON COMMIT DROP"))
        _copy_frame(connection, name, frame)
        connection.execute(text(f"ANALYZE {name}"))
        return
    connection.execute(text(f"DROP TABLE IF EXISTS temp.{name}"))
    connection.execute(text(f"CREATE TEMP TABLE {name} ({definition})"))
    if frame.height:
        marks = ", ".join(f":{c}" for c in frame.columns)
        connection.execute(
            text(f"INSERT INTO {name} VALUES ({marks})"),
            [{k: _sqlite_value(v) for k, v in row.items()} for row in frame.iter_rows(named=True)],
        )


def entry_frames(entries: Sequence[JournalEntry], first_seq: int = 0) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Journal entries as the frames ``insert_entry_frames`` takes (``attempt_id`` null)."""
    rows = [
        (first_seq + k, e.business_date, e.event, e.idempotency_key, e.loan_id, e.memo, None)
        for k, e in enumerate(entries)
    ]
    legs = [
        (first_seq + k, n, p.account.value, p.loan_id, p.amount_fen)
        for k, e in enumerate(entries)
        for n, p in enumerate(e.postings)
    ]
    return (
        pl.DataFrame(rows, schema=ENTRY_SCHEMA, orient="row"),
        pl.DataFrame(legs, schema=POSTING_SCHEMA, orient="row"),
    )


def insert_entry_frames(
    connection: Connection, entries: pl.DataFrame, postings: pl.DataFrame
) -> pl.DataFrame:
    """Insert the entries (by ``seq``) and their postings (by ``seq``, ``leg``); returns (seq, id).
    PostgreSQL: ids drawn from the sequence at once, both tables loaded by ``COPY``; elsewhere one
    ``INSERT … RETURNING id`` per entry and its postings."""
    if entries.height == 0:
        return pl.DataFrame(schema={"seq": pl.Int64, "id": pl.Int64})
    entries = entries.sort("seq")
    count_payments(connection, entries["event"].to_list())
    if connection.dialect.name == "postgresql":
        ids = sorted(
            connection.execute(
                text(
                    "SELECT nextval(pg_get_serial_sequence('journal_entries', 'id'))"
                    " FROM generate_series(1, :n)"
                ),
                {"n": entries.height},
            ).scalars()
        )
        entries = entries.with_columns(id=pl.Series(ids, dtype=pl.Int64))
        _copy_frame(
            connection,
            "journal_entries",
            entries.select("id", "business_date", "event", "idempotency_key", "loan_id", "memo"),
        )
        _copy_frame(
            connection,
            "postings",
            postings.join(entries.select("seq", "id"), on="seq")
            .sort("seq", "leg")
            .select(entry_id="id", account="account", loan_id="loan_id", amount_fen="amount_fen"),
        )
        return entries.select("seq", "id")
    out = []
    legs = postings.sort("seq", "leg").partition_by("seq", as_dict=True)
    for row in entries.iter_rows(named=True):
        entry_id = connection.execute(
            insert(JournalEntryRow).returning(JournalEntryRow.id),
            {k: row[k] for k in ("business_date", "event", "idempotency_key", "loan_id", "memo")},
        ).scalar_one()
        mine = legs.get((row["seq"],))
        if mine is not None:
            connection.execute(
                insert(PostingRow),
                [
                    {"entry_id": entry_id, "account": a, "loan_id": lo, "amount_fen": amt}
                    for a, lo, amt in mine.select("account", "loan_id", "amount_fen").iter_rows()
                ],
            )
        out.append((row["seq"], entry_id))
    return pl.DataFrame(out, schema={"seq": pl.Int64, "id": pl.Int64}, orient="row")


def insert_entries(connection: Connection, entries: Sequence[JournalEntry]) -> list[int]:
    """The entries and their postings, in order; returns their ids (``insert_entry_frames``)."""
    ids = insert_entry_frames(connection, *entry_frames(entries))
    return ids.sort("seq")["id"].to_list()


def write_chunk(
    connection: Connection,
    booked: Booked,
    fast: FastBooked | None,
    outcomes: Sequence[tuple[int, DebitResponse]],
) -> dict[int, int]:
    """Write the chunk: entries, loans, instalments (guarded on ``billed``), attempts. Returns attempt id →
    entry id of the debits posted."""
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
        _stage(connection, "batch_loans", loan_frame)
        sets = ", ".join(f"{c} = s.{c}" for c in LOAN_WRITTEN)
        done = connection.execute(
            text(f"UPDATE loans SET {sets} FROM batch_loans s WHERE loans.id = s.id")
        ).rowcount
        if done != loan_frame.height:
            raise RuntimeError(f"{done} loans updated of {loan_frame.height}")
    if row_frame.height:
        _stage(connection, "batch_installments", row_frame)
        sets = ", ".join(f"{c} = s.{c}" for c in INSTALLMENT_WRITTEN)
        done = connection.execute(
            text(
                f"UPDATE installments SET {sets} FROM batch_installments s"
                " WHERE installments.id = s.id AND installments.billed = s.was_billed"
            )
        ).rowcount
        if done != row_frame.height:
            raise ChunkConflictError(f"{row_frame.height - done} instalments changed under the batch")
    _stage(
        connection,
        "batch_attempts",
        pl.DataFrame(
            [
                (
                    attempt_id,
                    answer.status.value,
                    answer.settled_fen,
                    answer.settled_fen if attempt_id in entry_ids else 0,
                    answer.reason,
                    entry_ids.get(attempt_id),
                )
                for attempt_id, answer in outcomes
            ],
            schema={
                "id": pl.Int64,
                "status": pl.String,
                "settled_fen": pl.Int64,
                "posted_fen": pl.Int64,
                "reason": pl.String,
                "entry_id": pl.Int64,
            },
            orient="row",
        ),
    )
    connection.execute(
        text(
            "UPDATE debit_attempts SET status = s.status, settled_fen = s.settled_fen,"
            " posted_fen = s.posted_fen, reason = COALESCE(s.reason, debit_attempts.reason),"
            " entry_id = s.entry_id"
            " FROM batch_attempts s WHERE debit_attempts.id = s.id"
        )
    )
    if connection.dialect.name != "postgresql":
        for name in ("batch_loans", "batch_installments", "batch_attempts"):
            connection.execute(text(f"DROP TABLE IF EXISTS temp.{name}"))
    return entry_ids


def _fast(connection: Connection, moved: Sequence[Moved], on: date) -> FastBooked | None:
    """The columnar path for the debits it covers (``payments.fastpath``); loans already locked."""
    if not moved:
        return None
    moved_frame = pl.DataFrame(
        [(m.attempt_id, m.channel_ref, m.loan_id, m.installment_id, m.settled_fen, m.on) for m in moved],
        schema={
            "attempt_id": pl.Int64,
            "channel_ref": pl.String,
            "loan_id": pl.Int64,
            "installment_id": pl.Int64,
            "amount_fen": pl.Int64,
            "on": pl.Date,
        },
        orient="row",
    )
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
    by_id = {c.attempt_id: (c, a) for c, a in zip(claimed, answers, strict=True)}
    query = select(_ATTEMPTS.id, _ATTEMPTS.installment_id).where(_ATTEMPTS.status == "pending")
    if unanswered_only:
        query = query.where(_ATTEMPTS.reason.is_(None))
    still = {
        int(r[0]): int(r[1]) for r in _select_in(connection, query, _ATTEMPTS.id, sorted(by_id), lock=True)
    }
    outcomes = [(i, by_id[i][1]) for i in sorted(still)]
    moved = [
        Moved(i, c.channel_ref, c.loan_id, still[i], a.settled_fen, max(on, c.business_date))
        for i, a in outcomes
        if a.status.moved_money
        for c in (by_id[i][0],)
    ]
    loan_ids = sorted({m.loan_id for m in moved})
    _select_in(connection, select(_LOANS.id).order_by(_LOANS.id), _LOANS.id, loan_ids, lock=True)
    fast = _fast(connection, moved, on) if columnar else None
    taken = fast.attempt_ids if fast is not None else set()
    booked = allocate_chunk(session, [m for m in moved if m.attempt_id not in taken])
    write_chunk(connection, booked, fast, outcomes)
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


# ------------------------------------------------------------------------------------------------ run


def _retrying(factory: sessionmaker[Session], work: Callable[[Session], Any], tries: int = 3) -> Any:
    for attempt in range(tries):
        try:
            with factory() as session, session.begin():
                return work(session)
        except (ChunkConflictError, DBAPIError) as exc:
            if isinstance(exc, DBAPIError) and not _retryable(exc):
                raise
            if attempt == tries - 1:
                raise
    raise AssertionError("unreachable")


def _retryable(exc: DBAPIError) -> bool:
    code = getattr(exc.orig, "sqlstate", None)
    return code in ("40001", "40P01")  # serialization failure, deadlock


def run_debit_batch(
    factory: sessionmaker[Session],
    *,
    channel: PaymentChannel,
    ring: KeyRing,
    on: date,
    policy: RetryPolicy,
    chunk: int = CHUNK,
    progress: Callable[[str, int], None] | None = None,
    detail: bool = False,
) -> dict[str, Any]:
    """The day's debit batch (see the module docstring). Each step commits on its own. ``detail``: also
    list the debits this run sent (``debits``, as ``service.run_debits`` does; for small batches)."""
    with factory() as session, session.begin():
        claimed_counts = claim(session, on=on, policy=policy)
    if progress:
        progress("claim", claimed_counts["claimed"])
    counts: dict[str, int] = {s.value: 0 for s in DebitStatus} | {
        "answered_elsewhere": 0,
        "posted_fen": 0,
        **claimed_counts,
    }
    refused: list[dict[str, Any]] = []
    numbers: dict[int, str] = {}
    sent: list[int] = []
    with factory() as session:
        span = unanswered_span(session, on=on)
    for low in range(span[0], span[1] + 1, chunk) if span else ():
        with factory() as session:
            todo = unanswered(session, on=on, low=low, high=low + chunk)
        if not todo:
            continue
        sent.extend(c.attempt_id for c in todo)
        answers = send(channel, ring, todo, numbers)
        chunk_counts, chunk_refused = _retrying(factory, partial(book, claimed=todo, answers=answers, on=on))
        for key, value in chunk_counts.items():
            counts[key] = counts.get(key, 0) + value
        refused.extend(chunk_refused)
        if progress:
            progress("chunk", len(todo))
    result: dict[str, Any] = {"date": on.isoformat(), "counts": counts, "refused": refused}
    if detail:
        with factory() as session:
            result["debits"] = debits_of(session, sent)
    return result


def debits_of(session: Session, attempt_ids: Sequence[int]) -> list[dict[str, Any]]:
    """The attempts ``attempt_ids`` as ``service.run_debits`` lists its debits, in id order."""
    query: Select[Any] = select(  # type: ignore[assignment]
        DebitAttemptRow.channel_ref,
        DebitAttemptRow.loan_id,
        DebitAttemptRow.amount_fen,
        DebitAttemptRow.status,
        DebitAttemptRow.settled_fen,
        DebitAttemptRow.reason,
    ).order_by(DebitAttemptRow.id)
    keys = ("channel_ref", "loan_id", "amount_fen", "status", "settled_fen", "reason")
    rows = _select_in(session.connection(), query, _ATTEMPTS.id, list(attempt_ids))
    return [dict(zip(keys, r, strict=True)) for r in rows]
