"""Migration 0042 sets the loans table's fillfactor to 60 on PostgreSQL (room on each page for the debit
batch's updates to stay HOT); the downgrade sets migration 0012's 85 again. SQLite has no fillfactor:
nothing changes there."""

from __future__ import annotations

from alembic import command
from sqlalchemy import text

from xiaodai.db.migrate import alembic_config, upgrade
from xiaodai.db.session import make_engine


def options(url: str) -> list[str] | None:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            if connection.dialect.name != "postgresql":
                return None
            found = connection.execute(
                text("SELECT reloptions FROM pg_class WHERE oid = 'loans'::regclass")
            ).scalar_one()
            return list(found or [])
    finally:
        engine.dispose()


def test_upgrade_sets_the_loans_fillfactor_and_downgrade_resets_it(empty_url: str) -> None:
    postgresql = empty_url.startswith("postgresql")
    upgrade(empty_url, "0039")
    assert options(empty_url) == (["fillfactor=85"] if postgresql else None)  # migration 0012's
    upgrade(empty_url, "0042")
    assert options(empty_url) == (["fillfactor=60"] if postgresql else None)
    command.downgrade(alembic_config(empty_url), "0039")
    assert options(empty_url) == (["fillfactor=85"] if postgresql else None)
