"""The cookie-authenticated JSON API refuses cross-origin writes (403) and keeps same-origin ones; bearer
tokens are exempt; the web forms keep working with their own token."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from support.journey import borrower
from xiaodai.accounts.service import sign_up
from xiaodai.db.tables import ComplaintRow

PASSWORD = "correct horse 1"
OWN = "http://testserver"
EVIL = "https://evil.example"


def web_login(client: TestClient, email: str) -> str:
    page = client.get("/login").text
    token = re.search(r'name="csrf" value="([^"]+)"', page)
    assert token
    answer = client.post(
        "/login", data={"email": email, "password": PASSWORD, "csrf": token.group(1)}, follow_redirects=False
    )
    assert answer.status_code == 303
    form = re.search(r'name="csrf" value="([^"]+)"', client.get("/").text)
    assert form
    return form.group(1)


def complaints(client: TestClient) -> int:
    with client.app.state.session_factory() as s:  # type: ignore[attr-defined]
        return int(s.execute(select(func.count()).select_from(ComplaintRow)).scalar_one())


def test_cross_origin_write_with_the_session_cookie_is_refused(client: TestClient) -> None:
    borrower(client, "csrf@example.com")
    csrf = web_login(client, "csrf@example.com")
    body = {"narrative": "收费不透明"}
    for headers in ({"Origin": EVIL}, {"Referer": f"{EVIL}/page"}, {}, {"Origin": "null"}):
        refused = client.post("/api/complaints", json=body, headers=headers)
        assert refused.status_code == 403, (headers, refused.text)
        assert refused.json()["error"] == "csrf"
    assert complaints(client) == 0, "nothing was written"
    assert client.post("/api/complaints", json=body, headers={"Origin": OWN}).status_code == 201
    assert (
        client.post("/api/complaints", json=body, headers={"Referer": f"{OWN}/complaints"}).status_code == 201
    )
    assert (
        client.post("/api/complaints", json=body, headers={"X-CSRF-Token": csrf, "Origin": EVIL}).status_code
        == 201
    )
    wrong = client.post("/api/complaints", json=body, headers={"X-CSRF-Token": "forged", "Origin": EVIL})
    assert wrong.status_code == 403
    assert complaints(client) == 3
    assert client.get("/api/auth/me", headers={"Origin": EVIL}).status_code == 200  # reads are not writes


def test_staff_approval_from_another_origin_is_refused_before_the_handler(client: TestClient) -> None:
    with client.app.state.session_factory() as s, s.begin():  # type: ignore[attr-defined]
        sign_up(
            s, email="checker@example.com", name="审批", password=PASSWORD, kind="staff", roles=("admin",)
        )
    web_login(client, "checker@example.com")
    forged = client.post("/api/staff/approvals/999/approve", headers={"Origin": EVIL})
    assert forged.status_code == 403
    assert forged.json()["error"] == "csrf"
    same = client.post("/api/staff/approvals/999/approve", headers={"Origin": OWN})
    assert same.status_code == 404  # through the guard, to the handler: no such approval


def test_bearer_tokens_and_anonymous_requests_are_exempt(client: TestClient) -> None:
    me = borrower(client, "bearer@example.com")
    answer = client.post("/api/complaints", json={"narrative": "x"}, headers={**me, "Origin": EVIL})
    assert answer.status_code == 201
    anonymous = TestClient(client.app)
    issued = anonymous.post(
        "/api/auth/token",
        json={"email": "bearer@example.com", "password": PASSWORD},
        headers={"Origin": EVIL},
    )
    assert issued.status_code == 200  # no cookie session to abuse


def test_allowed_origins_setting(client: TestClient) -> None:
    from xiaodai.api.csrf import same_site

    headers = {"host": "loans.example.cn", "origin": "https://admin.example.cn"}
    assert not same_site(headers, scheme="https", allowed=frozenset())
    assert same_site(headers, scheme="https", allowed=frozenset({"https://admin.example.cn"}))
    assert same_site(
        {"host": "loans.example.cn", "origin": "https://loans.example.cn"},
        scheme="https",
        allowed=frozenset(),
    )
    assert not same_site(
        {"host": "loans.example.cn", "origin": "http://loans.example.cn"}, scheme="https", allowed=frozenset()
    )
