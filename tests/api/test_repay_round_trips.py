"""A repayment asks the database only what it needs: ownership and "is this a retry?" in one SELECT, and on
PostgreSQL the command's result written by the journal's own statement (no separate UPDATE). The stored
result is still exactly the answer, so a retry replays it."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import select

from support.journey import apply_body, borrower
from support.statements import statements
from xiaodai.db.tables import CommandRow


def signed_loan(client: TestClient, me: dict[str, str]) -> int:
    app = client.post("/api/applications", json=apply_body(), headers={**me, "Idempotency-Key": "k"}).json()
    kfs = client.get(f"/api/applications/{app['application_id']}/kfs", headers=me).json()
    signed = client.post(
        f"/api/applications/{app['application_id']}/sign", json={"kfs_sha256": kfs["sha256"]}, headers=me
    )
    return int(signed.json()["loan_id"])


def pay(client: TestClient, loan_id: int, me: dict[str, str], key: str) -> Response:
    return client.post(
        f"/api/loans/{loan_id}/repayments", json={"amount": "1.00"}, headers={**me, "Idempotency-Key": key}
    )


def test_a_repayment_is_six_statements_and_its_stored_result_is_the_answer(client: TestClient) -> None:
    me = borrower(client, "repay-trips@example.com")
    loan_id = signed_loan(client, me)
    client.get("/api/loans", headers=me)  # the token is now remembered
    with statements(client) as seen:
        paid = client.post(
            f"/api/loans/{loan_id}/repayments",
            json={"amount": "1.00"},
            headers={**me, "Idempotency-Key": "r1"},
        )
    assert paid.status_code == 201, paid.text
    answer = paid.json()
    assert answer["replayed"] is False
    assert isinstance(answer["entry_id"], int)
    loans = [s for s in seen if " FROM loans" in s]
    assert "EXISTS" in loans[0]  # ownership and "is this a retry?" together, in the first SELECT
    assert "FROM commands" in loans[0]
    assert not [s for s in seen if s.startswith("SELECT commands")], seen  # no separate retry check
    postgres = client.app.state.engine.dialect.name == "postgresql"  # type: ignore[attr-defined]
    if postgres:
        assert not [s for s in seen if s.startswith("UPDATE commands")], seen
        assert len(seen) == 6, seen  # + instalments (quote), claim, loan and instalments locked, journal
    factory = client.app.state.session_factory  # type: ignore[attr-defined]
    with factory() as s:
        stored = s.execute(
            select(CommandRow.result_json).where(CommandRow.idempotency_key.like("%:r1"))
        ).one()
    assert json.loads(stored[0]) == {k: v for k, v in answer.items() if k != "replayed"}

    again = pay(client, loan_id, me, "r1")
    assert again.status_code == 201
    assert again.json() == {**answer, "replayed": True}  # the same entry: nothing posted twice


def test_someone_elses_loan_is_not_found_and_nothing_is_posted(client: TestClient) -> None:
    owner = borrower(client, "owner-trips@example.com")
    loan_id = signed_loan(client, owner)
    stranger = borrower(client, "stranger-trips@example.com")
    refused = client.post(
        f"/api/loans/{loan_id}/repayments",
        json={"amount": "1.00"},
        headers={**stranger, "Idempotency-Key": "x1"},
    )
    assert refused.status_code == 404
    factory = client.app.state.session_factory  # type: ignore[attr-defined]
    with factory() as s:
        assert s.execute(select(CommandRow).where(CommandRow.idempotency_key.like("%:x1"))).first() is None
