"""``accounts.auth_notices`` on PostgreSQL (migration 0048): a committed change to a user or a token, made by
any connection, makes a listening process forget that user's remembered tokens within moments; tokens
looked up while it listens are remembered long, others briefly; a lost connection drops everything
remembered and the listener comes back."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest
from alembic import command
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from support.databases import admin, pg_url
from xiaodai.accounts import service as accounts
from xiaodai.accounts.auth_notices import AuthNotices
from xiaodai.accounts.token_cache import LONG_TTL_SECONDS, TOKENS, TTL_SECONDS, TokenCache
from xiaodai.db.migrate import alembic_config, upgrade
from xiaodai.db.session import make_engine
from xiaodai.db.tables import UserRow

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)


@pytest.fixture
def postgresql(engine: Engine) -> Engine:
    if engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL only: LISTEN/NOTIFY")
    return engine


@pytest.fixture
def notices(postgresql: Engine) -> Iterator[AuthNotices]:
    url = postgresql.url.set(drivername="postgresql").render_as_string(hide_password=False)
    listener = AuthNotices(url, health_seconds=0.2, retry_seconds=0.1).start()
    assert listener.wait_listening(10)
    yield listener
    listener.stop()
    TOKENS.listening(None)


def _borrower_with_token(factory: sessionmaker[Session], notices: AuthNotices, email: str) -> tuple[int, str]:
    """A borrower and a token; the sign-up's own notice (its name is written after the row has its id: an
    UPDATE) heard, its bar on remembering the user lifted, and the count of notices heard back to 0."""
    with factory() as s, s.begin():
        user = accounts.sign_up(s, email=email, name="Notice Test", password="correct horse 1")
        token = accounts.issue_token(s, user=user, now=NOW)
    assert _until(lambda: notices.heard == 1)
    TOKENS.clear()
    notices.heard = 0
    return user.id, token


def _until(condition: Callable[[], bool], seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return condition()


def _remembered_for(token: str) -> float:
    entry = TOKENS.get(accounts.token_digest(token))
    assert entry is not None
    return entry.until - TOKENS.ticks()


def test_a_lock_committed_elsewhere_is_heard_and_the_token_forgotten(
    notices: AuthNotices, factory: sessionmaker[Session], postgresql: Engine
) -> None:
    user_id, token = _borrower_with_token(factory, notices, "heard@example.com")
    with factory() as s:
        accounts.user_for_token(s, token, now=NOW)  # looked up while listening: remembered long
    assert _remembered_for(token) > TTL_SECONDS
    url = postgresql.url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(url, autocommit=True) as other:  # another process's (an operator's) SQL
        other.execute("UPDATE users SET locked_until = %s WHERE id = %s", (NOW + timedelta(days=1), user_id))
    assert _until(lambda: TOKENS.get(accounts.token_digest(token)) is None, 2.0)
    assert notices.heard == 1
    with factory() as s, pytest.raises(accounts.AuthError, match="locked"):
        accounts.user_for_token(s, token, now=NOW)


def test_a_revoked_token_and_a_deleted_one_are_heard_an_unchanged_row_is_not(
    notices: AuthNotices, factory: sessionmaker[Session], postgresql: Engine
) -> None:
    user_id, _token = _borrower_with_token(factory, notices, "tokens@example.com")
    url = postgresql.url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(url, autocommit=True) as other:
        other.execute("UPDATE users SET lang = lang WHERE id = %s", (user_id,))  # changes nothing
        other.execute("UPDATE api_tokens SET revoked = revoked WHERE user_id = %s", (user_id,))
        time.sleep(0.5)
        assert notices.heard == 0
        with other.transaction():  # two changes in one transaction: one notice (same payload)
            other.execute("UPDATE api_tokens SET revoked = true WHERE user_id = %s", (user_id,))
            other.execute("UPDATE users SET failed_logins = failed_logins + 1 WHERE id = %s", (user_id,))
        assert _until(lambda: notices.heard == 1)
        with other.transaction():  # rolled back: nothing sent
            other.execute("DELETE FROM api_tokens WHERE user_id = %s", (user_id,))
            raise_rollback = psycopg.Rollback()
            raise raise_rollback
    time.sleep(0.5)
    assert notices.heard == 1
    with psycopg.connect(url, autocommit=True) as other:
        other.execute("DELETE FROM api_tokens WHERE user_id = %s", (user_id,))
    assert _until(lambda: notices.heard == 2)


def test_a_token_looked_up_before_the_listening_began_is_remembered_briefly() -> None:
    clock = [100.0]
    cache = TokenCache(ttl=2.0, ticks=lambda: clock[0])
    expires = NOW + timedelta(days=1)
    asked_before = cache.ticks_now()
    clock[0] += 1
    cache.listening(cache.ticks_now(), long_ttl=LONG_TTL_SECONDS)
    cache.put("a", user_id=1, user_columns={"id": 1}, token_expires_at=expires, looked_up_at=asked_before)
    cache.put("b", user_id=2, user_columns={"id": 2}, token_expires_at=expires, looked_up_at=clock[0])
    cache.put("c", user_id=3, user_columns={"id": 3}, token_expires_at=expires)  # no tick: brief
    clock[0] += 2.5
    assert cache.get("a") is None
    assert cache.get("c") is None
    assert cache.get("b") is not None
    cache.forget_user(2)  # a notice
    assert cache.get("b") is None
    # barred for the short TTL: a look-up that read the row before the change cannot put it back
    again = cache.put("b", user_id=2, user_columns={"id": 2}, token_expires_at=expires, looked_up_at=clock[0])
    assert not again
    cache.put("d", user_id=4, user_columns={"id": 4}, token_expires_at=expires, looked_up_at=clock[0])
    cache.listening(None)  # the connection lost: everything remembered is dropped
    assert cache.get("d") is None
    cache.put("e", user_id=5, user_columns={"id": 5}, token_expires_at=expires, looked_up_at=clock[0])
    clock[0] += 2.5
    assert cache.get("e") is None  # not listening: brief


def test_a_lost_connection_drops_what_was_remembered_and_the_listener_comes_back(
    notices: AuthNotices, factory: sessionmaker[Session], postgresql: Engine
) -> None:
    user_id, token = _borrower_with_token(factory, notices, "lost@example.com")
    with factory() as s:
        accounts.user_for_token(s, token, now=NOW)
    assert TOKENS.get(accounts.token_digest(token)) is not None
    with postgresql.connect() as conn:  # the listener's backend goes away (a restart, a network cut)
        killed = conn.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE application_name = 'xiaodai-auth-notices' AND datname = current_database()"
            )
        ).all()
    assert any(row[0] for row in killed)
    assert _until(lambda: TOKENS.get(accounts.token_digest(token)) is None, 3.0)
    assert _until(lambda: notices.listening, 5.0)  # connected and listening again
    with factory() as s:
        accounts.user_for_token(s, token, now=NOW)
    assert _remembered_for(token) > TTL_SECONDS
    with factory() as s, s.begin():
        user = s.get(UserRow, user_id)
        assert user is not None
        accounts.revoke_tokens(s, user=user)
    assert _until(lambda: TOKENS.get(accounts.token_digest(token)) is None, 2.0)


def test_migration_0048_adds_the_triggers_and_its_downgrade_removes_them() -> None:
    name = f"xiaodai_m_{uuid.uuid4().hex[:10]}"
    admin(f'CREATE DATABASE "{name}"')
    url = pg_url(name)
    engine = make_engine(url)
    try:
        upgrade(url, "0048")

        def triggers() -> int:
            with engine.connect() as c:
                found = c.execute(text("SELECT count(*) FROM pg_trigger WHERE tgname LIKE '%\\_auth\\_%'"))
                return int(found.scalar_one())

        assert triggers() == 4  # users and api_tokens: changed, deleted
        command.downgrade(alembic_config(url), "0047")
        assert triggers() == 0
        command.upgrade(alembic_config(url), "0048")
        assert triggers() == 4
    finally:
        engine.dispose()
        admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_where_a_served_process_listens(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    from xiaodai.api.app import auth_notices_url

    sqlite = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    postgres = make_engine("postgresql+psycopg://postgres@127.0.0.1:5432/somewhere")
    assert auth_notices_url(sqlite) is None
    assert auth_notices_url(postgres) == "postgresql://postgres@127.0.0.1:5432/somewhere"
    monkeypatch.setenv("XIAODAI_AUTH_NOTICES_URL", "postgresql://postgres@10.0.0.5:5432/direct")
    assert auth_notices_url(postgres) == "postgresql://postgres@10.0.0.5:5432/direct"  # around PgBouncer
    monkeypatch.setenv("XIAODAI_AUTH_NOTICES", "off")
    assert auth_notices_url(postgres) is None
    sqlite.dispose()
    postgres.dispose()
