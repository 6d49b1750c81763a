"""Audit trail shell: chains every new ``AuditEventRow`` and reads the chain back for ``audit verify``.

Writers only ``session.add(AuditEventRow(...))`` (or call :func:`record`); nothing else is needed. New audit
rows wait in the session until the transaction commits, and are then chained and inserted in one short
critical section: on PostgreSQL under a transaction-scoped advisory lock (taken with the head read in one
statement, ``audit_chain_head`` of migration 0039), on SQLite under the database write lock every
transaction already takes (``BEGIN IMMEDIATE``). Holding the chain lock only while
committing means a long transaction (a collections campaign) never blocks other audited work for its whole
length, and no transaction waits for anything else while it holds the lock, so it cannot deadlock. The
unique ``seq`` is the backstop: a second writer that somehow reads the same head fails instead of forking
the chain. Consequence: audit rows added in a transaction are visible to queries only after it commits.

On PostgreSQL the rows usually go in with the lock and the head, in ONE statement: they are chained after the
head this process's last committed audit rows left (``_KNOWN_HEAD``), and inserted only if the head read
under the lock is that one; if another writer moved it, nothing is inserted and the rows are chained after
the head read and inserted by a second statement, still under the lock (``_append_if_head``). The lock, the
head and the conditional insert are the server-side function ``audit_append_if_head`` (migration 0046),
whose plans PostgreSQL keeps for the session (psycopg forgets its prepared statements at every ROLLBACK).

Audit events recorded in the transaction itself wait as ``PendingEvent`` values, not ORM objects (rows
added to the session, or recorded in a savepoint, are ``AuditEventRow`` objects and wait the same way).
"""

from __future__ import annotations

import json
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, cast

from sqlalchemy import BigInteger, Connection, Engine, Table, bindparam, event, func, insert, inspect, select
from sqlalchemy.orm import Session, SessionTransaction, UOWTransaction

from xiaodai.audit.chain import GENESIS, Entry, Report, entry_hash, verify
from xiaodai.db.inserts import execute_sql, execute_with_queued, take_queued_sql, write_queued
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
        session.info.pop(_WRITTEN, None)


# PostgreSQL: the advisory lock, then the head read with a snapshot taken after the lock was granted, in one
# round trip (the VOLATILE function of migration 0039: each query inside it takes a fresh snapshot)
_CHAIN_HEAD = func.audit_chain_head(bindparam("key", type_=BigInteger)).table_valued("seq", "row_hash")
_LOCKED_HEAD = select(_CHAIN_HEAD.c.seq, _CHAIN_HEAD.c.row_hash)
_HEAD = select(AuditEventRow.seq, AuditEventRow.row_hash).order_by(AuditEventRow.seq.desc()).limit(1)
# Core, not a unit-of-work flush: the rows are complete values once chained, and only their ids come back
_TABLE = cast(Table, AuditEventRow.__table__)
_INSERT = insert(_TABLE).returning(_TABLE.c.id, _TABLE.c.seq)
_FIELDS = ("occurred_at", "actor", "action", "subject", "reason", "payload")


def _chain(session: Session, rows: list[Waiting]) -> None:
    """Chain ``rows`` after the stored head and insert them, under the chain lock.

    PostgreSQL: when this process knows the head it committed last (``_KNOWN_HEAD``), ONE statement takes
    the lock and reads the head (``audit_append_if_head``, as ``audit_chain_head`` below), and inserts the
    rows chained after the head it expected only if the head read under the lock IS that head
    (``_append_if_head``); when
    another writer moved the head since, nothing is inserted and the rows are chained after the head read
    and inserted in a second statement, still under the lock. Either way the rows follow the head read
    under the lock."""
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        # Serialise chain writers until commit; the head is read after the lock is held, with a snapshot of
        # its own, so under READ COMMITTED it sees the previous writer's rows.
        # (rows queued by ``db.inserts.queue_insert`` are written in the same statement)
        expected = _KNOWN_HEAD.get(connection.engine)
        if expected is not None and len(rows) <= _BATCH:
            values, by_seq = _linked(rows, *expected)
            head = _append_if_head(session, connection, values, by_seq, expected)
            if head is None:  # appended: the head was the one expected
                _remember(session, connection, rows)
                return
        else:
            found = execute_with_queued(session, _LOCKED_HEAD, {"key": LOCK_KEY}).first()
            head = (0, GENESIS) if found is None else (int(found[0]), str(found[1]))
        values, by_seq = _linked(rows, *head)
        # the driver's own statement for this many rows (the values are plain str, int and aware datetime,
        # which psycopg sends as they are): SQLAlchemy's insertmanyvalues machinery cost more CPU than the
        # round trip; the engine's execution events still see the statement. At most _BATCH rows each
        # (PostgreSQL takes at most 65,535 parameters in a statement).
        for start in range(0, len(values), _BATCH):
            batch = values[start : start + _BATCH]
            for stored_id, stored_seq in execute_sql(connection, _insert_sql(len(batch)), _numbered(batch)):
                by_seq[stored_seq].id = stored_id
        _remember(session, connection, rows)
        return
    found = execute_with_queued(session, _HEAD, {}).first()
    values, by_seq = _linked(rows, *((0, GENESIS) if found is None else (int(found[0]), str(found[1]))))
    for stored_id, stored_seq in connection.execute(_INSERT, values):
        by_seq[stored_seq].id = stored_id


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


