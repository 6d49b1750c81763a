"""Migration 0017 encrypts the account names already stored in clear (and the downgrade puts them back),
on both databases."""

from __future__ import annotations

from alembic import command
from sqlalchemy import text
from sqlalchemy.orm import Session

from xiaodai.db.migrate import alembic_config, upgrade
from xiaodai.db.session import make_engine
from xiaodai.db.tables import UserRow

PEOPLE = [("a@x.cn", "张三"), ("b@x.cn", "Ada Lovelace"), ("c@x.cn", "—")]  # "—": an erased account


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
