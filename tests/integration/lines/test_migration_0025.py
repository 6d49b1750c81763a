"""Migration 0025 adds the credit-line tables and ``loans.line_id`` (nullable: existing loans are on no
line); the downgrade removes them and a second upgrade works — on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic import command
from sqlalchemy import inspect

from xiaodai.db.migrate import alembic_config, upgrade
from xiaodai.db.session import make_engine

TABLES = {"credit_lines", "credit_line_events", "line_notices", "credit_line_drawdowns"}


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
