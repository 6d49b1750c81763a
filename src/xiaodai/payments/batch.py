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

import io
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from functools import partial
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    CursorResult,
    Date,
    Select,
    any_,
    bindparam,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from xiaodai.db.tables import InstallmentRow, LoanRow
from xiaodai.db.tables.payments import DebitAttemptRow, PaymentCardRow
from xiaodai.ledger import service as ledger
from xiaodai.ledger.journal import JournalEntry
from xiaodai.metrics import count_payments
from xiaodai.payments.channel import DebitRequest, DebitResponse, DebitStatus, PaymentChannel
from xiaodai.payments.debit_policy import RetryPolicy
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


def unanswered(session: Session, *, on: date, after: int, limit: int) -> list[Claimed]:
    """Attempts of ``on`` claimed and not answered yet (``pending``, no reason), by id, after ``after``."""
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
            DebitAttemptRow.id > after,
        )
        .order_by(DebitAttemptRow.id)
        .limit(limit)
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


def _copy_text(value: Any) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, str):
        return value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _copy(connection: Connection, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    raw = connection.connection.driver_connection
    assert raw is not None
    buffer = io.StringIO()
    for row in rows:
        buffer.write("\t".join(map(_copy_text, row)))
        buffer.write("\n")
    with raw.cursor() as cursor, cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        copy.write(buffer.getvalue())


def _sqlite_value(value: Any) -> Any:
    """As SQLAlchemy stores them on SQLite: dates as ISO text, booleans as 0/1."""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return int(value)
    return value


def _stage(
    connection: Connection, name: str, columns: Sequence[tuple[str, str]], rows: Sequence[Sequence[Any]]
) -> None:
    """A temporary table (dropped at commit) holding ``rows``: COPY on PostgreSQL, executemany elsewhere."""
    definition = ", ".join(f"{c} {t}" for c, t in columns)
    if connection.dialect.name == "postgresql":
        connection.execute(text(f"CREATE TEMP TABLE {name} ({definition}) ON COMMIT DROP"))
        _copy(connection, name, [c for c, _ in columns], rows)
        connection.execute(text(f"ANALYZE {name}"))
        return
    connection.execute(text(f"DROP TABLE IF EXISTS temp.{name}"))
    connection.execute(text(f"CREATE TEMP TABLE {name} ({definition})"))
    if rows:
        marks = ", ".join(f":{c}" for c, _ in columns)
        connection.execute(
            text(f"INSERT INTO {name} VALUES ({marks})"),
            [dict(zip([c for c, _ in columns], map(_sqlite_value, r), strict=True)) for r in rows],
        )


def insert_entries(connection: Connection, entries: Sequence[JournalEntry]) -> list[int]:
    """The entries and their postings, in order; returns their ids. PostgreSQL: ids drawn from the
    sequence at once, both tables loaded by COPY; elsewhere ``ledger.insert_entries``."""
    if not entries:
        return []
    if connection.dialect.name != "postgresql":
        return ledger.insert_entries(connection, entries)
    count_payments(connection, (e.event for e in entries))
    ids = list(
        connection.execute(
            text(
                "SELECT nextval(pg_get_serial_sequence('journal_entries', 'id')) FROM generate_series(1, :n)"
            ),
            {"n": len(entries)},
        ).scalars()
    )
    ids.sort()
    _copy(
        connection,
        "journal_entries",
        ("id", "business_date", "event", "idempotency_key", "loan_id", "reverses_id", "memo"),
        (
            (i, e.business_date, e.event, e.idempotency_key, e.loan_id, e.reverses, e.memo)
            for i, e in zip(ids, entries, strict=True)
        ),
    )
    _copy(
        connection,
        "postings",
        ("entry_id", "account", "loan_id", "amount_fen"),
        (
            (i, p.account.value, p.loan_id, p.amount_fen)
            for i, e in zip(ids, entries, strict=True)
            for p in e.postings
        ),
    )
    return ids


def write_chunk(
    connection: Connection, booked: Booked, outcomes: Sequence[tuple[int, DebitResponse]]
) -> dict[int, int]:
    """Write the chunk: entries, loans, instalments (guarded on ``billed``), attempts. Returns attempt id →
    entry id of the debits posted."""
    ids = insert_entries(connection, booked.entries)
    entry_ids = {attempt: ids[k] for attempt, k in booked.entry_of.items()}
    pg = connection.dialect.name == "postgresql"
    if booked.loans:
        types = {"state": "VARCHAR(16)", "bucket": "VARCHAR(8)", "closed_on": "DATE"}
        _stage(
            connection,
            "batch_loans",
            [("id", "BIGINT")] + [(c, types.get(c, "BIGINT")) for c in LOAN_WRITTEN],
            [(loan.id, *(getattr(loan, c) for c in LOAN_WRITTEN)) for loan in booked.loans],
        )
        sets = ", ".join(f"{c} = s.{c}" for c in LOAN_WRITTEN)
        done = connection.execute(
            text(f"UPDATE loans SET {sets} FROM batch_loans s WHERE loans.id = s.id")
        ).rowcount
        if done != len(booked.loans):
            raise RuntimeError(f"{done} loans updated of {len(booked.loans)}")
    if booked.installments:
        types = {"billed": "BOOLEAN", "paid_on": "DATE"}
        _stage(
            connection,
            "batch_installments",
            [("id", "BIGINT"), ("was_billed", "BOOLEAN")]
            + [(c, types.get(c, "BIGINT")) for c in INSTALLMENT_WRITTEN],
            [
                (r.id, r.loaded[_INSTALLMENT_BILLED], *(getattr(r, c) for c in INSTALLMENT_WRITTEN))
                for r in booked.installments
            ],
        )
        sets = ", ".join(f"{c} = s.{c}" for c in INSTALLMENT_WRITTEN)
        done = connection.execute(
            text(
                f"UPDATE installments SET {sets} FROM batch_installments s"
                " WHERE installments.id = s.id AND installments.billed = s.was_billed"
            )
        ).rowcount
        if done != len(booked.installments):
            raise ChunkConflictError(f"{len(booked.installments) - done} instalments changed under the batch")
    _stage(
        connection,
        "batch_attempts",
        [
            ("id", "BIGINT"),
            ("status", "VARCHAR(12)"),
            ("settled_fen", "BIGINT"),
            ("posted_fen", "BIGINT"),
            ("reason", "VARCHAR(32)"),
            ("entry_id", "BIGINT"),
        ],
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
    )
    connection.execute(
        text(
            "UPDATE debit_attempts SET status = s.status, settled_fen = s.settled_fen,"
            " posted_fen = s.posted_fen, reason = COALESCE(s.reason, debit_attempts.reason),"
            " entry_id = s.entry_id"
            " FROM batch_attempts s WHERE debit_attempts.id = s.id"
        )
    )
    if not pg:
        for name in ("batch_loans", "batch_installments", "batch_attempts"):
            connection.execute(text(f"DROP TABLE IF EXISTS temp.{name}"))
    return entry_ids


def book(
    session: Session,
    *,
    claimed: Sequence[Claimed],
    answers: Sequence[DebitResponse],
    on: date,
    unanswered_only: bool = True,
) -> tuple[dict[str, int], list[dict[str, Any]]]:
    """One transaction: the chunk's attempts that are still unanswered (locked) get their outcome; the money
    that moved is booked. Returns counts and the refused bookings. ``unanswered_only=False``: any pending
    attempt (a timed-out one whose outcome the settlement file gives; its reason is kept)."""
    connection = session.connection()
    by_id = {c.attempt_id: (c, a) for c, a in zip(claimed, answers, strict=True)}
    query = select(_ATTEMPTS.id).where(_ATTEMPTS.status == "pending")
    if unanswered_only:
        query = query.where(_ATTEMPTS.reason.is_(None))
    still = {int(r[0]) for r in _select_in(connection, query, _ATTEMPTS.id, sorted(by_id), lock=True)}
    outcomes = [(i, by_id[i][1]) for i in sorted(still)]
    moved = [
        Moved(
            i, by_id[i][0].channel_ref, by_id[i][0].loan_id, a.settled_fen, max(on, by_id[i][0].business_date)
        )
        for i, a in outcomes
        if a.status.moved_money
    ]
    booked = allocate_chunk(session, moved)
    write_chunk(connection, booked, outcomes)
    counts: dict[str, int] = defaultdict(int)
    for _, answer in outcomes:
        counts[answer.status.value] += 1
    counts["posted_fen"] = sum(m.settled_fen for m in moved if m.attempt_id in booked.entry_of)
    counts["answered_elsewhere"] = len(by_id) - len(still)
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
) -> dict[str, Any]:
    """The day's debit batch (see the module docstring). Each step commits on its own."""
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
    after = 0
    while True:
        with factory() as session:
            todo = unanswered(session, on=on, after=after, limit=chunk)
        if not todo:
            break
        after = todo[-1].attempt_id
        answers = send(channel, ring, todo, numbers)
        chunk_counts, chunk_refused = _retrying(factory, partial(book, claimed=todo, answers=answers, on=on))
        for key, value in chunk_counts.items():
            counts[key] = counts.get(key, 0) + value
        refused.extend(chunk_refused)
        if progress:
            progress("chunk", len(todo))
    return {"date": on.isoformat(), "counts": counts, "refused": refused}


def outcomes_of(session: Session, on: date) -> list[dict[str, Any]]:
    """The day's attempts as the per-row batch reports them (``channel_ref``, amounts, status)."""
    rows = session.execute(
        _dated(
            "SELECT channel_ref, loan_id, amount_fen, status, settled_fen, reason FROM debit_attempts"
            " WHERE business_date = :on ORDER BY id",
            ["on"],
        ),
        {"on": on},
    ).all()
    keys = ("channel_ref", "loan_id", "amount_fen", "status", "settled_fen", "reason")
    return [dict(zip(keys, r, strict=True)) for r in rows]
