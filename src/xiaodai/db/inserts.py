"""One-row inserts without the unit of work (shell helpers).

A row whose every value is known when it is written (a decision record, a credit-report pull, a consent, an
application) does not need the ORM's flush machinery, which costs more CPU than the statement it sends.
``insert_id`` writes it with one cached Core ``INSERT … RETURNING id``; ``insert_loaded`` also hands the
session the ORM object as if it had been loaded, so later reads in the transaction (``session.get``, the
identity map) find it without a query, and later changes to it are flushed as ordinary updates.

Both flush the session first, so rows the caller added earlier (which this one may refer to) are written
before it.

``queue_insert`` / ``queue_loaded`` save a round trip: a row whose primary key is already allocated
(``nextval`` read with something else) waits, and is written with the next statement that takes the queue —
the next ``insert_id`` / ``insert_loaded`` of the transaction, or the audit chain's head at commit
(``execute_with_queued``): on PostgreSQL in the same statement (``WITH q0 AS (INSERT …) INSERT …``),
elsewhere just before it — or before the next ORM query or flush, or at commit, whichever comes first. A
Core read on the session's connection does not write the queue: a caller that reads a queued table that way
calls ``write_queued`` first.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any, TypeVar, cast

import psycopg
from psycopg import AsyncRawCursor, RawCursor
from psycopg.adapt import Transformer
from psycopg.pq import ExecStatus
from psycopg.rows import namedtuple_row
from sqlalchemy import Connection, Dialect, Table, bindparam, event, insert
from sqlalchemy.exc import MultipleResultsFound, NoResultFound
from sqlalchemy.orm import (
    ORMExecuteState,
    Session,
    SessionTransaction,
    UOWTransaction,
    make_transient_to_detached,
)
from sqlalchemy.util import await_only

from xiaodai.db.base import Base

TUPLES_OK = ExecStatus.TUPLES_OK

RowT = TypeVar("RowT", bound=Base)

_QUEUED = "xiaodai.db.queued_inserts"  # session.info: [(row class, values), ...] waiting to be written


@lru_cache(maxsize=64)
def _statement(row_class: type[Base], returning: tuple[str, ...]) -> Any:
    table = cast(Table, row_class.__table__)
    return insert(table).returning(*(table.c[name] for name in returning))


Shape = tuple[tuple[type[Base], tuple[str, ...]], ...]


@lru_cache(maxsize=64)
def _values(row_class: type[Base], names: tuple[str, ...], returning: tuple[str, ...]) -> Any:
    """``INSERT … VALUES (:name, …) RETURNING …`` with the values as named bound parameters (a statement that
    also carries other parameters, the queued rows', cannot take its column list from them)."""
    table = cast(Table, row_class.__table__)
    statement = insert(table).values({name: bindparam(name, type_=table.c[name].type) for name in names})
    return statement.returning(*(table.c[name] for name in returning)) if returning else statement


@lru_cache(maxsize=64)
def _with_ctes(statement: Any, queued: Shape) -> Any:
    """``WITH q0 AS (INSERT INTO <queued 0> …), … <statement>``, built once per statement and shape; the
    queued rows' parameters are named ``q<n>_<column>``."""
    for n, (queued_class, queued_names) in enumerate(queued):
        queued_table = cast(Table, queued_class.__table__)
        statement = statement.add_cte(
            insert(queued_table)
            .values(
                {name: bindparam(f"q{n}_{name}", type_=queued_table.c[name].type) for name in queued_names}
            )
            .cte(f"q{n}")
        )
    return statement


Queued = list[tuple[type[Base], dict[str, Any]]]


def queue_insert(session: Session, row_class: type[Base], values: dict[str, Any]) -> None:
    """Insert one row with the next statement that takes the queue (see the module's docstring). ``values``
    name every column without a server default, the primary key included. Outside a transaction or inside
    a savepoint the row is written at once (a savepoint rolled back must take its rows with it)."""
    if session.in_nested_transaction() or not session.in_transaction():
        session.flush()
        session.connection().execute(_statement(row_class, ()), values)
        return
    session.info.setdefault(_QUEUED, []).append((row_class, values))


def queue_loaded(session: Session, row_class: type[RowT], values: dict[str, Any]) -> RowT:
    """``queue_insert``, and the row as a persistent object of the session (as ``insert_loaded`` gives it):
    ``session.get`` finds it in the identity map; a column left to its server default is loaded on first
    access, by a query that writes the queue first. Outside a transaction or in a savepoint: written at
    once."""
    queue_insert(session, row_class, values)
    row = row_class(**values)
    make_transient_to_detached(row)
    session.add(row)
    return row


def write_queued(session: Session) -> None:
    """Write the queued rows now (on PostgreSQL in one statement)."""
    queued: Queued | None = session.info.pop(_QUEUED, None)
    if not queued:
        return
    *before, (last_class, last_values) = queued
    if before:
        session.info[_QUEUED] = before
    execute_with_queued(session, _values(last_class, tuple(last_values), ()), last_values)


def execute_with_queued(session: Session, statement: Any, params: dict[str, Any]) -> Any:
    """Execute ``statement`` (a Core statement built once, every column named in it: it is also the cache
    key of its merged form; run by ``execute_compiled``) on
    the session's connection, the queued rows written first: on PostgreSQL as ``WITH`` clauses of the same
    statement, elsewhere one statement each just before it."""
    connection = session.connection()
    queued: Queued | None = session.info.pop(_QUEUED, None)
    if not queued:
        return execute_compiled(connection, statement, params)
    if connection.dialect.name != "postgresql":
        for queued_class, queued_values in queued:
            connection.execute(_statement(queued_class, ()), queued_values)
        return execute_compiled(connection, statement, params)
    shape = tuple((queued_class, tuple(queued_values)) for queued_class, queued_values in queued)
    merged = dict(params)
    for n, (_, queued_values) in enumerate(queued):
        merged.update({f"q{n}_{name}": value for name, value in queued_values.items()})
    return execute_compiled(connection, _with_ctes(statement, shape), merged)


def take_queued_sql(session: Session) -> tuple[str, dict[str, Any]] | None:
    """The queued rows taken off the queue as ``WITH`` members of a driver statement (PostgreSQL):
    ``"q0 AS (INSERT … RETURNING 1), q1 AS (INSERT … RETURNING 1), "`` (empty when nothing waits) and their
    parameters (``q<n>_<column>``), for a caller that writes its own statement's text (and can make its own
    work wait for the inserts by reading the members: ``audit.trail``). None, the queue left as it is:
    a queued row's types convert values, so it cannot go as driver text (``write_queued`` writes it)."""
    queued: Queued | None = session.info.get(_QUEUED)
    if not queued:
        return "", {}
    dialect = session.get_bind().dialect
    shape = tuple((queued_class, tuple(queued_values)) for queued_class, queued_values in queued)
    ctes = _queued_ctes(shape, dialect)
    if ctes is None:
        return None
    session.info.pop(_QUEUED)
    params: dict[str, Any] = {}
    for n, (_, queued_values) in enumerate(queued):
        params.update({f"q{n}_{name}": value for name, value in queued_values.items()})
    return ctes, params


@lru_cache(maxsize=64)
def _queued_ctes(queued: Shape, dialect: Dialect) -> str | None:
    parts = []
    for n, (queued_class, queued_names) in enumerate(queued):
        queued_table = cast(Table, queued_class.__table__)
        statement = insert(queued_table).values(
            {name: bindparam(f"q{n}_{name}", type_=queued_table.c[name].type) for name in queued_names}
        )
        text_form = _compiled(statement, dialect)
        if text_form is None or text_form[1]:
            return None
        parts.append(f"q{n} AS ({text_form[0]} RETURNING 1), ")  # a row per row: a caller can wait for it
    return "".join(parts)


def _execute(
    session: Session, row_class: type[Base], values: dict[str, Any], returning: tuple[str, ...]
) -> Any:
    session.flush()
    if not session.info.get(_QUEUED):
        return session.connection().execute(_statement(row_class, returning), values).one()
    return execute_with_queued(session, _values(row_class, tuple(values), returning), values).one()


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
        write_queued(session)  # (the audit trail's commit hook, which runs first, takes them with its head)


def _before_orm_execute(state: ORMExecuteState) -> None:
    if state.session.info.get(_QUEUED):
        write_queued(state.session)  # an ORM query (or the load of an unloaded column) sees the queued rows


def _after_transaction_end(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        session.info.pop(_QUEUED, None)  # rolled back (or committed): nothing waits any more


def install() -> None:
    """Register the listeners on every Session (idempotent); done on import of this module."""
    for name, listener in (
        ("before_flush", _before_flush),
        ("before_commit", _before_commit),
        ("after_transaction_end", _after_transaction_end),
        ("do_orm_execute", _before_orm_execute),
    ):
        if not event.contains(Session, name, listener):
            event.listen(Session, name, listener)


install()


# -- a statement built once, run as its SQL text -----------------------------------------------------------


@lru_cache(maxsize=32)
def _compiled(statement: Any, dialect: Dialect) -> tuple[str, dict[str, Any]] | None:
    """The SQL text of ``statement`` for ``dialect`` and its constant parameters, when no bound parameter and
    no result column has a type that converts values (then the driver's values are exactly the values
    SQLAlchemy would return); None otherwise."""
    if dialect.paramstyle not in ("pyformat", "named"):
        return None  # positional placeholders: the parameters could not be passed by name
    compiled = statement.compile(dialect=dialect)
    if any(bind.type.dialect_impl(dialect).bind_processor(dialect) for bind in compiled.binds.values()):
        return None
    columns = getattr(statement, "exported_columns", ())  # a SELECT's columns, an INSERT's RETURNING
    if any(column.type.dialect_impl(dialect).result_processor(dialect, None) for column in columns):
        return None
    constants = {
        name: value for name, value in compiled.construct_params(_check=False).items() if value is not None
    }
    return str(compiled), constants


def execute_compiled(connection: Connection, statement: Any, params: dict[str, Any]) -> Any:
    """``connection.execute(statement, params)`` as the driver's own statement (``execute_sql``: the
    engine's execution events and error handling as usual, without SQLAlchemy's compile-cache look-up and
    type processing per call) when the statement's types convert nothing (``_compiled``); else as usual.
    For a hot statement built once, whose every column is named in the statement (not one whose column
    list SQLAlchemy takes from the parameters of each call). The rows answer ``one``, ``first``,
    ``scalar_one`` and iteration, and each row has its columns as attributes and by position."""
    text_form = _compiled(statement, connection.dialect)
    if text_form is None:
        return connection.execute(statement, params)
    sql, constants = text_form
    return execute_sql(connection, sql, {**constants, **params} if constants else params)


class Rows(list[Any]):
    """The rows of a statement run by ``execute_sql`` (named tuples), with the result methods its callers
    use."""

    def one(self) -> Any:
        if not self:
            raise NoResultFound("No row was found when one was required")
        if len(self) > 1:
            raise MultipleResultsFound("Multiple rows were found when exactly one was required")
        return self[0]

    def first(self) -> Any:
        return self[0] if self else None

    def scalar_one(self) -> Any:
        return self.one()[0]


_PLACEHOLDER = re.compile(r"%%|%\((\w+)\)s")


@lru_cache(maxsize=256)
def _pieces(sql: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """``sql`` cut at its ``%(name)s`` placeholders: the texts around them (``%%`` as ``%``; one more text
    than names) and the names, in order (a name used twice appears twice)."""
    texts: list[str] = []
    names: list[str] = []
    start = 0
    text = ""
    for found in _PLACEHOLDER.finditer(sql):
        text += sql[start : found.start()]
        start = found.end()
        if found[1] is None:
            text += "%"
            continue
        texts.append(text)
        names.append(found[1])
        text = ""
    texts.append(text + sql[start:])
    return tuple(texts), tuple(names)


@lru_cache(maxsize=256)
def _numbered(sql: str) -> tuple[str, tuple[str, ...]]:
    """``sql`` with its ``%(name)s`` placeholders as ``$1``, ``$2`` … (a name used twice is one number) and
    ``%%`` as ``%``, and the names in number order."""
    texts, names = _pieces(sql)
    numbers: dict[str, int] = {}
    parts = [texts[0]]
    for name, text in zip(names, texts[1:], strict=True):
        parts.append(f"${numbers.setdefault(name, len(numbers) + 1)}")
        parts.append(text)
    return "".join(parts), tuple(numbers)


def execute_sql(connection: Connection, sql: str, params: dict[str, Any]) -> Any:
    """The rows of ``sql`` (the driver's own text and parameters) on the connection's transaction.

    With psycopg, on a cursor of the pooled connection, through SQLAlchemy's own path for a statement it
    did not compile (``Connection._cursor_execute``: ``before_cursor_execute`` / ``after_cursor_execute``
    listeners, echo, errors wrapped as ``sqlalchemy.exc.DBAPIError`` and a lost connection invalidated),
    without building a ``CursorResult`` (its column metadata, built from the cursor's description on every
    call, cost more CPU than the round trip); the rows are ``Rows`` of named tuples (the statement's columns
    need distinct names). The ``%(name)s`` placeholders are numbered once per statement text (``$1`` …,
    ``_numbered``) and the statement sent by a ``psycopg.RawCursor``: psycopg's own conversion is cached only
    for statements under 4,096 characters and 50 parameters, and a decision's last statement (the queued
    rows and the audit events) is longer — it was parsed again on every call. Any other driver:
    ``exec_driver_sql``."""
    if connection.dialect.driver != "psycopg":
        return connection.exec_driver_sql(sql, params)
    return _psycopg_rows(connection, sql, params, commit=False)


def execute_sql_and_commit(connection: Connection, sql: str, params: dict[str, Any]) -> Any:
    """``execute_sql``, then the transaction committed, both in ONE message to the server: the statement with
    its values as literals (psycopg's own quoting, ``_with_literals``) and ``COMMIT``, sent as one simple
    query. For a statement that takes a lock held until the commit (the audit chain's): the lock is then held
    only while the server runs the two — never while this process's thread waits for its interpreter lock to
    send the COMMIT. (psycopg's pipeline mode, used before, sends the statement when it is executed and the
    COMMIT only when the thread runs again: under the HTTP benchmark's applications 6–9 backends on average
    waited for the chain lock, held by a backend idle in its transaction.)

    Called by a ``before_commit`` hook (``audit.trail``): SQLAlchemy's own commit then finds the connection
    idle and sends nothing (psycopg's ``commit`` on an idle connection is a no-op). A statement or a COMMIT
    that fails raises here, as ``execute_sql`` raises, and the transaction is rolled back: never committed
    in part (the server runs a simple query's statements until the first error). psycopg only (the caller
    checks ``connection.dialect.driver``)."""
    if connection.dialect.driver != "psycopg":
        raise ValueError("execute_sql_and_commit needs psycopg")
    return _psycopg_rows(connection, sql, params, commit=True)


def _with_literals(driver: psycopg.Connection[Any], sql: str, params: dict[str, Any]) -> str:
    """``sql`` with each ``%(name)s`` replaced by its value as an SQL literal, as psycopg's client-side
    binding (``ClientCursor``) writes it: the connection's adapters and its escaping (``as_literal``)."""
    texts, names = _pieces(sql)
    transformer = Transformer(driver)
    encoding = driver.info.encoding
    parts = [texts[0]]
    for name, text in zip(names, texts[1:], strict=True):
        try:
            value = params[name]
        except KeyError:
            raise ValueError(f"no value for the parameter {name!r} of {sql[:80]!r}…") from None
        parts.append(transformer.as_literal(value).decode(encoding))
        parts.append(text)
    return "".join(parts)


def _execute_literal(connection: Connection, cursor: Any, statement: str) -> None:
    """``statement`` (no parameters: psycopg sends it as a simple query, which may hold several statements)
    on ``cursor``, with the engine's ``before_cursor_execute`` / ``after_cursor_execute`` listeners called as
    ``Connection._cursor_execute`` calls them; a driver error propagates unwrapped (the caller wraps it)."""
    listening = connection._has_events or connection.engine._has_events
    if listening:
        for before in connection.dispatch.before_cursor_execute:
            statement, _ = before(connection, cursor, statement, None, None, False)
    cursor.execute(statement)
    if listening:
        connection.dispatch.after_cursor_execute(connection, cursor, statement, None, None, False)


class _AwaitedCursor:
    """psycopg's asynchronous raw cursor used from synchronous code that runs in SQLAlchemy's greenlet on the
    event loop (``api.loop_work``, the asynchronous dialect): each call awaited there, as SQLAlchemy's own
    adapter of the driver does. The methods ``_psycopg_rows`` and SQLAlchemy's execute path use."""

    __slots__ = ("_cursor",)

    def __init__(self, cursor: AsyncRawCursor[Any]) -> None:
        self._cursor = cursor

    def execute(self, query: str, params: Any = None) -> _AwaitedCursor:
        await_only(self._cursor.execute(query, params))
        return self

    def fetchall(self) -> list[Any]:
        return await_only(self._cursor.fetchall())

    def close(self) -> None:
        await_only(self._cursor.close())

    @property
    def pgresult(self) -> Any:
        return self._cursor.pgresult


def _psycopg_rows(connection: Connection, sql: str, params: dict[str, Any], *, commit: bool) -> Rows:
    if not connection.in_transaction():
        connection.begin()  # as exec_driver_sql would (autobegin); the session's connection has begun
    driver = cast(psycopg.Connection[Any], connection.connection.driver_connection)
    values: tuple[Any, ...] = ()
    if commit:  # one simple query: the statement, its values as literals, and the COMMIT
        statement = _with_literals(driver, sql, params) + ";\nCOMMIT"
    else:
        statement, names = _numbered(sql)
        try:
            values = tuple(params[name] for name in names)
        except KeyError as exc:
            raise ValueError(f"no value for the parameter {exc.args[0]!r} of {sql[:80]!r}…") from None
    cursor: Any
    if connection.dialect.is_async:  # in SQLAlchemy's greenlet on the event loop (``api.loop_work``)
        awaited = cast(psycopg.AsyncConnection[Any], driver)
        cursor = _AwaitedCursor(AsyncRawCursor(awaited, row_factory=namedtuple_row))
    else:
        cursor = RawCursor(driver, row_factory=namedtuple_row)
    try:
        if commit:
            _execute_literal(connection, cursor, statement)
        else:
            connection._cursor_execute(cursor, statement, values)
        result = cursor.pgresult  # (several statements: the cursor is on the first one's result)
        rows = Rows(cursor.fetchall() if result is not None and result.status == TUPLES_OK else ())
    except BaseException as exc:
        # an error names the statement with its placeholders and its values apart (SQLAlchemy shortens
        # them), as before: not the whole text sent, every value written into it
        if commit:
            connection._handle_dbapi_exception(exc, sql, params, cursor, None)
        connection._handle_dbapi_exception(exc, statement, values, cursor, None)
        raise  # (not reached: the handler raises)
    finally:
        cursor.close()
    return rows
