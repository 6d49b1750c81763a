"""Bearer tokens are remembered per process for at most ``TTL_SECONDS``: a revocation written by ANOTHER
process (straight into the database here) takes effect within that bound; one made through this process
(logout, lock) at once (tests/api/test_sessions_tokens.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlalchemy.sql import Executable

from support.journey import borrower
from xiaodai.accounts import token_cache
from xiaodai.accounts.token_cache import TTL_SECONDS
from xiaodai.db.tables import ApiTokenRow, UserRow


class Ticks:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def ticks(monkeypatch: pytest.MonkeyPatch) -> Iterator[Ticks]:
    fake = Ticks()
    monkeypatch.setattr(token_cache.TOKENS, "ticks", fake)
    token_cache.TOKENS.clear()
    yield fake
    token_cache.TOKENS.clear()


def behind_our_back(client: TestClient, statement: Executable) -> None:
    """A write by another worker process: this process's cache is not told."""
    with client.app.state.session_factory() as s, s.begin():  # type: ignore[attr-defined]
        s.execute(statement)


def test_a_token_revoked_elsewhere_stops_within_the_bound(client: TestClient, ticks: Ticks) -> None:
    me = borrower(client, "elsewhere@example.com")
    assert client.get("/api/loans", headers=me).status_code == 200  # remembered now
    behind_our_back(client, update(ApiTokenRow).values(revoked=True))
    ticks.now += TTL_SECONDS - 0.01
    assert client.get("/api/loans", headers=me).status_code == 200  # still inside the documented bound
    ticks.now += 0.01
    assert client.get("/api/loans", headers=me).status_code == 401


def test_an_account_locked_elsewhere_stops_within_the_bound(client: TestClient, ticks: Ticks) -> None:
    from datetime import UTC, datetime

    me = borrower(client, "lockedelsewhere@example.com")
    assert client.get("/api/auth/me", headers=me).status_code == 200
    behind_our_back(client, update(UserRow).values(locked_until=datetime(2099, 1, 1, tzinfo=UTC)))
    assert client.get("/api/auth/me", headers=me).status_code == 200
    ticks.now += TTL_SECONDS
    answer = client.get("/api/auth/me", headers=me)
    assert answer.status_code == 401
    assert "locked" in answer.json()["message"]


def test_logout_here_is_immediate_even_with_a_remembered_token(client: TestClient, ticks: Ticks) -> None:
    me = borrower(client, "here@example.com")
    assert client.get("/api/loans", headers=me).status_code == 200
    assert client.get("/api/loans", headers=me).status_code == 200  # served from the memory
    assert client.post("/api/auth/logout", headers=me).status_code == 200
    assert client.get("/api/loans", headers=me).status_code == 401  # no time passed at all


def test_a_remembered_user_is_a_working_row_of_the_request(client: TestClient, ticks: Ticks) -> None:
    me = borrower(client, "row@example.com")
    first = client.get("/api/auth/me", headers=me).json()
    again = client.get("/api/auth/me", headers=me).json()  # from the memory: name decrypted, roles read
    assert again == first
    assert again["email"] == "row@example.com"
