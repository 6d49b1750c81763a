"""``db.inserts.execute_sql_and_commit`` (PostgreSQL, psycopg): the statement and its COMMIT reach the server
in ONE message, so a lock the statement takes (the audit chain's) is never held while the client's thread
waits to send the COMMIT; values are written exactly as given (psycopg's literals); a statement or a COMMIT
that fails raises and commits nothing."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, event, text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from xiaodai.audit import trail
from xiaodai.db.inserts import _pieces, execute_sql_and_commit

AWKWARD = [
    "it's",
    'say "hi"',
    "back\\slash \\x00 \\n",
    "100% %(name)s %% $1 ?",
    "'); DROP TABLE audit_events; --",
    "多行\n文本\t制表 ☃ 😀",
    "E'\\''",
    "",
]


@pytest.fixture
def pg(engine: Engine) -> Engine:
    if engine.dialect.name != "postgresql":
        pytest.skip("psycopg only: SQLite commits as usual")
    return engine


def test_pieces_cut_at_placeholders_and_unescape_percent() -> None:
    assert _pieces("a %(x)s b %% c %(y)s%(x)s") == (("a ", " b % c ", "", ""), ("x", "y", "x"))
    assert _pieces("no placeholders 100%%") == (("no placeholders 100%",), ())


def test_values_are_stored_exactly_as_given(pg: Engine) -> None:
    table = f"t_{uuid.uuid4().hex[:8]}"
    with pg.begin() as c:
        c.execute(text(f"CREATE TABLE {table} (n int, s text, b bytea, d numeric, t timestamptz, z text)"))
    rows: list[tuple[Any, ...]] = []
    for n, s in enumerate(AWKWARD):
        at = datetime(2026, 1, 2, 3, 4, 5, 6 + n, UTC)
        value = (n, s, s.encode() + b"\x00\xff'", Decimal("12345678901234567890.01"), at)
        rows.append(value)
        with pg.connect() as c:
            got = execute_sql_and_commit(
                c,
                f"INSERT INTO {table} VALUES (%(n)s, %(s)s, %(b)s, %(d)s, %(t)s, %(s)s) RETURNING n, s",
                {"n": n, "s": s, "b": value[2], "d": value[3], "t": at},
            )
            assert [tuple(r) for r in got] == [(n, s)]
            driver: Any = c.connection.driver_connection
            assert not driver.pgconn.transaction_status  # IDLE: committed
    with pg.connect() as c:  # another connection: committed
        stored = c.execute(text(f"SELECT n, s, b, d, t, z FROM {table} ORDER BY n")).all()
        c.execute(text(f"DROP TABLE {table}"))
        c.commit()
    assert [tuple(r) for r in stored] == [(n, s, b, d, t, s) for n, s, b, d, t in rows]


def test_a_failing_statement_or_commit_raises_and_commits_nothing(pg: Engine) -> None:
    table = f"t_{uuid.uuid4().hex[:8]}"
    with pg.begin() as c:
        c.execute(text(f"CREATE TABLE {table} (k int, UNIQUE (k) DEFERRABLE INITIALLY DEFERRED)"))
        c.execute(text(f"INSERT INTO {table} VALUES (1)"))
    try:
        with pg.connect() as c:  # the statement succeeds, the COMMIT fails (the deferred unique check)
            c.execute(text(f"INSERT INTO {table} VALUES (2)"))
            with pytest.raises(IntegrityError):
                execute_sql_and_commit(c, f"INSERT INTO {table} VALUES (%(k)s) RETURNING k", {"k": 1})
            c.rollback()
        with pg.connect() as c:  # the statement fails: nothing after it runs
            c.execute(text(f"INSERT INTO {table} VALUES (3)"))
            with pytest.raises(DBAPIError, match="division by zero") as failed:
                execute_sql_and_commit(c, f"INSERT INTO {table} VALUES (%(k)s / 0)", {"k": 4})
            c.rollback()
        # the error names the statement as written and its values apart, not the literal text sent
        assert failed.value.statement == f"INSERT INTO {table} VALUES (%(k)s / 0)"
        assert failed.value.params == {"k": 4}
        with pg.connect() as c:
            assert c.execute(text(f"SELECT k FROM {table}")).scalars().all() == [1]
    finally:
        with pg.begin() as c:
            c.execute(text(f"DROP TABLE {table}"))


def test_the_audit_chain_lock_is_released_when_the_statement_returns(
    pg: Engine, factory: sessionmaker[Session]
) -> None:
    """When the audited statement comes back to the client, its transaction has committed: no advisory lock
    is left and no backend is idle in a transaction holding it (before, the COMMIT followed only when the
    thread ran again — under load, after other threads had their turn with the interpreter lock)."""
    seen: list[tuple[int, str]] = []

    def after(conn: Connection, _cursor: Any, statement: str, *_: Any) -> None:
        if "audit_append(" in statement:
            with pg.connect() as other:
                locks = other.execute(
                    text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'")
                ).scalar_one()
            seen.append((locks, statement.rsplit(";", 1)[-1].strip()))

    event.listen(pg, "after_cursor_execute", after)
    try:
        for n in range(3):
            with factory() as s, s.begin():
                trail.record(s, actor=f"a{n}", action="pii-view", subject=AWKWARD[n], reason="ALLOWED")
    finally:
        event.remove(pg, "after_cursor_execute", after)
    assert seen == [(0, "COMMIT")] * 3
    with factory() as s:
        report = trail.verify_chain(s)
        subjects = trail.list_events(s, limit=10)
    assert report.ok
    assert [e["subject"] for e in reversed(subjects)][-3:] == AWKWARD[:3]
