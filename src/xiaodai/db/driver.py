"""A hot statement sent straight to the driver on the session's own connection (PostgreSQL; shell helper).

For one statement of a hot path, SQLAlchemy's per-statement machinery costs more client CPU than the
statement's own round trip: the execution context, the compiled-cache look-up, the ``CursorResult`` and,
because a result reads ``cursor.description``, psycopg building a ``Column`` object per result column on
every call (a borrower's repayment reads ~30 columns). :func:`fetch_rows` runs a statement built once, as its
SQL text compiled once for the connection's dialect, on the same DBAPI connection and so in the same
transaction, and keeps what matters of SQLAlchemy's own execution:

- the engine's ``before_cursor_execute`` and ``after_cursor_execute`` listeners are called with the statement
  and its parameters (what the tests that count statements, and any instrumentation, listen to);
- a driver error is raised as SQLAlchemy raises it (``sqlalchemy.exc.DBAPIError`` and its subclasses, the
  connection invalidated on a disconnect, the ``handle_error`` listeners called);
- psycopg prepares a statement it sees repeatedly on a connection, as it does under SQLAlchemy.

Only statements whose types convert nothing on the way in or out qualify (then the driver's values are
exactly what SQLAlchemy would return); anything else raises ``TypeError`` when first run — a wrong
value can never come back silently. Rows are plain tuples, in the statement's column order.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, Dialect
from sqlalchemy.sql.elements import ClauseElement


class DriverStatement:
    """A statement (Core ``select``/``text``/DML, built once) and its SQL text per dialect name."""

    __slots__ = ("_sql", "statement")

    def __init__(self, statement: ClauseElement) -> None:
        self.statement = statement
        self._sql: dict[str, str] = {}

    def sql(self, dialect: Dialect) -> str:
        text = self._sql.get(dialect.name)
        if text is None:
            text = self._sql.setdefault(dialect.name, _compile(self.statement, dialect))
        return text


def _compile(statement: ClauseElement, dialect: Dialect) -> str:
    if dialect.paramstyle != "pyformat":
        raise TypeError(f"{dialect.name}: the driver's parameters are not named (pyformat)")
    compiled: Any = statement.compile(dialect=dialect)  # a SQLCompiler (binds, construct_params)
    if any(value is not None for value in compiled.construct_params(_check=False).values()):
        raise TypeError("a statement run by the driver has every value as a named parameter (no constants)")
    if any(bind.type.dialect_impl(dialect).bind_processor(dialect) for bind in compiled.binds.values()):
        raise TypeError("a parameter's type converts its value: run this statement through SQLAlchemy")
    for column in getattr(statement, "exported_columns", ()):
        if column.type.dialect_impl(dialect).result_processor(dialect, None):
            raise TypeError(f"column {column.name} converts its values: run it through SQLAlchemy")
    return str(compiled)


def fetch_rows(
    connection: Connection, statement: DriverStatement, params: Mapping[str, Any]
) -> list[tuple[Any, ...]]:
    """The rows ``statement`` returns for ``params``, run on ``connection``'s DBAPI connection (see the
    module docstring). For statements that return rows (a ``SELECT``, or ``RETURNING``)."""
    sql = statement.sql(connection.dialect)
    if connection._transaction is None:  # as SQLAlchemy's own execute: the connection's transaction begins
        connection._autobegin()  # (else its ``commit()`` would not know of the driver's implicit BEGIN)
    fairy = connection.connection
    # the driver's own cursor; on the asynchronous dialect (``api.loop_work``: in a greenlet on the event
    # loop) SQLAlchemy's adapter of it, whose execute awaits the driver's
    raw: Any = fairy.dbapi_connection if connection.dialect.is_async else fairy.driver_connection
    cursor = raw.cursor()
    try:
        listening = connection._has_events or connection.engine._has_events
        if listening:  # as ``Connection._exec_single_context`` calls them (no execution context here)
            for before in connection.dispatch.before_cursor_execute:
                sql, params = before(connection, cursor, sql, params, None, False)
        if connection._echo:  # the engine's ``echo``: logged as SQLAlchemy logs its own statements
            connection._log_info(sql)
        try:
            cursor.execute(sql, params)
            rows: list[tuple[Any, ...]] = cursor.fetchall()
        except BaseException as error:  # as SQLAlchemy: a driver error wrapped, a broken connection dropped
            connection._handle_dbapi_exception(error, sql, params, cursor, None)  # raises
        if listening:
            connection.dispatch.after_cursor_execute(connection, cursor, sql, params, None, False)
        return rows
    finally:
        cursor.close()