def _numbered(batch: list[dict[str, Any]]) -> dict[str, Any]:
    return {f"{name}_{n}": value for n, row_values in enumerate(batch) for name, value in row_values.items()}


def _append_if_head(
    session: Session,
    connection: Connection,
    values: list[dict[str, Any]],
    by_seq: dict[int, Waiting],
    expected: tuple[int, str],
) -> tuple[int, str] | None:
    """One statement (with the queued rows): the chain lock and the head, and the rows inserted only if
    that head is ``expected`` (``audit_append_if_head`` of migration 0046, whose plans the server keeps).
    None: inserted (their ids set); else the head read under the lock, nothing inserted. ``connection``: the
    session's."""
    queued = take_queued_sql(session)
    if queued is None:  # a queued row the driver cannot take as it is: written first, on its own
        write_queued(session)
        queued = ("", {})
    ctes, params = queued
    params.update(_numbered(values))
    params.update(key=LOCK_KEY, expected_seq=expected[0], expected_hash=expected[1], genesis=GENESIS)
    head: tuple[int, str] | None = (0, GENESIS)
    inserted = False
    for stored_id, seq, row_hash in execute_sql(connection, _append_sql(ctes, len(values)), params):
        if stored_id is None:
            head = (int(seq), str(row_hash))
        else:
            by_seq[seq].id = stored_id
            inserted = True
    return None if inserted else head


_APPENDED = (*_FIELDS, "seq", "prev_hash", "row_hash")  # audit_append_if_head's arrays, in its order


@lru_cache(maxsize=32)
def _append_sql(ctes: str, rows: int) -> str:
    """``_append_if_head``'s statement: the queued rows' ``WITH`` members (``ctes``) and the function, its
    arrays built by the server from one parameter per value (psycopg's list dumping cost more client CPU
    than the statement saved); answers the inserted rows' ids (row_hash NULL), or the head read under the
    lock (id NULL) when it was not the expected one and nothing was inserted."""
    casts = {"occurred_at": "timestamptz", "seq": "bigint", "payload": "text"}
    arrays = ", ".join(
        "ARRAY[" + ", ".join(f"%({name}_{n})s::{casts.get(name, 'varchar')}" for n in range(rows)) + "]"
        for name in _APPENDED
    )
    return (
        (f"WITH {ctes[:-2]} " if ctes else "")
        + "SELECT a.id, a.seq, a.row_hash FROM audit_append_if_head(%(key)s::bigint, "
        f"%(expected_seq)s::bigint, %(expected_hash)s::varchar, %(genesis)s::varchar, {arrays}) AS a"
    )


# per database engine: the chain's head (seq, row_hash) as this process's last committed audit rows left it;
# a guess, never trusted: ``_append_if_head`` checks it under the chain lock
_KNOWN_HEAD: weakref.WeakKeyDictionary[Engine, tuple[int, str]] = weakref.WeakKeyDictionary()
_WRITTEN = "xiaodai.audit.written_head"  # session.info: (engine, seq, row_hash) the open transaction wrote


def _remember(session: Session, connection: Any, rows: list[Waiting]) -> None:
    last = rows[-1]
    session.info[_WRITTEN] = (connection.engine, last.seq, last.row_hash)


def _after_commit(session: Session) -> None:
    written = session.info.pop(_WRITTEN, None)
    if written is not None:
        engine, seq, row_hash = written
        _KNOWN_HEAD[engine] = (seq, row_hash)


_BATCH = 1000


@lru_cache(maxsize=32)
def _insert_sql(rows: int) -> str:
    """PostgreSQL (psycopg's named placeholders): one INSERT of ``rows`` chained rows, RETURNING id, seq."""
    names = (*_FIELDS, "seq", "prev_hash", "row_hash")
    tuples = ", ".join("(" + ", ".join(f"%({name}_{n})s" for name in names) + ")" for n in range(rows))
    return f"INSERT INTO audit_events ({', '.join(names)}) VALUES {tuples} RETURNING id, seq"


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
        ("after_commit", _after_commit),
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
