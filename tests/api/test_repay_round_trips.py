"""A repayment asks the database only what it needs. On PostgreSQL: one statement locks the borrower's loan,
claims the idempotency key for it (ownership and "is this a retry?" in the same statement) and locks and
reads the loan's instalments, one writes the journal, the changed rows and the command's result. The
stored result is exactly the answer, so a retry replays it (the lock-and-claim statement, then the stored
result: two statements)."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import select

from support.journey import borrower, signed_loan
from support.statements import statements
from xiaodai.db.tables import CommandRow

_ENDS = {"BEGIN", "COMMIT", "ROLLBACK"}


def ours(seen: list[str]) -> list[str]:
    """The repayment's statements: not the transaction's own (SQLite's BEGIN IMMEDIATE; on PostgreSQL the
    driver path's BEGIN and COMMIT, which ``api.loop_repay`` sends in its statements' round trips), nor the
    token look-up the request pipeline makes when its 2 s token memory has expired (a slow machine)."""
    return [s for s in seen if s.split(" ")[0] not in _ENDS and "FROM api_tokens" not in s]


def pay(client: TestClient, loan_id: int, me: dict[str, str], key: str) -> Response:
    return client.post(
        f"/api/loans/{loan_id}/repayments", json={"amount": "1.00"}, headers={**me, "Idempotency-Key": key}
    )


def test_a_repayment_is_two_statements_and_its_stored_result_is_the_answer(client: TestClient) -> None:
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
    seen = ours(seen)
    assert not [s for s in seen if "FROM commands" in s], seen  # no separate "is this a retry?" SELECT
    assert "borrower_id = " in seen[0]  # the loan is read as the borrower's own, first
    postgres = client.app.state.engine.dialect.name == "postgresql"  # type: ignore[attr-defined]
    if postgres:
        assert len(seen) == 2, seen
        lock_and_claim, journal = seen
        assert "FROM loans" in lock_and_claim
        assert "FOR UPDATE" in lock_and_claim
        assert "INSERT INTO commands" in lock_and_claim
        assert "FROM installments" in lock_and_claim  # the instalments, locked by the same statement
        assert lock_and_claim.count("FOR UPDATE") == 2
        assert "INSERT INTO journal_entries" in journal
        assert "UPDATE commands" in journal
        assert "UPDATE loans" in journal
    factory = client.app.state.session_factory  # type: ignore[attr-defined]
    with factory() as s:
        stored = s.execute(
            select(CommandRow.result_json).where(CommandRow.idempotency_key.like("%:r1"))
        ).one()
    assert json.loads(stored[0]) == {k: v for k, v in answer.items() if k != "replayed"}

    with statements(client) as seen:
        again = pay(client, loan_id, me, "r1")
    assert again.status_code == 201
    assert again.json() == {**answer, "replayed": True}  # the same entry: nothing posted twice
    if postgres:
        seen = ours(seen)
        assert len(seen) == 2, seen  # lock and claim (nothing claimed), then the stored result
        assert "FROM commands" in seen[1]


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
