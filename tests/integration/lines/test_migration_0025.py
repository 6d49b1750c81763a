"""Migration 0025 adds the credit-line tables and ``loans.line_id`` (nullable: existing loans are on no
line); the downgrade removes them and a second upgrade works — on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from alembic import command
from sqlalchemy import inspect

from support.databases import admin, pg_url
from xiaodai.db.migrate import alembic_config, upgrade
from xiaodai.db.session import make_engine

TABLES = {"credit_lines", "credit_line_events", "line_notices", "credit_line_drawdowns"}


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_url(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'm.db'}"
        return
    name = f"xiaodai_m_{uuid.uuid4().hex[:10]}"
    admin(f'CREATE DATABASE "{name}"')
    try:
        yield pg_url(name)
    finally:
        admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def shape(url: str) -> tuple[set[str], set[str]]:
    engine = make_engine(url)
    try:
        found = inspect(engine)
        return set(found.get_table_names()), {c["name"] for c in found.get_columns("loans")}
    finally:
        engine.dispose()


def test_upgrade_downgrade_upgrade(empty_url: str) -> None:
    upgrade(empty_url, "0024")
    names, columns = shape(empty_url)
    assert not names & TABLES
    assert "line_id" not in columns
    upgrade(empty_url, "0025")
    names, columns = shape(empty_url)
    assert names >= TABLES
    assert "line_id" in columns
    command.downgrade(alembic_config(empty_url), "0024")
    names, columns = shape(empty_url)
    assert not names & TABLES
    assert "line_id" not in columns
    upgrade(empty_url, "0025")
    assert shape(empty_url)[0] >= TABLES
