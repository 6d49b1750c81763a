"""One-row inserts without the unit of work (shell helpers).

A row whose every value is known when it is written (a decision record, a credit-report pull, a consent, an
application) does not need the ORM's flush machinery, which costs more CPU than the statement it sends.
``insert_id`` writes it with one cached Core ``INSERT … RETURNING id``; ``insert_loaded`` also hands the
session the ORM object as if it had been loaded, so later reads in the transaction (``session.get``, the
identity map) find it without a query, and later changes to it are flushed as ordinary updates.

Both flush the session first, so rows the caller added earlier (which this one may refer to) are written
before it.

``queue_insert`` saves a round trip: a row whose primary key is already allocated (``nextval`` read with
something else) waits, and is written by the next ``insert_id`` / ``insert_loaded`` of the transaction — on
PostgreSQL in the same statement (``WITH q0 AS (INSERT …) INSERT …``), elsewhere just before it — or at the
next flush of ORM changes, or at commit, whichever comes first. A queued row is not visible to a read before
then: queue only a row that nothing reads before the next insert.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, TypeVar, cast

from sqlalchemy import Table, bindparam, event, insert
from sqlalchemy.orm import Session, SessionTransaction, UOWTransaction, make_transient_to_detached

from xiaodai.db.base import Base

RowT = TypeVar("RowT", bound=Base)

_QUEUED = "xiaodai.db.queued_inserts"  # session.info: [(row class, values), ...] waiting to be written


@lru_cache(maxsize=64)
def _statement(row_class: type[Base], returning: tuple[str, ...]) -> Any:
    table = cast(Table, row_class.__table__)
    return insert(table).returning(*(table.c[name] for name in returning))


Shape = tuple[tuple[type[Base], tuple[str, ...]], ...]


@lru_cache(maxsize=64)
def _with_queued(
    row_class: type[Base], names: tuple[str, ...], returning: tuple[str, ...], queued: Shape
) -> Any:
    """``WITH q0 AS (INSERT INTO <queued 0> …), … INSERT INTO <row_class> … RETURNING …``, built once per
    shape; the queued rows' parameters are named ``q<n>_<column>``."""
    table = cast(Table, row_class.__table__)
    statement = insert(table).values({name: bindparam(name, type_=table.c[name].type) for name in names})
    for n, (queued_class, queued_names) in enumerate(queued):
        queued_table = cast(Table, queued_class.__table__)
        statement = statement.add_cte(
            insert(queued_table)
            .values(
                {name: bindparam(f"q{n}_{name}", type_=queued_table.c[name].type) for name in queued_names}
            )
            .cte(f"q{n}")
        )
    return statement.returning(*(table.c[name] for name in returning))


def queue_insert(session: Session, row_class: type[Base], values: dict[str, Any]) -> None:
    """Insert one row with the next insert of this transaction (see the module's docstring). ``values``
    name every column without a server default, the primary key included. Outside a transaction or inside
    a savepoint the row is written at once (a savepoint rolled back must take its rows with it)."""
    if session.in_nested_transaction() or not session.in_transaction():
        session.flush()
        session.connection().execute(_statement(row_class, ()), values)
        return
    session.info.setdefault(_QUEUED, []).append((row_class, values))


def write_queued(session: Session) -> None:
    """Write the queued rows now (one statement each)."""
    queued: list[tuple[type[Base], dict[str, Any]]] | None = session.info.pop(_QUEUED, None)
    if not queued:
        return
    connection = session.connection()
    for row_class, values in queued:
        connection.execute(_statement(row_class, ()), values)


def _execute(
    session: Session, row_class: type[Base], values: dict[str, Any], returning: tuple[str, ...]
) -> Any:
    session.flush()
    connection = session.connection()
    queued: list[tuple[type[Base], dict[str, Any]]] | None = session.info.get(_QUEUED)
    if not queued:
        return connection.execute(_statement(row_class, returning), values).one()
    session.info.pop(_QUEUED)
    if connection.dialect.name != "postgresql":
        for queued_class, queued_values in queued:
            connection.execute(_statement(queued_class, ()), queued_values)
        return connection.execute(_statement(row_class, returning), values).one()
    shape = tuple((queued_class, tuple(queued_values)) for queued_class, queued_values in queued)
    params = dict(values)
    for n, (_, queued_values) in enumerate(queued):
        params.update({f"q{n}_{name}": value for name, value in queued_values.items()})
    statement = _with_queued(row_class, tuple(values), returning, shape)
    return connection.execute(statement, params).one()


def insert_id(session: Session, row_class: type[Base], values: dict[str, Any]) -> int:
    """Insert one row of ``row_class`` (one statement, with any queued rows) and return its ``id``."""
    return int(_execute(session, row_class, values, ("id",))[0])


def insert_loaded(
    session: Session, row_class: type[RowT], values: dict[str, Any], *, server_defaults: tuple[str, ...] = ()
) -> RowT:
    """Insert one row (one statement, with any queued rows) and return it as a persistent object of the
    session. ``values`` should name every column without a server default; ``server_defaults`` names the
    columns whose stored values are read back with the id (any other unnamed column is loaded on first
    access)."""
    stored = _execute(session, row_class, values, ("id", *server_defaults))
    row = row_class(**values, **stored._asdict())
    make_transient_to_detached(row)
    session.add(row)
    return row


def _before_flush(session: Session, _context: UOWTransaction, _instances: Any) -> None:
    write_queued(session)  # ORM rows about to be written may refer to a queued row


def _before_commit(session: Session) -> None:
    if not session.in_nested_transaction():
        write_queued(session)


def _after_transaction_end(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        session.info.pop(_QUEUED, None)  # rolled back (or committed): nothing waits any more


def install() -> None:
    """Register the listeners on every Session (idempotent); done on import of this module."""
    for name, listener in (
        ("before_flush", _before_flush),
        ("before_commit", _before_commit),
        ("after_transaction_end", _after_transaction_end),
    ):
        if not event.contains(Session, name, listener):
            event.listen(Session, name, listener)


install()
