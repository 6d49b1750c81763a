"""Staff collections API: collectors see only assigned accounts; a blocked contact is 422 and logged."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import update

from support.journey import apply_body, borrower
from xiaodai.accounts.service import sign_up
from xiaodai.collections import service
from xiaodai.db.tables import LoanRow

CONTEXT = {"borrower": {"timezone": "Asia/Shanghai", "phones": [{"id": "M1", "type": "mobile"}]}, "flags": {}}


def staff(client: TestClient, email: str, role: str) -> tuple[int, dict[str, str]]:
    factory = client.app.state.session_factory  # type: ignore[attr-defined]
    with factory() as s, s.begin():
        user_id = sign_up(
            s, email=email, name=role, password="correct horse 1", kind="staff", roles=(role,)
        ).id
    token = client.post("/api/auth/token", json={"email": email, "password": "correct horse 1"}).json()[
        "token"
    ]
    return user_id, {"Authorization": f"Bearer {token}"}


def overdue_loan(client: TestClient, assigned_to: int) -> int:
    me = borrower(client, f"b{assigned_to}@example.com")
    app = client.post("/api/applications", json=apply_body(), headers={**me, "Idempotency-Key": "k"}).json()
    kfs = client.get(f"/api/applications/{app['application_id']}/kfs", headers=me).json()
    loan_id = int(
        client.post(
            f"/api/applications/{app['application_id']}/sign", json={"kfs_sha256": kfs["sha256"]}, headers=me
        ).json()["loan_id"]
    )
    factory = client.app.state.session_factory  # type: ignore[attr-defined]
    with factory() as s, s.begin():
        s.execute(update(LoanRow).where(LoanRow.id == loan_id).values(state="overdue", dpd=12, bucket="M1"))
        service.open_case(s, loan_id=loan_id, profile="CN", context=CONTEXT, assigned_to=assigned_to)
    return loan_id


def test_collector_scope_blocking_and_log(client: TestClient) -> None:
    alice_id, alice = staff(client, "alice.collector@example.com", "collector")
    _bob_id, bob = staff(client, "bob.collector@example.com", "collector")
    loan_id = overdue_loan(client, alice_id)
    assert [row["loan_id"] for row in client.get("/api/staff/worklist", headers=alice).json()] == [loan_id]
    assert client.get("/api/staff/worklist", headers=bob).json() == []
    assert client.get(f"/api/staff/loans/{loan_id}/contacts", headers=bob).status_code == 404
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
