"""Engine and session factory.

``XIAODAI_DATABASE_URL`` selects the database; it is read only here, in the shell.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from xiaodai.audit.trail import install as install_audit_chain

DEFAULT_URL = "sqlite:///var/xiaodai.db"

install_audit_chain()  # every Session chains the audit events it writes (xiaodai.audit.trail)


def database_url() -> str:
    return os.environ.get("XIAODAI_DATABASE_URL", DEFAULT_URL)


def normalise_url(url: str) -> str:
    """Use psycopg 3 for PostgreSQL URLs given without a driver."""
    if url.startswith("postgresql://"):
        return "postgresql+psycopg://" + url[len("postgresql://") :]
    if url.startswith("postgres://"):
        return "postgresql+psycopg://" + url[len("postgres://") :]
    return url


def make_engine(url: str | None = None, **kwargs: Any) -> Engine:
    target = normalise_url(url or database_url())
    if target.startswith("sqlite:///") and not target.startswith("sqlite:///:memory:"):
        Path(target[len("sqlite:///") :]).parent.mkdir(parents=True, exist_ok=True)
    if target.startswith("sqlite"):
        engine = create_engine(target, connect_args={"timeout": 30}, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin_immediate)
        return engine
    return create_engine(target, pool_size=10, max_overflow=10, **kwargs)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # we issue BEGIN ourselves (below)
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _sqlite_begin_immediate(connection: Any) -> None:
    # Writers serialise at BEGIN instead of failing on lock upgrade mid-transaction.
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def is_postgres(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commit once at the end, roll back on any error."""
    with factory() as session, session.begin():
        yield session
