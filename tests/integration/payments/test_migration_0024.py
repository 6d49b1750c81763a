"""Migration 0024 creates the payments tables (and the one-default-card index); the downgrade drops them."""

from __future__ import annotations

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError

from xiaodai.db.migrate import alembic_config, upgrade
from xiaodai.db.session import make_engine

TABLES = {"payment_cards", "debit_attempts", "payment_callbacks"}


def tables(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_upgrade_downgrade_upgrade(empty_url: str) -> None:
    config = alembic_config(empty_url)
    revision = ScriptDirectory.from_config(config).get_revision("0024")
    assert revision is not None
    upgrade(empty_url, "0024")
    assert tables(empty_url) >= TABLES
    engine = make_engine(empty_url)
    insert = text(
        "INSERT INTO payment_cards (borrower_id, number_enc, number_bidx, masked, bank, status, is_default) "
        "VALUES (1, 'v1.x', 'b', '622202******1234', 'ICBC', 'bound', :d)"
    )
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO users (kind, email, name, password_hash, roles, lang, failed_logins) "
                "VALUES ('borrower', 'a@x', '', '!', '', 'zh', 0)"
            )
        )
        conn.execute(insert, {"d": True})
        conn.execute(insert, {"d": False})  # a second, non-default card is fine
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(insert, {"d": True})  # a second default is not
    engine.dispose()
    command.downgrade(config, str(revision.down_revision))
    assert not tables(empty_url) & TABLES
    upgrade(empty_url, "0024")
    assert tables(empty_url) >= TABLES


def test_0027_adds_the_instalment_index_and_drops_it_on_downgrade(empty_url: str) -> None:
    def indexes() -> set[str]:
        engine = make_engine(empty_url)
        try:
            return {i["name"] for i in inspect(engine).get_indexes("debit_attempts")}
        finally:
            engine.dispose()

    upgrade(empty_url, "0027")
    assert "ix_debit_attempts_installment" in indexes()
    command.downgrade(alembic_config(empty_url), "0024")
    assert "ix_debit_attempts_installment" not in indexes()


def test_0034_partial_indexes_of_pending_attempts_and_suspense_entries(empty_url: str) -> None:
    def indexes() -> set[str]:
        engine = make_engine(empty_url)
        try:
            return {i["name"] for i in inspect(engine).get_indexes("debit_attempts")}
        finally:
            engine.dispose()

    def suspense_index() -> bool:
        engine = make_engine(empty_url)
        try:
            names = {i["name"] for i in inspect(engine).get_indexes("journal_entries")}
        finally:
            engine.dispose()
        return "ix_journal_entries_suspense" in names

    upgrade(empty_url, "0034")
    assert "ix_debit_attempts_pending" in indexes()
    assert "ix_debit_attempts_status" not in indexes()
    assert suspense_index()
    command.downgrade(alembic_config(empty_url), "0030")
    assert "ix_debit_attempts_status" in indexes()
    assert "ix_debit_attempts_pending" not in indexes()
    assert not suspense_index()
