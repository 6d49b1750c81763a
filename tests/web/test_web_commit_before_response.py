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


def test_a_form_whose_commit_fails_is_not_a_redirect_and_saves_nothing(client: TestClient) -> None:
    page = client.get("/signup").text
    match = re.search(r'name="csrf" value="([^"]+)"', page)
    assert match
    form = {"email": "w1@example.com", "name": "李四", "password": "correct horse 1", "csrf": match.group(1)}
    event.listen(Session, "before_commit", _fail)
    try:
        answer = client.post("/signup", data=form, follow_redirects=False)
    finally:
        event.remove(Session, "before_commit", _fail)
    assert answer.status_code == 500
    assert "location" not in answer.headers
    assert "user_id" not in _cookie(client)  # the rolled-back user is not signed in (its id may be reused)
    factory = client.app.state.session_factory  # type: ignore[attr-defined]
    with factory() as s:
        assert s.execute(select(UserRow)).first() is None
    saved = client.post("/signup", data=form, follow_redirects=False)
    assert saved.status_code == 303  # sign-up sends the person to sign in (it no longer reveals accounts)
    with factory() as s:
        assert s.execute(select(UserRow)).first() is not None
