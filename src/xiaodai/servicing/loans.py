"""Loading and locking loans; per-loan views of instalments as plain values for the pure core.

Two ways to hold a loan and its instalments, for the same shared helpers (``dues``, ``refresh_status``,
``billing``, ``ledger.post``), which only need the attributes of :class:`LoanLike` and
:class:`InstallmentLike`:

* ORM rows (``lock_loan``, ``installments``): most commands; the session writes them at its next flush.
* :class:`Loan` and :class:`Installment` records (``lock_loan_record``, ``installment_records``): the
  repayment hot path. They are read through the session's connection (Core: only the columns the
  servicing commands use, no identity map), remember the values they were read with, and ``save`` writes
  each changed row once, its changed columns only, as the ORM flush would — without its cost — together
  with the command's journal entries (on PostgreSQL all in one statement).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, fields
from datetime import date
from operator import attrgetter
from typing import Any

from sqlalchemy import Connection, Select, bindparam, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from xiaodai.db.driver import DriverStatement, fetch_rows
from xiaodai.db.tables import InstallmentRow, LoanRow
from xiaodai.ledger import service as ledger
from xiaodai.ledger.journal import JournalEntry, with_commitment
from xiaodai.servicing.allocation import Component, Due
from xiaodai.servicing.delinquency import bucket_for, days_past_due, parse_buckets
from xiaodai.servicing.errors import LoanNotFoundError
from xiaodai.servicing.lifecycle import LoanState, is_open, transition
from xiaodai.servicing.prepayment import PeriodView


@dataclass(slots=True, eq=False)
class Loan:
    """The columns of a ``loans`` row that servicing commands use, read without the ORM (see the module
    docstring). Fields are in the order of ``_LOAN_COLUMNS``; ``loaded`` holds the values as read."""

    id: int
    state: str
    allocation_order: str
    buckets: str
    principal_outstanding_fen: int
    interest_outstanding_fen: int
    fees_outstanding_fen: int
    penalties_outstanding_fen: int
    overpayment_fen: int
    paid_total_fen: int
    dpd: int
    bucket: str
    disbursed_on: date | None
    closed_on: date | None
    version: int
    line_id: int | None  # the credit line it was drawn on: its principal moves the line's commitment
    loaded: tuple[Any, ...] = field(default=(), init=False, repr=False)


@dataclass(slots=True, eq=False)
class Installment:
    """The columns of an ``installments`` row that servicing commands use (see :class:`Loan`)."""

    id: int
    period: int
    start_on: date  # the period's accrual start: what a payoff quote needs (``period_views``)
    due_on: date
    principal_fen: int
    interest_fen: int
    fee_fen: int
    billed: bool
    paid_principal_fen: int
    paid_interest_fen: int
    paid_fee_fen: int
    paid_on: date | None
    loaded: tuple[Any, ...] = field(default=(), init=False, repr=False)


# What the shared helpers (``dues``, ``refresh_status``, ``billing``, ``ledger.post``) read and move: an ORM
# row or a record — the record's fields are a subset of the row's columns, so either works.
LoanLike = Loan | LoanRow
InstallmentLike = Installment | InstallmentRow

_LOAN_FIELDS = tuple(f.name for f in fields(Loan) if f.name != "loaded")
_INSTALLMENT_FIELDS = tuple(f.name for f in fields(Installment) if f.name != "loaded")
_loan_values = attrgetter(*_LOAN_FIELDS)
_installment_values = attrgetter(*_INSTALLMENT_FIELDS)
# for bulk writers (payments.batch): the record fields in column order, and a record's current values
LOAN_FIELDS = _LOAN_FIELDS
INSTALLMENT_FIELDS = _INSTALLMENT_FIELDS
loan_values = _loan_values
_LOAN_TABLE = LoanRow.metadata.tables[LoanRow.__tablename__]
_INSTALLMENT_TABLE = InstallmentRow.metadata.tables[InstallmentRow.__tablename__]
_LOANS = _LOAN_TABLE.c
_INSTALLMENTS_T = _INSTALLMENT_TABLE.c

# Built once: a statement object built per call costs more Python than the query itself (cache key).
# populate_existing: a loan the session already holds (read before the lock, e.g. an ownership check) is
# refreshed from the locked row, so a command never computes from, and writes back, values read earlier.
_LOCK_LOAN = (
    select(LoanRow)
    .where(LoanRow.id == bindparam("loan_id"))
    .with_for_update()
    .execution_options(populate_existing=True)
)
_LOCK_LOAN_RECORD = (
    select(*(_LOANS[name] for name in _LOAN_FIELDS))
    .where(_LOANS.id == bindparam("loan_id"))
    .with_for_update()
)
_INSTALLMENT_RECORDS = (
    select(*(_INSTALLMENTS_T[name] for name in _INSTALLMENT_FIELDS))
    .where(_INSTALLMENTS_T.loan_id == bindparam("loan_id"), _INSTALLMENTS_T.active.is_(True))
    .order_by(_INSTALLMENTS_T.period, _INSTALLMENTS_T.schedule_version)
    .with_for_update()
)
_INSTALLMENT_RECORDS_PG = DriverStatement(_INSTALLMENT_RECORDS)
# The SET clause is the changed columns, given as parameters (one cached statement per set of columns).
_UPDATE_LOAN = update(_LOAN_TABLE).where(_LOANS.id == bindparam("row_id"), _LOANS.version == bindparam("was"))
_VERSION = _LOAN_FIELDS.index("version")
_UPDATE_INSTALLMENT = update(_INSTALLMENT_TABLE).where(_INSTALLMENTS_T.id == bindparam("row_id"))


def _installments_query(*, active_only: bool, lock: bool) -> Select[InstallmentRow]:
    query = select(InstallmentRow).where(InstallmentRow.loan_id == bindparam("loan_id"))
    if lock:
        query = query.with_for_update()
    if active_only:
        query = query.where(InstallmentRow.active.is_(True))
    return query.order_by(InstallmentRow.period, InstallmentRow.schedule_version)


_INSTALLMENTS = {
    (active_only, lock): _installments_query(active_only=active_only, lock=lock)
    for active_only in (True, False)
    for lock in (True, False)
}


def lock_loan(session: Session, loan_id: int) -> LoanRow:
    """The loan row, locked for the transaction (PostgreSQL row lock; SQLite serialises writers)."""
    loan = session.execute(_LOCK_LOAN, {"loan_id": loan_id}).scalar_one_or_none()
    if loan is None:
        raise LoanNotFoundError(f"loan {loan_id} does not exist")
    return loan


def lock_loan_record(session: Session, loan_id: int) -> Loan:
    """The loan as a :class:`Loan` record, its row locked for the transaction, read through the session's
    connection. Changes the session holds for loans or instalments are flushed first, so that the record
    sees them; write the record back with :func:`save`."""
    session.flush()  # returns at once when nothing is pending
    row = session.connection().execute(_LOCK_LOAN_RECORD, {"loan_id": loan_id}).first()
    if row is None:
        raise LoanNotFoundError(f"loan {loan_id} does not exist")
    loan = Loan(*row)
    loan.loaded = tuple(row)
    return loan


def installment_records(connection: Connection, loan_id: int) -> list[Installment]:
    """The loan's active instalments as :class:`Installment` records, row-locked (see ``installments``),
    read on ``connection`` (the session's)."""
    result: Iterable[Sequence[Any]]
    if connection.dialect.name == "postgresql":  # the driver's (``db.driver``): a hot statement
        result = fetch_rows(connection, _INSTALLMENT_RECORDS_PG, {"loan_id": loan_id})
    else:
        result = connection.execute(_INSTALLMENT_RECORDS, {"loan_id": loan_id})
    rows = []
    for row in result:
        record = Installment(*row)
        record.loaded = tuple(row)
        rows.append(record)
    return rows


def _changes(now: tuple[Any, ...], loaded: tuple[Any, ...], names: tuple[str, ...]) -> dict[str, Any]:
    return {name: value for name, value, was in zip(names, now, loaded, strict=True) if value != was}


def save(
    session: Session,
    loan: Loan,
    rows: Sequence[Installment] = (),
    entries: Sequence[JournalEntry] = (),
    *,
    with_item: tuple[str, dict[str, Any]] | None = None,
    connection: Connection | None = None,
) -> list[int]:
    """Insert the command's journal ``entries`` (their balances already moved on ``loan``:
    ``ledger.move_balances``) and write what changed on ``loan`` and ``rows`` since they were read: each
    changed row once, its changed columns only. Returns the entries' ids, in order.

    On PostgreSQL entries, postings and updates are one statement (``ledger.insert_entries`` with the
    updates as more ``WITH`` items); elsewhere, or without entries, the entries' statements and then one
    ``UPDATE`` per changed row. ORM objects of the same rows that the session holds are expired (reloaded on
    their next use), so that the session never writes their stale values back.

    The loan's ``version`` is save's to move, as the ORM's version counter is for ORM rows: whatever a
    caller did to it, a changed loan is written at the version it was read with plus one, and (elsewhere
    than PostgreSQL) only if the row is still at the version read. On PostgreSQL the row has been locked
    since ``lock_loan_record`` read it, so nobody else can have moved it.

    ``with_item``: one more ``WITH`` item and its parameters for the PostgreSQL statement (with entries only;
    ``commands.result_with_last_entry``). ``connection``: the session's, if the caller holds it already."""
    if connection is None:
        connection = session.connection()
    if with_item is not None and not (entries and connection.dialect.name == "postgresql"):
        raise ValueError("with_item needs journal entries on PostgreSQL")
    entries = _line_entries(loan, entries)
    was, loan_now, loan_changes, changed = _pending(loan, rows)
    if entries and connection.dialect.name == "postgresql":
        also, params = _pg_updates(loan, loan_changes, changed, with_item)
        ids = ledger.insert_entries(connection, entries, also=also, params=params)
    else:
        ids = ledger.insert_entries(connection, entries) if entries else []
        updated = 0
        if loan_changes:
            at = {"row_id": loan.id, "was": was, **loan_changes}
            if connection.execute(_UPDATE_LOAN, at).rowcount != 1:
                raise StaleDataError(f"loan {loan.id} changed since it was read at version {was}")
            updated += 1
        for row, _now, changes in changed:
            updated += connection.execute(_UPDATE_INSTALLMENT, {"row_id": row.id, **changes}).rowcount
        if updated != bool(loan_changes) + len(changed):  # rows are locked and never deleted
            raise RuntimeError(
                f"loan {loan.id}: {updated} rows updated of {bool(loan_changes) + len(changed)}"
            )
    loan.loaded = loan_now
    for row, now, _ in changed:
        row.loaded = now
    if len(session.identity_map):
        written: list[tuple[type[Any], int]] = [(LoanRow, loan.id)] if loan_changes else []
        written += [(InstallmentRow, row.id) for row, _, _ in changed]
        for cls, ident in written:
            held = session.identity_map.get(Session.identity_key(cls, ident))
            if held is not None:
                if held in session.dirty:  # expiring it would silently drop changes made to the ORM copy
                    raise RuntimeError(f"{cls.__name__} {ident} was changed through the ORM and as a record")
                session.expire(held)
    return ids


_Changed = list[tuple[Installment, tuple[Any, ...], dict[str, Any]]]


def _line_entries(loan: Loan, entries: Sequence[JournalEntry]) -> Sequence[JournalEntry]:
    """The entries as posted: on a loan drawn on a credit line, its principal moves the line's commitment."""
    return entries if loan.line_id is None else [with_commitment(item, loan.id) for item in entries]


def _pending(
    loan: Loan, rows: Sequence[Installment]
) -> tuple[int, tuple[Any, ...], dict[str, Any], _Changed]:
    """What ``save`` writes: the version read, the loan's values now (its version moved when anything
    changed), its changed columns, and each changed instalment with its values now and changed columns."""
    was = loan.loaded[_VERSION]
    loan.version = was
    loan_now = _loan_values(loan)
    loan_changes: dict[str, Any] = {}
    if loan_now != loan.loaded:
        loan.version = was + 1
        loan_now = _loan_values(loan)
        loan_changes = _changes(loan_now, loan.loaded, _LOAN_FIELDS)
    changed: _Changed = []
    for row in rows:
        now = _installment_values(row)
        if now != row.loaded:
            changed.append((row, now, _changes(now, row.loaded, _INSTALLMENT_FIELDS)))
    return was, loan_now, loan_changes, changed


def pg_save(
    loan: Loan,
    rows: Sequence[Installment],
    entries: Sequence[JournalEntry],
    with_item: tuple[str, dict[str, Any]] | None = None,
) -> tuple[DriverStatement, dict[str, Any]]:
    """PostgreSQL: ``save``'s one statement (entries, postings, the changed rows and ``with_item``) and its
    parameters, for a caller that runs it on the driver's own connection (``api.loop_repay``); it returns
    the entries' ids in order. The records are not marked as saved (they are not used again)."""
    if not entries:
        raise ValueError("pg_save writes journal entries")
    _was, _now, loan_changes, changed = _pending(loan, rows)
    also, params = _pg_updates(loan, loan_changes, changed, with_item)
    return ledger.pg_entries(_line_entries(loan, entries), also=also, params=params)


# The UPDATE items for ``ledger.insert_entries`` per shape (the changed columns of the loan and of each
# changed instalment): built once per shape, so that each shape is one cached statement.
SHAPES_KEPT = 1024
_PG_UPDATES: dict[tuple[tuple[str, ...], ...], tuple[str, list[list[tuple[str, str]]]]] = {}


def _pg_updates(
    loan: Loan,
    loan_changes: dict[str, Any],
    changed: _Changed,
    with_item: tuple[str, dict[str, Any]] | None = None,
) -> tuple[str, dict[str, Any]]:
    """The ``WITH`` items that write the changed rows (and ``with_item``, last) and their parameters."""
    shape = (tuple(loan_changes), *(tuple(changes) for _row, _now, changes in changed))
    cached = _PG_UPDATES.get(shape)
    if cached is None:
        items = []
        names: list[list[tuple[str, str]]] = []
        for k, columns in enumerate(shape):
            if not columns:
                names.append([])
                continue
            prefix, table = ("loan", "loans") if k == 0 else (f"row{k}", "installments")
            pairs = [(column, f"{prefix}_{column}") for column in columns]
            names.append(pairs)
            assignments = ", ".join(f"{column} = :{name}" for column, name in pairs)
            items.append(f", {prefix}_update AS (UPDATE {table} SET {assignments} WHERE id = :{prefix}_id)")
        if len(_PG_UPDATES) >= SHAPES_KEPT:  # a bound on memory; shapes are few in practice
            _PG_UPDATES.clear()
        cached = _PG_UPDATES.setdefault(shape, ("".join(items), names))
    also, names = cached
    params: dict[str, Any] = {"loan_id": loan.id} if loan_changes else {}
    params.update((name, loan_changes[column]) for column, name in names[0])
    for k, (row, _now, changes) in enumerate(changed, start=1):
        params[f"row{k}_id"] = row.id
        params.update((name, changes[column]) for column, name in names[k])
    if with_item is not None:
        return also + with_item[0], {**params, **with_item[1]}
    return also, params


def get_loan(session: Session, loan_id: int) -> LoanRow:
    loan = session.get(LoanRow, loan_id)
    if loan is None:
        raise LoanNotFoundError(f"loan {loan_id} does not exist")
    return loan


def installments(
    session: Session, loan_id: int, *, active_only: bool = True, lock: bool = False
) -> list[InstallmentRow]:
    """The loan's instalments; ``lock`` takes row locks (PostgreSQL) so that a concurrent end of day or
    repayment cannot bill the same instalment twice — it waits and then sees the committed state."""
    query = _INSTALLMENTS[active_only, lock]
    return list(session.execute(query, {"loan_id": loan_id}).scalars())


def unpaid(row: InstallmentLike) -> int:
    return (
        (row.principal_fen - row.paid_principal_fen)
        + (row.interest_fen - row.paid_interest_fen)
        + (row.fee_fen - row.paid_fee_fen)
    )


def dues(rows: Sequence[InstallmentLike], penalties_fen: int) -> list[Due]:
    """Everything billed and unpaid, plus the loan's penalty balance at its oldest overdue instalment."""
    out: list[Due] = []
    billed = [r for r in rows if r.billed]
    for r in billed:
        out.append(Due(r.period, Component.PRINCIPAL, r.due_on, r.principal_fen - r.paid_principal_fen))
        out.append(Due(r.period, Component.INTEREST, r.due_on, r.interest_fen - r.paid_interest_fen))
        out.append(Due(r.period, Component.FEE, r.due_on, r.fee_fen - r.paid_fee_fen))
    if penalties_fen > 0:
        oldest = next((r for r in billed if unpaid(r) > 0), billed[0] if billed else rows[0])
        out.append(Due(oldest.period, Component.PENALTY, oldest.due_on, penalties_fen))
    return out


def period_views(rows: Sequence[InstallmentLike]) -> list[PeriodView]:
    return [
        PeriodView(
            r.period,
            r.start_on,
            r.due_on,
            r.principal_fen,
            r.interest_fen,
            r.fee_fen,
            r.billed,
            r.paid_principal_fen,
            r.paid_interest_fen,
            r.paid_fee_fen,
        )
        for r in rows
    ]


def refresh_status(loan: LoanLike, rows: Sequence[InstallmentLike], as_of: date) -> None:
    """DPD, bucket and state from the instalments (oldest unpaid billed instalment due before ``as_of``)."""
    state = LoanState(loan.state)
    if not is_open(state):
        return
    overdue = [r.due_on for r in rows if r.billed and r.due_on < as_of and unpaid(r) > 0]
    loan.dpd = days_past_due(min(overdue) if overdue else None, as_of)
    loan.bucket = bucket_for(loan.dpd, parse_buckets(loan.buckets))
    owed = (
        loan.principal_outstanding_fen
        + loan.interest_outstanding_fen
        + loan.fees_outstanding_fen
        + loan.penalties_outstanding_fen
    )
    if owed == 0 and all(unpaid(r) == 0 for r in rows):
        loan.state = transition(state, LoanState.SETTLED).value
        loan.closed_on = as_of
        loan.dpd = 0
        loan.bucket = bucket_for(0, parse_buckets(loan.buckets))
    elif loan.dpd > 0:
        loan.state = transition(state, LoanState.OVERDUE).value
    else:
        loan.state = transition(state, LoanState.ACTIVE).value
