"""Staff collections API: collectors see only assigned accounts; a blocked contact is 422 and logged."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from support.journey import borrower, overdue_loan, staff
from xiaodai.db.tables import AuditEventRow


def test_collector_scope_blocking_and_log(client: TestClient) -> None:
    alice_id, alice = staff(client, "alice.collector@example.com", "collector")
    _bob_id, bob = staff(client, "bob.collector@example.com", "collector")
    loan_id = overdue_loan(client, alice_id)
    assert [row["loan_id"] for row in client.get("/api/staff/worklist", headers=alice).json()] == [loan_id]
    assert client.get("/api/staff/worklist", headers=bob).json() == []
    refused = client.get(f"/api/staff/loans/{loan_id}/contacts", headers=bob)
    assert refused.status_code == 403
    assert "ACCESS_NOT_ASSIGNED" in refused.json()["message"]
    factory = client.app.state.session_factory  # type: ignore[attr-defined]
    with factory() as s:
        audit = s.execute(
            select(AuditEventRow).where(AuditEventRow.action == "case-access-refused")
        ).scalar_one()
    assert (audit.actor, audit.subject, audit.reason) == (
        f"user:{_bob_id}",
        f"loan:{loan_id}",
        "ACCESS_NOT_ASSIGNED",
    )
    assert client.get("/api/staff/loans/999999/contacts", headers=bob).status_code == 404
    night = {
        "action": "contact",
        "channel": "call",
        "phone_id": "M1",
        "target": {"type": "borrower"},
        "at": "2026-03-10T23:30:00+08:00",
    }
    blocked = client.post(f"/api/staff/loans/{loan_id}/contacts", json=night, headers=alice)
    assert blocked.status_code == 422
    assert blocked.json()["reason"] == "TIME_WINDOW"
    day = {**night, "at": "2026-03-10T10:00:00+08:00"}
    assert client.post(f"/api/staff/loans/{loan_id}/contacts", json=day, headers=alice).status_code == 201
    log = client.get(f"/api/staff/loans/{loan_id}/contacts", headers=alice).json()
    assert [entry["decision"] for entry in log] == ["allow", "block"]  # ordered by attempt time
    report = client.get("/api/staff/violations", headers=alice).json()
    assert report["by_reason"] == {"TIME_WINDOW": 1}
    me = borrower(client, "curious@example.com")
    assert client.get("/api/staff/worklist", headers=me).status_code == 403


def test_an_attempt_outside_the_vocabulary_is_a_4xx_naming_the_field(client: TestClient) -> None:
    alice_id, alice = staff(client, "carol.collector@example.com", "collector")
    loan_id = overdue_loan(client, alice_id)
    pigeon = {"action": "contact", "channel": "carrier_pigeon", "at": "2026-03-10T10:00:00+08:00"}
    refused = client.post(f"/api/staff/loans/{loan_id}/contacts", json=pigeon, headers=alice)
    assert 400 <= refused.status_code < 500
    assert "channel" in refused.json()["message"]
    assert client.get(f"/api/staff/loans/{loan_id}/contacts", headers=alice).json() == []  # nothing logged
