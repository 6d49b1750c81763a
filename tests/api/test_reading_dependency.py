"""My loans and a loan's detail authenticate through ONE dependency (``deps.reading``) instead of
``ReadDB`` + ``CurrentUser`` + ``Today``: the same rules hold on exactly these two reads — a token expires,
logout and a lock end it at once (remembered or not), the signed session cookie works and a copy of it
stops at logout, another scheme than bearer is no sign-in, and another borrower's loan is not found."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from support.journey import borrower, signed_loan
from xiaodai.accounts import token_cache
from xiaodai.accounts.service import TOKEN_TTL, sign_up
from xiaodai.db.tables import UserRow

PASSWORD = "correct horse 1"


class Clock:
    def __init__(self) -> None:
        self.at = datetime(2026, 1, 10, 2, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.at


@pytest.fixture
def clock(client: TestClient) -> Iterator[Clock]:
    fake = Clock()
    client.app.state.clock = fake  # type: ignore[attr-defined]
    token_cache.TOKENS.clear()
    yield fake
    token_cache.TOKENS.clear()


def reads(client: TestClient, loan_id: int, headers: dict[str, str] | None = None) -> tuple[int, int]:
    return (
        client.get("/api/loans", headers=headers).status_code,
        client.get(f"/api/loans/{loan_id}", headers=headers).status_code,
    )


def web_login(client: TestClient, email: str) -> None:
    csrf = re.search(r'name="csrf" value="([^"]+)"', client.get("/login").text)
    assert csrf
    answer = client.post(
        "/login", data={"email": email, "password": PASSWORD, "csrf": csrf.group(1)}, follow_redirects=False
    )
    assert answer.status_code == 303, answer.text


def test_an_expired_token_is_refused_even_when_remembered(client: TestClient, clock: Clock) -> None:
    me = borrower(client, "r-expiry@example.com")
    loan_id = signed_loan(client, me)
    assert reads(client, loan_id, me) == (200, 200)  # remembered now
    clock.at += TOKEN_TTL - timedelta(seconds=1)
    assert reads(client, loan_id, me) == (200, 200)
    clock.at += timedelta(seconds=1)
    assert reads(client, loan_id, me) == (401, 401)


def test_logout_ends_a_remembered_token_at_once(client: TestClient, clock: Clock) -> None:
    me = borrower(client, "r-logout@example.com")
    loan_id = signed_loan(client, me)
    assert reads(client, loan_id, me) == (200, 200)
    assert client.post("/api/auth/logout", headers=me).status_code == 200
    assert reads(client, loan_id, me) == (401, 401)


def test_a_lock_ends_tokens_and_cookie_sessions_on_the_reads(client: TestClient, clock: Clock) -> None:
    with client.app.state.session_factory() as s, s.begin():  # type: ignore[attr-defined]
        sign_up(
            s, email="r-admin@example.com", name="管理员", password=PASSWORD, kind="staff", roles=("admin",)
        )
    issued = client.post("/api/auth/token", json={"email": "r-admin@example.com", "password": PASSWORD})
    admin = {"Authorization": f"Bearer {issued.json()['token']}"}
    me = borrower(client, "r-locked@example.com")
    loan_id = signed_loan(client, me)
    web_login(client, "r-locked@example.com")
    assert reads(client, loan_id, me) == (200, 200)
    assert reads(client, loan_id) == (200, 200)  # the signed session cookie alone
    with client.app.state.session_factory() as s:  # type: ignore[attr-defined]
        target = s.execute(select(UserRow.id).where(UserRow.email == "r-locked@example.com")).scalar_one()
    locked = client.post(
        f"/api/staff/accounts/{target}/lock", json={"minutes": 60, "reason": "fraud report"}, headers=admin
    )
    assert locked.status_code == 200, locked.text
    assert reads(client, loan_id, me) == (401, 401)
    assert reads(client, loan_id) == (401, 401)


def test_a_copied_cookie_stops_at_logout_and_only_bearer_signs_in(client: TestClient, clock: Clock) -> None:
    me = borrower(client, "r-cookie@example.com")
    loan_id = signed_loan(client, me)
    web_login(client, "r-cookie@example.com")
    with TestClient(client.app) as thief:
        thief.cookies.set("xiaodai_session", client.cookies["xiaodai_session"])
        assert reads(thief, loan_id) == (200, 200)
        assert client.get("/api/loans").json()[0]["id"] == loan_id  # the cookie's user's loans
        answer = client.post("/api/auth/logout", headers={"Origin": "http://testserver"})
        assert answer.json() == {"ended": "sessions"}
        assert reads(thief, loan_id) == (401, 401)
    token = me["Authorization"].removeprefix("Bearer ")
    assert reads(client, loan_id, {"Authorization": f"Basic {token}"}) == (401, 401)
    assert reads(client, loan_id, {"Authorization": token}) == (401, 401)
    assert reads(client, loan_id, {"Authorization": f"bearer {token}"}) == (200, 200)  # scheme: any case


def test_another_borrowers_loan_is_not_found(client: TestClient, clock: Clock) -> None:
    owner, other = borrower(client, "r-owner@example.com"), borrower(client, "r-other@example.com")
    loan_id = signed_loan(client, owner)
    for _ in range(2):  # looked up, then remembered
        assert client.get(f"/api/loans/{loan_id}", headers=other).status_code == 404
        assert client.get("/api/loans", headers=other).json() == []
