"""Migration 0035 adds ``disbursements`` (one payout per loan, unique reference) and the reminder's
``notices.installment_id``; the downgrade removes both (SQLite and PostgreSQL)."""

from __future__ import annotations

from alembic import command
from sqlalchemy import inspect

from xiaodai.db.migrate import alembic_config, upgrade
from xiaodai.db.session import make_engine


def shape(url: str) -> tuple[set[str], set[str], set[tuple[str, ...]]]:
    engine = make_engine(url)
    try:
        seen = inspect(engine)
        tables = set(seen.get_table_names())
        notices = {c["name"] for c in seen.get_columns("notices")}
        unique: set[tuple[str, ...]] = set()
        if "disbursements" in tables:
            unique = {tuple(u["column_names"]) for u in seen.get_unique_constraints("disbursements")}
            unique |= {tuple(i["column_names"]) for i in seen.get_indexes("disbursements") if i.get("unique")}
        return tables, notices, unique
    finally:
        engine.dispose()


def test_upgrade_adds_disbursements_and_the_reminder_instalment_and_downgrade_removes_them(
    empty_url: str,
) -> None:
    upgrade(empty_url, "0030")
    tables, notices, _ = shape(empty_url)
    assert "disbursements" not in tables
    assert "installment_id" not in notices
    upgrade(empty_url, "0035")
    tables, notices, unique = shape(empty_url)
    assert "disbursements" in tables
    assert "installment_id" in notices
    assert {("loan_id",), ("channel_ref",)} <= unique  # one payout per loan, one row per reference
    command.downgrade(alembic_config(empty_url), "0030")
    tables, notices, _ = shape(empty_url)
    assert "disbursements" not in tables
    assert "installment_id" not in notices
