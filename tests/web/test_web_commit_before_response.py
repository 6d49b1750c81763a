"""The HTML forms commit before they answer too: a form post whose commit fails is an error page, never a
redirect onward as if it had been saved. Both databases."""

from __future__ import annotations

import base64
import json
import re

from fastapi.testclient import TestClient
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from xiaodai.db.tables import UserRow


def _cookie(client: TestClient) -> dict[str, object]:
    signed = client.cookies.get("xiaodai_session") or ""
    payload = signed.split(".", 1)[0]
    return dict(json.loads(base64.b64decode(payload + "=" * (-len(payload) % 4))))


def _fail(_session: Session) -> None:
    raise RuntimeError("commit failed (test)")


def _form_csrf(client: TestClient, page: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', client.get(page).text)
    assert match
    return match.group(1)


def test_a_form_whose_commit_fails_is_not_a_redirect_and_saves_nothing(client: TestClient) -> None:
    form = {"email": "w1@example.com", "name": "李四", "password": "correct horse 1"}
    token = _form_csrf(client, "/signup")
    event.listen(Session, "before_commit", _fail)
    try:
        answer = client.post("/signup", data={**form, "csrf": token}, follow_redirects=False)
    finally:
        event.remove(Session, "before_commit", _fail)
    assert answer.status_code == 500
    assert "location" not in answer.headers
    factory = client.app.state.session_factory  # type: ignore[attr-defined]
    with factory() as s:
        assert s.execute(select(UserRow)).first() is None
    saved = client.post(
        "/signup", data={**form, "csrf": _form_csrf(client, "/signup")}, follow_redirects=False
    )
    assert saved.status_code == 303
    with factory() as s:
        assert s.execute(select(UserRow)).first() is not None


def test_a_sign_in_whose_commit_fails_leaves_the_cookie_signed_out(client: TestClient) -> None:
    form = {"email": "w2@example.com", "name": "李四", "password": "correct horse 1"}
    client.post("/signup", data={**form, "csrf": _form_csrf(client, "/signup")}, follow_redirects=False)
    login = {"email": form["email"], "password": form["password"], "csrf": _form_csrf(client, "/login")}
    event.listen(Session, "before_commit", _fail)
    try:
        answer = client.post("/login", data=login, follow_redirects=False)
    finally:
        event.remove(Session, "before_commit", _fail)
    assert answer.status_code == 500
    assert "user_id" not in _cookie(client)  # the rolled-back sign-in is not in the cookie
    login["csrf"] = _form_csrf(client, "/login")
    assert client.post("/login", data=login, follow_redirects=False).status_code == 303
    assert "user_id" in _cookie(client)
