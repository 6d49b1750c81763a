"""An application asks the database less: no look-up of an earlier decision for an application created in
the same request, no read-back of the decision just written, and the policy version stored once (a process
that has seen it committed stops re-inserting and re-comparing it). The answer is the replay's answer."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from support.journey import apply_body, borrower
from support.statements import statements
from xiaodai.db.tables import PolicyVersionRow


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
