"""Login lockout and rate limit (API and web form), web session expiry, and the generic 500.

Time is moved with an injected clock (``app.state.clock``), never slept through.
"""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime, timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from support.journey import borrower
from xiaodai.accounts.service import (
    BACKOFF_MAX,
    BACKOFF_START,
    MAX_FAILED_LOGINS,
    SIGN_IN_REFUSED,
    backoff_for,
    sign_up,
)
from xiaodai.api.ratelimit import SlidingWindowLimiter
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


def token(client: TestClient, email: str, password: str) -> tuple[int, dict[str, object]]:
    response = client.post("/api/auth/token", json={"email": email, "password": password})
    return response.status_code, response.json()


def audit(client: TestClient, action: str) -> list[AuditEventRow]:
    factory = client.app.state.session_factory  # type: ignore[attr-defined]
    with factory() as s:
        return list(s.scalars(select(AuditEventRow).where(AuditEventRow.action == action)))


def user_row(client: TestClient, email: str) -> UserRow:
    factory = client.app.state.session_factory  # type: ignore[attr-defined]
    with factory() as s:
        return s.execute(select(UserRow).where(UserRow.email == email)).scalar_one()


def csrf(html: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match, "form without CSRF token"
    return match.group(1)


def web_login(client: TestClient, email: str, password: str) -> tuple[int, str]:
    form = client.get("/login").text
    response = client.post(
        "/login",
        data={"email": email, "password": password, "csrf": csrf(form)},
        follow_redirects=False,
    )
    return response.status_code, response.text


# ------------------------------------------------------------------------------------------------------
# lockout


def other_client(client: TestClient, address: str) -> TestClient:
    """The same app seen from another client address (the owner on their own network)."""
    return TestClient(client.app, client=(address, 50000))


def test_api_pause_after_five_failures_refuses_even_the_right_password_from_that_address(
    client: TestClient, clock: Clock
) -> None:
    borrower(client, "lock@example.com")
    for _ in range(MAX_FAILED_LOGINS - 1):
        assert token(client, "lock@example.com", "wrong password!") == (
            401,
            {"error": "AuthError", "message": SIGN_IN_REFUSED},
        )
    assert audit(client, "login-paused") == []
    assert token(client, "lock@example.com", "wrong password!")[0] == 401  # the fifth: pauses
    status, body = token(client, "lock@example.com", PASSWORD)
    assert status == 401, "the right password is refused from this address during the pause"
    assert body == {"error": "AuthError", "message": SIGN_IN_REFUSED}
    [event] = audit(client, "login-paused")
    assert event.subject == f"user:{user_row(client, 'lock@example.com').id}"
    assert event.reason == "TOO_MANY_FAILED_LOGINS"
    assert json.loads(event.payload)["failures"] == MAX_FAILED_LOGINS

    clock.advance(seconds=BACKOFF_START.total_seconds() - 1)
    assert token(client, "lock@example.com", PASSWORD)[0] == 401, "still paused one second before the end"
    clock.advance(seconds=2)
    status, body = token(client, "lock@example.com", PASSWORD)
    assert status == 200, body
    assert user_row(client, "lock@example.com").locked_until is None, "the account itself is never locked"
    assert len(audit(client, "login-paused")) == 1


def test_the_owner_from_another_address_is_not_locked_out(client: TestClient, clock: Clock) -> None:
    """A stranger's wrong passwords pause the stranger's address only."""
    borrower(client, "victim@example.com")
    for _ in range(MAX_FAILED_LOGINS * 3):
        assert token(client, "victim@example.com", "wrong password!")[0] == 401
    assert token(client, "victim@example.com", PASSWORD)[0] == 401  # the stranger's address is paused
    with other_client(client, "203.0.113.9") as owner:
        assert token(owner, "victim@example.com", PASSWORD)[0] == 200
        assert token(owner, "victim@example.com", "wrong password!")[0] == 401  # counted separately
        assert token(owner, "victim@example.com", PASSWORD)[0] == 200


def test_pause_doubles_with_each_further_failure_up_to_the_cap() -> None:
    assert backoff_for(MAX_FAILED_LOGINS - 1) == timedelta(0)
    assert backoff_for(MAX_FAILED_LOGINS) == BACKOFF_START
    assert backoff_for(MAX_FAILED_LOGINS + 1) == BACKOFF_START * 2
    assert backoff_for(MAX_FAILED_LOGINS + 4) == BACKOFF_START * 16  # 8 minutes
    assert backoff_for(MAX_FAILED_LOGINS + 5) == BACKOFF_MAX  # 16 minutes capped at 15
    assert backoff_for(10_000) == BACKOFF_MAX


def test_failure_after_a_pause_pauses_again_for_longer(client: TestClient, clock: Clock) -> None:
    borrower(client, "again@example.com")
    for _ in range(MAX_FAILED_LOGINS):
        token(client, "again@example.com", "wrong password!")
    clock.advance(seconds=BACKOFF_START.total_seconds() + 1)
    assert token(client, "again@example.com", "wrong password!")[0] == 401  # the sixth: 60 s
    clock.advance(seconds=2 * BACKOFF_START.total_seconds() - 2)
    assert token(client, "again@example.com", PASSWORD)[0] == 401
    clock.advance(seconds=3)
    assert token(client, "again@example.com", PASSWORD)[0] == 200


def test_success_resets_the_count(client: TestClient, clock: Clock) -> None:
    borrower(client, "reset@example.com")  # one successful sign-in already
    for _ in range(2):
        for _ in range(MAX_FAILED_LOGINS - 1):
            assert token(client, "reset@example.com", "wrong password!")[0] == 401
        assert token(client, "reset@example.com", PASSWORD)[0] == 200
    assert audit(client, "login-paused") == []


def test_refusals_do_not_reveal_whether_the_email_exists(client: TestClient, clock: Clock) -> None:
    borrower(client, "known@example.com")
    answers = set()
    for _ in range(MAX_FAILED_LOGINS + 1):  # before, at and during the pause
        status, body = token(client, "known@example.com", "wrong password!")
        answers.add((status, json.dumps(body)))
        status, body = token(client, "nobody@example.com", "wrong password!")
        answers.add((status, json.dumps(body)))
    status, body = token(client, "known@example.com", PASSWORD)  # paused
    answers.add((status, json.dumps(body)))
    assert len(answers) == 1, answers
    assert len(audit(client, "login-paused")) == 1


def test_sign_up_answers_the_same_whether_or_not_the_email_has_an_account(
    client: TestClient, clock: Clock
) -> None:
    with client.app.state.session_factory() as s, s.begin():  # type: ignore[attr-defined]
        sign_up(s, email="staff@example.com", name="员工", password=PASSWORD, kind="staff", roles=("admin",))
    new = client.post(
        "/api/auth/signup", json={"email": "new@example.com", "name": "甲", "password": PASSWORD}
    )
    taken = client.post(
        "/api/auth/signup", json={"email": "STAFF@example.com", "name": "乙", "password": "other password 2"}
    )
    assert (new.status_code, new.json()) == (taken.status_code, taken.json())
    assert new.status_code == 202
    assert token(client, "new@example.com", PASSWORD)[0] == 200
    assert token(client, "staff@example.com", "other password 2")[0] == 401, "the taken account is unchanged"
    assert token(client, "staff@example.com", PASSWORD)[0] == 200
    bad = client.post("/api/auth/signup", json={"email": "bad", "name": "x", "password": PASSWORD})
    assert bad.status_code == 400  # input errors do not depend on who exists

    forms = []
    for email in ("fresh@example.com", "staff@example.com"):
        page = client.get("/signup").text
        answer = client.post(
            "/signup", data={"email": email, "name": "丙", "password": PASSWORD, "csrf": csrf(page)}
        )
        forms.append((answer.status_code, str(answer.url)))
    assert forms[0] == forms[1]
    assert forms[0][1].endswith("/login?signed_up=1")


def test_web_pause_with_bilingual_message(client: TestClient, clock: Clock) -> None:
    borrower(client, "weblock@example.com")
    client.get("/login", params={"lang": "en"})
    for _ in range(MAX_FAILED_LOGINS):
        status, page = web_login(client, "weblock@example.com", "wrong password!")
        assert status == 401
        assert "Wrong email or password. After 5 failed attempts from one address" in page
    status, page = web_login(client, "weblock@example.com", PASSWORD)
    assert status == 401, "the right password is refused during the pause"
    client.get("/login", params={"lang": "zh"})
    status, page = web_login(client, "nobody@example.com", PASSWORD)
    assert status == 401
    assert "邮箱或密码错误" in page
    assert len(audit(client, "login-paused")) == 1

    clock.advance(seconds=BACKOFF_START.total_seconds() + 1)
    status, _ = web_login(client, "weblock@example.com", PASSWORD)
    assert status == 303
    assert client.get("/loans", follow_redirects=False).status_code == 200


def test_api_and_web_failures_count_towards_one_pause(client: TestClient, clock: Clock) -> None:
    borrower(client, "both@example.com")
    for _ in range(3):
        assert token(client, "both@example.com", "wrong password!")[0] == 401
    for _ in range(2):
        assert web_login(client, "both@example.com", "wrong password!")[0] == 401
    assert token(client, "both@example.com", PASSWORD)[0] == 401
    assert len(audit(client, "login-paused")) == 1


# ------------------------------------------------------------------------------------------------------
# rate limit per client address


def test_api_rate_limit_429_with_retry_after(client: TestClient, clock: Clock) -> None:
    borrower(client, "rate@example.com")  # one attempt
    limit = client.app.state.settings.login_attempts_per_minute  # type: ignore[attr-defined]
    for i in range(limit - 1):
        clock.advance(seconds=1)
        # different accounts, so that no lockout gets in the way: the limit is per address
        assert token(client, f"nobody{i}@example.com", "wrong password!")[0] == 401
    clock.advance(seconds=1)
    response = client.post("/api/auth/token", json={"email": "rate@example.com", "password": PASSWORD})
    assert response.status_code == 429
    assert response.json()["error"] == "RateLimited"
    assert "too many sign-in attempts" in response.json()["message"]
    # the first attempt (at t=0) leaves the 60-second window 40 seconds from now
    assert response.headers["Retry-After"] == str(60 - limit)

    status, page = web_login(client, "rate@example.com", PASSWORD)  # the web form shares the limit
    assert status == 429
    assert "请在 40 秒后重试" in page

    clock.advance(seconds=60 - limit)
    assert token(client, "rate@example.com", PASSWORD)[0] == 200


def test_limiter_is_a_sliding_window() -> None:
    limiter = SlidingWindowLimiter(limit=3, window_seconds=60)
    assert [limiter.admit("a", now=t).allowed for t in (0, 10, 20)] == [True, True, True]
    refused = limiter.admit("a", now=30)
    assert not refused.allowed
    assert refused.retry_after_seconds == 30
    assert limiter.admit("b", now=30).allowed, "another address has its own window"
    assert not limiter.admit("a", now=59.5).allowed
    assert limiter.admit("a", now=60).allowed  # the attempt at 0 has left the window
    assert not limiter.admit("a", now=61).allowed
    assert limiter.admit("a", now=70).allowed


# ------------------------------------------------------------------------------------------------------
# session expiry


def test_idle_session_expires_after_thirty_minutes(client: TestClient, clock: Clock) -> None:
    me = borrower(client, "idle@example.com")
    assert web_login(client, "idle@example.com", PASSWORD)[0] == 303
    clock.advance(minutes=29)
    assert client.get("/loans", follow_redirects=False).status_code == 200
    clock.advance(minutes=29)  # 58 minutes since sign-in, 29 since the last request
    assert client.get("/api/auth/me").status_code == 200
    clock.advance(minutes=30, seconds=1)
    expired = client.get("/loans", follow_redirects=False)
    assert expired.status_code == 303
    assert expired.headers["location"] == "/login?expired=1"
    assert client.get("/login?expired=1").text.count('id="expired"') == 1
    assert client.get("/loans", follow_redirects=False).headers["location"] == "/login"  # logged out
    assert client.get("/api/auth/me").status_code == 401
    assert client.get("/api/auth/me", headers=me).status_code == 200, "bearer tokens are not sessions"


def test_session_ends_eight_hours_after_sign_in_however_active(client: TestClient, clock: Clock) -> None:
    me = borrower(client, "long@example.com")
    assert web_login(client, "long@example.com", PASSWORD)[0] == 303
    for _ in range(16):  # 16 × 29 min = 7 h 44 min
        clock.advance(minutes=29)
        assert client.get("/loans", follow_redirects=False).status_code == 200
    clock.advance(minutes=17)  # 8 h 01 min, only 17 minutes idle
    assert client.get("/api/auth/me").status_code == 401  # an /api request simply goes unauthenticated
    assert client.get("/loans", follow_redirects=False).headers["location"] == "/login"
    assert client.get("/api/auth/me", headers=me).status_code == 200
    assert web_login(client, "long@example.com", PASSWORD)[0] == 303, "signing in again starts afresh"
    assert client.get("/loans", follow_redirects=False).status_code == 200


def test_logout_clears_the_session(client: TestClient, clock: Clock) -> None:
    borrower(client, "out@example.com")
    assert web_login(client, "out@example.com", PASSWORD)[0] == 303
    page = client.get("/loans").text
    assert client.post("/logout", data={"csrf": csrf(page)}, follow_redirects=False).status_code == 303
    assert client.get("/loans", follow_redirects=False).headers["location"] == "/login"
    assert client.get("/api/auth/me").status_code == 401


# ------------------------------------------------------------------------------------------------------
# no stack traces to users


def _boom() -> None:
    raise RuntimeError("secret detail: password_hash=$argon2id$...")


def test_unhandled_error_is_a_generic_500_logged_with_a_reference(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    app: FastAPI = client.app  # type: ignore[assignment]
    app.add_api_route("/api/test-boom", _boom)
    app.add_api_route("/test-boom", _boom, include_in_schema=False)

    with caplog.at_level(logging.ERROR, logger="xiaodai.errors"):
        api = client.get("/api/test-boom")
        web = client.get("/test-boom?lang=en")

    assert api.status_code == 500
    body = api.json()
    assert set(body) == {"error", "message", "reference"}
    assert body["error"] == "internal_error"
    assert "secret" not in api.text
    assert "Traceback" not in api.text

    assert web.status_code == 500
    assert web.headers["content-type"].startswith("text/html")
    assert "系统内部出错" in web.text
    assert "Something went wrong on our side" in web.text
    assert "secret" not in web.text
    assert "Traceback" not in web.text
    assert web.headers["X-Frame-Options"] == "DENY", "the error page still carries the security headers"
    web_reference = re.search(r"<code>([0-9a-f]+)</code>", web.text)
    assert web_reference

    logged = {r.getMessage(): r for r in caplog.records if r.name == "xiaodai.errors"}
    for reference in (body["reference"], web_reference.group(1)):
        [record] = [r for m, r in logged.items() if reference in m]
        assert record.exc_info is not None
        assert "secret detail" in str(record.exc_info[1]), "the server log keeps the real error"
