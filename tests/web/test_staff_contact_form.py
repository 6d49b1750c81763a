"""The staff contact form reads its fields with the engine's own document reader: a medium outside the
vocabulary is refused with the field named, and nothing is logged or sent."""

from __future__ import annotations

import re
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from support.journey import overdue_loan
from xiaodai.accounts.service import sign_up as account_sign_up
from xiaodai.db.tables import ContactAttemptRow

PASSWORD = "correct horse 1"


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match, "form without CSRF token"
    return match.group(1)


def _factory(client: TestClient) -> Any:
    return client.app.state.session_factory  # type: ignore[attr-defined]


def test_an_unknown_channel_is_refused_and_nothing_is_logged(client: TestClient) -> None:
    with _factory(client)() as s, s.begin():
        collector = int(
            account_sign_up(
                s,
                email="cora@example.com",
                name="cora",
                password=PASSWORD,
                kind="staff",
                roles=("collector",),
            ).id
        )
    loan_id = overdue_loan(client, collector)
    client.cookies.clear()
    page = client.get("/login").text
    client.post("/login", data={"email": "cora@example.com", "password": PASSWORD, "csrf": _csrf(page)})
    form = client.get(f"/staff/loans/{loan_id}").text
    refused = client.post(
        f"/staff/loans/{loan_id}/contact",
        data={"csrf": _csrf(form), "channel": "carrier_pigeon", "phone_id": "M1", "message": ""},
    )
    assert 400 <= refused.status_code < 500
    assert "channel" in refused.text
    with _factory(client)() as s:
        assert s.execute(select(func.count()).select_from(ContactAttemptRow)).scalar_one() == 0
