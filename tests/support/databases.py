"""Throw-away test databases: SQLite files and PostgreSQL databases copied from a migrated template."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable

import psycopg

PG_ADMIN = os.environ.get("XIAODAI_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")


def pg_url(name: str) -> str:
    return f"{PG_ADMIN.rsplit('/', 1)[0]}/{name}"


def admin(sql: str) -> None:
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(sql)  # type: ignore[arg-type]


def new_pg_copy(template: str, prefix: str = "xiaodai_t") -> tuple[str, Callable[[], None]]:
    """A fresh database copied from ``template``, and the function that drops it."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    return pg_url(name), lambda: admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
