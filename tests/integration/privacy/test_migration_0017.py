"""Migration 0017 encrypts the account names already stored in clear (and the downgrade puts them back),
on both databases."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from alembic import command
from sqlalchemy import text
from sqlalchemy.orm import Session

from support.databases import admin, pg_url
from xiaodai.db.migrate import alembic_config, upgrade
from xiaodai.db.session import make_engine
from xiaodai.db.tables import UserRow

PEOPLE = [("a@x.cn", "张三"), ("b@x.cn", "Ada Lovelace"), ("c@x.cn", "—")]  # "—": an erased account


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


def test_names_are_encrypted_by_the_upgrade_and_restored_by_the_downgrade(empty_url: str) -> None:
    upgrade(empty_url, "0012")
    engine = make_engine(empty_url)
    with engine.begin() as conn:
        for email, name in PEOPLE:
            conn.execute(
                text(
                    "INSERT INTO users (kind, email, name, password_hash, roles, lang, failed_logins) "
                    "VALUES ('borrower', :email, :name, '!', '', 'zh', 0)"
                ),
                {"email": email, "name": name},
            )
    engine.dispose()
    upgrade(empty_url)
    engine = make_engine(empty_url)
    with engine.connect() as conn:
        raw = conn.execute(text("SELECT email, name, name_enc FROM users ORDER BY email")).all()
    assert [r.name for r in raw] == ["", "", ""]
    assert raw[0].name_enc.startswith("v")
    assert raw[2].name_enc is None
    assert all(name not in str(r.name_enc) for r, (_, name) in zip(raw, PEOPLE, strict=True))
    with Session(engine) as s:
        users = sorted(s.query(UserRow).all(), key=lambda u: u.email)
        assert [u.name for u in users] == [name for _, name in PEOPLE]
    engine.dispose()

    command.downgrade(alembic_config(empty_url), "0012")
    engine = make_engine(empty_url)
    with engine.connect() as conn:
        back = conn.execute(text("SELECT name FROM users ORDER BY email")).scalars().all()
    engine.dispose()
    assert back == [name for _, name in PEOPLE]
