"""An application asks the database less: no look-up of an earlier decision for an application created in
the same request, no read-back of the decision just written, and the policy version stored once (a process
that has seen it committed stops re-inserting and re-comparing it). The answer is the replay's answer."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from support.journey import apply_body, borrower
from support.statements import statements
from xiaodai.db.tables import ApplicationRow, PolicyVersionRow


def test_later_applications_skip_the_policy_store_and_the_decision_reads(client: TestClient) -> None:
    me = borrower(client, "apply-trips@example.com")
    first = client.post("/api/applications", json=apply_body(), headers={**me, "Idempotency-Key": "p1"})
    assert first.status_code == 201, first.text
    second = client.post("/api/applications", json=apply_body(), headers={**me, "Idempotency-Key": "p2"})
    assert second.status_code == 201  # found the policy committed: remembered from now on
    with statements(client) as seen:
        third = client.post("/api/applications", json=apply_body(), headers={**me, "Idempotency-Key": "p3"})
    assert third.status_code == 201
    assert third.json()["outcome"] == "approve"
    assert not [s for s in seen if "policy_versions" in s], seen
    assert not [s for s in seen if s.startswith("SELECT models.")], seen  # the model's path is remembered
    # no statement of its own reads decisions: the earlier-decision check is a scalar subquery of the one
    # decision-context statement (underwriting.service._decision_context); the answer is the row in hand
    assert not [s for s in seen if s.startswith("SELECT decisions.")], seen
    contexts = [s for s in seen if s.startswith("SELECT (SELECT decisions.id FROM decisions")]
    assert len(contexts) == 1, contexts
    # the decision is still recorded (on PostgreSQL with the pull, in the application's insert)
    assert [s for s in seen if "INSERT INTO decisions" in s]
    factory = client.app.state.session_factory  # type: ignore[attr-defined]
    with factory() as s:
        assert s.execute(select(func.count()).select_from(PolicyVersionRow)).scalar_one() == 1
    for key, answer in (("p1", first), ("p3", third)):
        again = client.post("/api/applications", json=apply_body(), headers={**me, "Idempotency-Key": key})
        assert again.json() == answer.json()  # the replay, read from the stored decision: the same answer


def test_an_application_is_three_statements_on_postgresql(
    client: TestClient, tokens_remembered_long: None
) -> None:
    """PostgreSQL: the key's claim with the consent (and the ids the application takes), the decision's one
    read, and at commit ONE statement writing the application, its decision, the credit-report pull and
    the audit events (chained by the server under the chain lock, ``audit_append``), sent with the COMMIT.
    Answered by ``api.hot_apply`` (a remembered token, no cookie); the answer is the replay's."""
    if client.app.state.engine.dialect.name != "postgresql":  # type: ignore[attr-defined]
        pytest.skip("SQLite writes each row in a statement of its own")
    me = borrower(client, "apply-three@example.com")
    client.cookies.clear()
    for key in ("w1", "w2"):  # the policy stored and seen committed; the chain's head known
        assert client.post("/api/applications", json=apply_body(), headers={**me, "Idempotency-Key": key})
    with statements(client) as seen:
        answer = client.post("/api/applications", json=apply_body(), headers={**me, "Idempotency-Key": "t3"})
    assert answer.status_code == 201, answer.text
    assert len(seen) == 3, seen
    assert seen[0].startswith("WITH existing AS (SELECT public_id FROM applications"), seen
    assert seen[1].startswith("SELECT (SELECT decisions.id FROM decisions"), seen
    last = seen[2]
    for written in ("INSERT INTO bureau_pulls", "INSERT INTO decisions", "INSERT INTO applications"):
        assert written in last, (written, last)
    assert "LATERAL audit_append(" in last  # after the queued rows are written
    assert "ARRAY[" in last  # the audit events, inserted by the function
    again = client.post("/api/applications", json=apply_body(), headers={**me, "Idempotency-Key": "t3"})
    assert again.content == answer.content
    factory = client.app.state.session_factory  # type: ignore[attr-defined]
    with factory() as s:
        stored = s.execute(
            select(ApplicationRow).where(ApplicationRow.public_id == answer.json()["application_id"])
        ).scalar_one()
        assert stored.created_at is not None
        assert stored.decision_id is not None


def test_the_same_key_twice_in_one_transaction_is_one_application(client: TestClient) -> None:
    """The application's row may wait to be written at commit (PostgreSQL: queued with its decision); a
    second submission with the same key in the same transaction still finds it (and is its replay)."""
    from datetime import date

    from xiaodai.db.tables import UserRow
    from xiaodai.journey import service as journey

    borrower(client, "apply-twice@example.com")
    factory = client.app.state.session_factory  # type: ignore[attr-defined]
    body = apply_body()
    with factory() as s, s.begin():
        user = s.execute(select(UserRow).where(UserRow.email == "apply-twice@example.com")).scalar_one()
        answers = [
            journey.submit_application(
                s,
                user=user,
                payload=body,
                idempotency_key="same",
                credit_check_consent=True,
                today=date(2026, 1, 10),
                channel="api",
            )
            for _ in range(2)
        ]
    assert answers[0] == answers[1]
    with factory() as s:
        count = s.execute(
            select(func.count()).select_from(ApplicationRow).where(ApplicationRow.user_id == user.id)
        ).scalar_one()
    assert count == 1
