"""Sessions end on the server: a copied cookie stops working after logout; bearer tokens expire, are
revocable, and stop working while the account is locked. Time moves with an injected clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from support.journey import borrower
from xiaodai.accounts.service import TOKEN_TTL, sign_up
from xiaodai.db.tables import AuditEventRow, UserRow

PASSWORD = "correct horse 1"


class Clock:
    def __init__(self) -> None:
        self.at = datetime(2026, 1, 10, 2, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.at

    def advance(self, **delta: float) -> None:
        self.at += timedelta(**delta)


@pytest.fixture
def clock(client: TestClient) -> Clock:
    fake = Clock()
    client.app.state.clock = fake  # type: ignore[attr-defined]
    return fake


def web_login(client: TestClient, email: str) -> None:
    import re

    page = client.get("/login").text
    csrf = re.search(r'name="csrf" value="([^"]+)"', page)
    assert csrf
    answer = client.post(
        "/login", data={"email": email, "password": PASSWORD, "csrf": csrf.group(1)}, follow_redirects=False
    )
    assert answer.status_code == 303, answer.text


def copy_of(client: TestClient) -> TestClient:
    """Another browser holding a copy of the session cookie (stolen, or an old tab)."""
    other = TestClient(client.app)
    other.cookies.set("xiaodai_session", client.cookies["xiaodai_session"])
    return other


def admin_token(client: TestClient) -> dict[str, str]:
    with client.app.state.session_factory() as s, s.begin():  # type: ignore[attr-defined]
        sign_up(
            s, email="admin@example.com", name="管理员", password=PASSWORD, kind="staff", roles=("admin",)
        )
    issued = client.post("/api/auth/token", json={"email": "admin@example.com", "password": PASSWORD})
    return {"Authorization": f"Bearer {issued.json()['token']}"}


def user_id(client: TestClient, email: str) -> int:
    with client.app.state.session_factory() as s:  # type: ignore[attr-defined]
        return int(s.execute(select(UserRow.id).where(UserRow.email == email)).scalar_one())


def test_a_copied_cookie_stops_working_after_web_logout(client: TestClient, clock: Clock) -> None:
    borrower(client, "copy@example.com")
    web_login(client, "copy@example.com")
    with copy_of(client) as thief:
        assert thief.get("/api/auth/me").status_code == 200  # the copy works while the session lives
        page = client.get("/loans").text
        import re

        csrf = re.search(r'name="csrf" value="([^"]+)"', page)
        assert csrf
        assert client.post("/logout", data={"csrf": csrf.group(1)}, follow_redirects=False).status_code == 303
        assert thief.get("/api/auth/me").status_code == 401
        assert thief.get("/loans", follow_redirects=False).headers["location"] == "/login?next=%2Floans"
    web_login(client, "copy@example.com")  # signing in again works
    assert client.get("/api/auth/me").status_code == 200


def test_api_logout_with_a_cookie_ends_the_sessions(client: TestClient, clock: Clock) -> None:
    borrower(client, "apiout@example.com")
    web_login(client, "apiout@example.com")
    with copy_of(client) as thief:
        answer = client.post("/api/auth/logout", headers={"Origin": "http://testserver"})
        assert answer.json() == {"ended": "sessions"}
        assert thief.get("/api/auth/me").status_code == 401
        assert client.get("/api/auth/me").status_code == 401


def test_bearer_token_expires(client: TestClient, clock: Clock) -> None:
    me = borrower(client, "expiry@example.com")
    clock.advance(seconds=TOKEN_TTL.total_seconds() - 1)
    assert client.get("/api/auth/me", headers=me).status_code == 200
    clock.advance(seconds=1)
    expired = client.get("/api/auth/me", headers=me)
    assert expired.status_code == 401
    assert "expired" in expired.json()["message"]


def test_bearer_token_is_revoked_by_logout_and_others_survive(client: TestClient, clock: Clock) -> None:
    first = borrower(client, "revoke@example.com")
    second_token = client.post("/api/auth/token", json={"email": "revoke@example.com", "password": PASSWORD})
    second = {"Authorization": f"Bearer {second_token.json()['token']}"}
    assert second_token.json()["expires_in"] == int(TOKEN_TTL.total_seconds())
    assert client.post("/api/auth/logout", headers=first).json() == {"ended": "token"}
    assert client.get("/api/auth/me", headers=first).status_code == 401
    assert client.get("/api/auth/me", headers=second).status_code == 200


def test_locking_an_account_stops_its_tokens_and_sessions(client: TestClient, clock: Clock) -> None:
    admin = admin_token(client)
    me = borrower(client, "locked@example.com")
    web_login(client, "locked@example.com")
    target = user_id(client, "locked@example.com")
    refused = client.post(
        f"/api/staff/accounts/{target}/lock", json={"minutes": 60, "reason": "fraud report"}, headers=me
    )
    assert refused.status_code == 403  # only an admin
    locked = client.post(
        f"/api/staff/accounts/{target}/lock", json={"minutes": 60, "reason": "fraud report"}, headers=admin
    )
    assert locked.status_code == 200, locked.text
    assert client.get("/api/auth/me", headers=me).status_code == 401
    assert client.get("/api/auth/me").status_code == 401  # the web session ended
    signin = client.post("/api/auth/token", json={"email": "locked@example.com", "password": PASSWORD})
    assert signin.status_code == 401
    with client.app.state.session_factory() as s:  # type: ignore[attr-defined]
        [event] = s.scalars(select(AuditEventRow).where(AuditEventRow.action == "account-locked"))
        assert event.reason == "fraud report"
    clock.advance(minutes=59)
    assert client.get("/api/auth/me", headers=me).status_code == 401
    clock.advance(minutes=1, seconds=1)
    assert client.get("/api/auth/me", headers=me).status_code == 200  # the lock ended; the token had not


def test_a_remembered_token_expires_on_the_hot_paths_too(client: TestClient, clock: Clock) -> None:
    """My loans and a repayment are answered by ``api.hot_path`` from the remembered token (its id only):
    the remembered expiry is checked there as everywhere (the full stack then answers 401)."""
    me = borrower(client, "hotexpiry@example.com")
    client.cookies.clear()
    assert client.get("/api/loans", headers=me).status_code == 200  # remembered now
    clock.advance(seconds=TOKEN_TTL.total_seconds())
    paid = client.post(
        "/api/loans/1/repayments", json={"amount": "1.00"}, headers={**me, "Idempotency-Key": "e1"}
    )
    for answer in (client.get("/api/loans", headers=me), client.get("/api/loans/1", headers=me), paid):
        assert answer.status_code == 401
        assert "expired" in answer.json()["message"]
