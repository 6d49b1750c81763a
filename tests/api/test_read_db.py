"""The one-statement read session: autocommit on PostgreSQL (no BEGIN/COMMIT round trips), the ordinary
transactional session on SQLite; "my loans" served through it lists exactly the caller's loans."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import text

from support.journey import borrower


def test_the_read_session_is_autocommit_only_on_postgresql(client: TestClient) -> None:
    state = client.app.state  # type: ignore[attr-defined]
    if state.engine.dialect.name != "postgresql":
        assert state.read_session_factory is state.session_factory
        return
    with state.read_session_factory() as session:
        assert session.execute(text("SELECT 1")).scalar_one() == 1
        assert session.connection().connection.driver_connection.autocommit is True
    with state.session_factory() as session:  # the writers' session is untouched
        assert session.execute(text("SELECT 1")).scalar_one() == 1
        assert session.connection().connection.driver_connection.autocommit is False


def test_my_loans_through_the_read_session_are_mine_only(client: TestClient) -> None:
    mine = borrower(client, "reader@example.com")
    other = borrower(client, "other-reader@example.com")
    assert client.get("/api/loans", headers=mine).json() == []
    assert client.get("/api/loans", headers=other).json() == []
    assert client.get("/api/loans").status_code == 401
