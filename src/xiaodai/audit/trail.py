"""Audit trail shell: chains every new ``AuditEventRow`` and reads the chain back for ``audit verify``.

Writers only ``session.add(AuditEventRow(...))`` (or call :func:`record`); nothing else is needed. New audit
rows wait in the session until the transaction commits, and are then chained and inserted in one short
critical section: on PostgreSQL under a transaction-scoped advisory lock, on SQLite under the database write
lock every transaction already takes (``BEGIN IMMEDIATE``). Holding the chain lock only while committing
means a long transaction (a collections campaign) never blocks other audited work for its whole length, and
no transaction waits for anything else while it holds the lock, so it cannot deadlock. The unique ``seq`` is
the backstop: a second writer that somehow reads the same head fails instead of forking the chain.
Consequence: audit rows added in a transaction are visible to queries only after it commits.

On PostgreSQL the server chains the rows: the server-side function ``audit_append`` (migration 0047) takes
the lock, reads the head with a snapshot from after the lock was granted, computes each row's hash as
``audit.chain.entry_hash`` does and inserts the rows, in the statement that also writes the rows queued with
``db.inserts.queue_insert``; that statement and the transaction's COMMIT go to the server together
(``db.inserts.execute_sql_and_commit``), so the lock is held for the server's work only — never across a
round trip to a Python thread that waits for its interpreter lock (under load that wait was most of a
decision's time under the chain lock). ``audit verify`` checks the server's hashes with ``audit.chain``.

Audit events recorded in the transaction itself wait as ``PendingEvent`` values, not ORM objects (rows
added to the session, or recorded in a savepoint, are ``AuditEventRow`` objects and wait the same way).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, cast

from sqlalchemy import Connection, Table, event, func, insert, inspect, select
from sqlalchemy.orm import Session, SessionTransaction, UOWTransaction

from xiaodai.audit.chain import GENESIS, Entry, Report, entry_hash, verify
from xiaodai.db.inserts import (
    execute_sql,
    execute_sql_and_commit,
    execute_with_queued,
    take_queued_sql,
    write_queued,
)
from xiaodai.db.tables import AuditEventRow

LOCK_KEY = 0x58444155444954  # pg_advisory_xact_lock key of the audit chain ("XDAUDIT")
_PENDING = "xiaodai.audit.pending"


class AuditError(RuntimeError):
    """An attempt to change or delete an audit record through the ORM (the triggers refuse it anyway)."""


@dataclass(slots=True)
class PendingEvent:
    """An audit event recorded in the transaction itself, waiting for the commit: the values of its row, as
    plain attributes (an ``AuditEventRow`` costs more to build and to chain, and no one reads it back before
    the commit); ``seq``, the hashes and ``id`` are set when it is chained and inserted."""

    occurred_at: datetime
    actor: str
    action: str
    subject: str
    reason: str
    payload: str
    seq: int = 0
    prev_hash: str = ""
    row_hash: str = ""
    id: int | None = None


Waiting = AuditEventRow | PendingEvent


def record(
    session: Session,
    *,
    actor: str,
    action: str,
    subject: str,
    reason: str,
    payload: dict[str, Any] | None = None,
    version: str | None = None,
    at: datetime | None = None,
) -> Waiting:
    """Add one audit event; it is chained and written when the transaction commits.

    ``version`` is the rule, policy or model version the decision was taken under (stored in the payload).
    """
    body = dict(payload or {})
    if version is not None:
        body["version"] = version
    event = PendingEvent(
        occurred_at=_utc(at or datetime.now(tz=UTC)),
        actor=actor[:100],
        action=action,
        subject=subject[:100],
        reason=reason,
        payload=json.dumps(body, ensure_ascii=False, sort_keys=True, default=str),
    )
    if session.in_nested_transaction() or not session.in_transaction():
        row = AuditEventRow(**{name: getattr(event, name) for name in _FIELDS})
        session.add(row)  # in a savepoint (or before any transaction): waits in the session like any row
        return row
    # in the transaction itself: straight to the rows waiting for the commit (what a flush would do with
    # it), after any audit row added to the session earlier, so the chain keeps the order of recording
    _move_new_rows(session)
    session.info.setdefault(_PENDING, []).append(event)
    return event


def pending(session: Session) -> list[Waiting]:
    """Audit events added in this transaction and not yet written (they are written at commit)."""
    waiting: list[Waiting] = session.info.get(_PENDING, [])
    return [*waiting, *_new_rows(session)]


def _utc(at: datetime) -> datetime:
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def _new_rows(session: Session) -> list[AuditEventRow]:
    rows = [o for o in session.new if isinstance(o, AuditEventRow)]
    return sorted(rows, key=lambda o: inspect(o).insert_order or 0)


def _before_flush(session: Session, _context: UOWTransaction, _instances: Any) -> None:
    for row in (*session.deleted, *session.dirty):
        if isinstance(row, AuditEventRow) and (row in session.deleted or session.is_modified(row)):
            raise AuditError(f"audit event {row.id} is append-only: it cannot be changed or deleted")
    _move_new_rows(session)


def _move_new_rows(session: Session) -> None:
    """Take the audit rows added to the session out of it: they wait for the commit, in order."""
    rows = _new_rows(session)
    if not rows:
        return
    now = datetime.now(tz=UTC)
    for row in rows:
        row.occurred_at = _utc(row.occurred_at or now)
        row.payload = "{}" if row.payload is None else row.payload
    waiting = session.info.setdefault(_PENDING, [])
    for row in rows:
        session.expunge(row)
        waiting.append(row)


def _before_commit(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint: the rows wait for the outer commit
    session.flush()  # everything else first; new audit rows move to the waiting list (``_before_flush``)
    rows = session.info.pop(_PENDING, None)
    if rows:
        _chain(session, rows)  # rows queued with ``db.inserts.queue_insert`` are written with the head
    else:
        write_queued(session)


def _after_transaction_end(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        session.info.pop(_PENDING, None)  # rolled back (or committed): nothing waits any more


_HEAD = select(AuditEventRow.seq, AuditEventRow.row_hash).order_by(AuditEventRow.seq.desc()).limit(1)
# Core, not a unit-of-work flush: the rows are complete values once chained, and only their ids come back
_TABLE = cast(Table, AuditEventRow.__table__)
_INSERT = insert(_TABLE).returning(_TABLE.c.id, _TABLE.c.seq)
_FIELDS = ("occurred_at", "actor", "action", "subject", "reason", "payload")
_BATCH = 1000  # rows per statement (PostgreSQL takes at most 65,535 parameters in one)


def _chain(session: Session, rows: list[Waiting]) -> None:
    """Chain ``rows`` after the stored head and insert them, under the chain lock.

    PostgreSQL: the server does it (``audit_append``, migration 0047: the lock, the head read after it,
    the hashes, the insert), in the statement that also writes the rows queued with
    ``db.inserts.queue_insert``; the last (usually the only) statement is sent with the transaction's COMMIT
    in one round trip (``execute_sql_and_commit``), so the chain lock is held only while the server works.
    SQLite: the head is read and the rows chained here, under the write lock its writers take at BEGIN."""
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        _append_on_server(session, connection, rows)
        return
    found = execute_with_queued(session, _HEAD, {}).first()
    values, by_seq = _linked(rows, *((0, GENESIS) if found is None else (int(found[0]), str(found[1]))))
    for stored_id, stored_seq in connection.execute(_INSERT, values):
        by_seq[stored_seq].id = stored_id


def _append_on_server(session: Session, connection: Connection, rows: list[Waiting]) -> None:
    """``audit_append`` for each batch of rows, the queued rows written by the first statement; the last
    one committed with the transaction when the session has only this connection and psycopg sends it (as
    SQLAlchemy would commit it next: ``before_commit`` hooks are the commit's last step), else SQLAlchemy
    commits as usual."""
    queued = take_queued_sql(session)
    if queued is None:  # a queued row the driver cannot take as it is: written first, on its own
        write_queued(session)
        queued = ("", {})
    ctes, params = queued
    commit_here = connection.dialect.driver == "psycopg" and _only_connection(session, connection)
    for start in range(0, len(rows), _BATCH):
        batch = rows[start : start + _BATCH]
        params.update(_arrays(batch))
        params.update(key=LOCK_KEY, genesis=GENESIS)
        last = start + _BATCH >= len(rows)
        run = execute_sql_and_commit if last and commit_here else execute_sql
        for row, (stored_id, seq, prev_hash, row_hash) in zip(
            batch, run(connection, _append_sql(ctes, len(batch)), params), strict=True
        ):
            row.id, row.seq, row.prev_hash, row.row_hash = stored_id, seq, prev_hash, row_hash
        ctes, params = "", {}


def _only_connection(session: Session, connection: Connection) -> bool:
    """Whether ``connection`` is the only connection of the session's transaction (which keys it both by
    its engine and by itself: one connection, two entries)."""
    transaction = session.get_transaction()
    return transaction is not None and all(c is connection for c, *_ in transaction._connections.values())


def _linked(rows: list[Waiting], seq: int, prev_hash: str) -> tuple[list[dict[str, Any]], dict[int, Waiting]]:
    """Chain ``rows`` after the head (``seq``, ``prev_hash``): their seq and hashes set, and their values."""
    values: list[dict[str, Any]] = []
    by_seq: dict[int, Waiting] = {}
    for row in rows:
        seq += 1
        row.seq, row.prev_hash = seq, prev_hash
        row.row_hash = prev_hash = entry_hash(_entry(row))
        values.append({**{name: getattr(row, name) for name in _FIELDS}, **_chained(row)})
        by_seq[seq] = row
    return values, by_seq


def _arrays(batch: list[Waiting]) -> dict[str, Any]:
    return {f"{name}_{n}": getattr(row, name) for n, row in enumerate(batch) for name in _FIELDS}


@lru_cache(maxsize=32)
def _append_sql(ctes: str, rows: int) -> str:
    """The statement for ``rows`` rows: the queued rows' ``WITH`` members (``ctes``), written before the
    chain lock is taken, and ``audit_append``, its arrays built by the server from one parameter per value
    (psycopg's list dumping cost more client CPU than the statement saved); answers each row's id, seq,
    prev_hash and row_hash, in chain order."""
    casts = {"occurred_at": "timestamptz", "payload": "text"}
    arrays = ", ".join(
        "ARRAY[" + ", ".join(f"%({name}_{n})s::{casts.get(name, 'varchar')}" for n in range(rows)) + "]"
        for name in _FIELDS
    )
    members = ctes.count(" AS (INSERT INTO ")  # q0, q1, … (``take_queued_sql``)
    if not members:
        return (
            "SELECT a.id, a.seq, a.prev_hash, a.row_hash FROM audit_append(%(key)s::bigint, "
            f"%(genesis)s::varchar, {arrays}) AS a ORDER BY a.seq"
        )
    # the queued rows written FIRST, outside the chain lock: the function is called for the row of
    # ``written``, which counts the inserts' rows (a data-modifying WITH member that nothing reads runs when
    # the statement ends, which would be under the lock, taken by the function)
    written = " + ".join(f"(SELECT count(*) FROM q{n})" for n in range(members))
    return (
        f"WITH {ctes[:-2]} SELECT a.id, a.seq, a.prev_hash, a.row_hash "
        f"FROM (SELECT {written} AS n) AS written, "
        "LATERAL audit_append(CASE WHEN written.n >= 0 THEN %(key)s::bigint END, "
        f"%(genesis)s::varchar, {arrays}) AS a ORDER BY a.seq"
    )


def _chained(row: Waiting) -> dict[str, Any]:
    return {"seq": row.seq, "prev_hash": row.prev_hash, "row_hash": row.row_hash}


def _entry(row: Waiting) -> Entry:
    return Entry(
        seq=row.seq,
        occurred_at=row.occurred_at,
        actor=row.actor,
        action=row.action,
        subject=row.subject,
        reason=row.reason,
        payload=row.payload,
        prev_hash=row.prev_hash,
        row_hash=row.row_hash,
        id=row.id,
    )


def install() -> None:
    """Register the listeners on every Session (idempotent). Done on import of ``xiaodai.db.session``."""
    for name, listener in (
        ("before_flush", _before_flush),
        ("before_commit", _before_commit),
        ("after_transaction_end", _after_transaction_end),
    ):
        if not event.contains(Session, name, listener):
            # first: the commit hook takes the queued inserts with the chain's head (``db.inserts``' own
            # hook, which would write them in a statement of their own, then finds nothing left)
            event.listen(Session, name, listener, insert=True)


# -- reading the chain -------------------------------------------------------------------------------------

_COLUMNS = (
    AuditEventRow.id,
    AuditEventRow.seq,
    AuditEventRow.occurred_at,
    AuditEventRow.actor,
    AuditEventRow.action,
    AuditEventRow.subject,
    AuditEventRow.reason,
    AuditEventRow.payload,
    AuditEventRow.prev_hash,
    AuditEventRow.row_hash,
)


def _as_entry(r: Any) -> Entry:
    return Entry(
        seq=r.seq,
        occurred_at=r.occurred_at,
        actor=r.actor,
        action=r.action,
        subject=r.subject,
        reason=r.reason,
        payload=r.payload,
        prev_hash=r.prev_hash,
        row_hash=r.row_hash,
        id=r.id,
    )


def chain_length(session: Session) -> int:
    return int(session.execute(select(func.count()).select_from(AuditEventRow)).scalar_one())


def verify_chain(
    session: Session, *, expect_head: str | None = None, progress: Callable[[int], None] | None = None
) -> Report:
    """Check the stored chain in seq order (streamed); see :func:`xiaodai.audit.chain.verify`."""

    def entries() -> Iterator[Entry]:
        stream = session.execute(
            select(*_COLUMNS).order_by(AuditEventRow.seq, AuditEventRow.id).execution_options(yield_per=2000)
        )
        for r in stream:
            yield _as_entry(r)

    def find(row_hash: str) -> Entry | None:
        found = session.execute(select(*_COLUMNS).where(AuditEventRow.row_hash == row_hash).limit(1)).first()
        return None if found is None else _as_entry(found)

    return verify(entries(), find=find, expect_head=expect_head, progress=progress)


def list_events(
    session: Session, *, subject: str | None = None, action: str | None = None, limit: int = 50
) -> list[dict[str, Any]]:
    """Newest first."""
    query = select(*_COLUMNS).order_by(AuditEventRow.seq.desc()).limit(limit)
    if subject is not None:
        query = query.where(AuditEventRow.subject == subject)
    if action is not None:
        query = query.where(AuditEventRow.action == action)
    out = []
    for r in session.execute(query):
        try:
            payload: Any = json.loads(r.payload or "{}")
        except ValueError:
            payload = r.payload
        out.append(
            {
                "id": r.id,
                "seq": r.seq,
                "occurred_at": _utc(r.occurred_at).isoformat(),
                "actor": r.actor,
                "action": r.action,
                "subject": r.subject,
                "reason": r.reason,
                "payload": payload,
                "row_hash": r.row_hash,
            }
        )
    return out
