"""Every endpoint that names an object, called by someone who must not reach it: another borrower gets
404/403 for each of them (never a 2xx, never the object); a collector gets 403 on accounts not assigned to
them. The list of endpoints comes from the OpenAPI schema, so a new endpoint is covered automatically."""

from __future__ import annotations

import re
from typing import Any

from fastapi.testclient import TestClient

from support.journey import apply_body, borrower, overdue_loan, staff

SAFE = {401, 403, 404}
BODY = {
    "amount": "10",
    "kfs_sha256": "0" * 64,
    "mode": "shorten_term",
    "fields": ["phone"],
    "justification": "a long enough justification",
    "reason": "a long enough reason",
    "minutes": 60,
    "category": "fees",
    "decision": {},
    "notice": {},
    "narrative": "电话催收太频繁",
    "kind": "phone",
    "value": "13812345678",
    "operation": "write_off",
    "params": {},
    "remedies": [],
    "root_cause": "none",
    "action": "contact",
    "channel": "phone",
    "number": "6222021234567890128",
    "verdict": "approve",
}
# bodies of endpoints that refuse any field they do not know (extra="forbid"): the check must reach the
# ownership/role decision, not stop at the body's shape
STRICT_BODIES = {"/confirm": {"code": "000000"}}


def body_for(url: str) -> dict[str, Any]:
    return next((b for suffix, b in STRICT_BODIES.items() if url.endswith(suffix)), BODY)


def _objects(client: TestClient) -> dict[str, Any]:
    owner = borrower(client, "owner@example.com")
    app = client.post(
        "/api/applications", json=apply_body(), headers={**owner, "Idempotency-Key": "a"}
    ).json()
    kfs = client.get(f"/api/applications/{app['application_id']}/kfs", headers=owner).json()
    signed = client.post(
        f"/api/applications/{app['application_id']}/sign", json={"kfs_sha256": kfs["sha256"]}, headers=owner
    )
    assert signed.status_code == 201, signed.text
    complaint = client.post(
        "/api/complaints",
        json={"narrative": "利息算错了，请核实", "loan_id": signed.json()["loan_id"]},
        headers=owner,
    )
    assert complaint.status_code == 201, complaint.text
    client.put("/api/me/profile", json={"phone": "13812345678"}, headers=owner)
    me = client.get("/api/auth/me", headers=owner).json()
    card = client.post("/api/cards", json={"number": "6222021234567890128"}, headers=owner)
    assert card.status_code == 201, card.text
    return {
        "public_id": app["application_id"],
        "loan_id": signed.json()["loan_id"],
        "user_id": me["id"],
        "complaint": complaint.json()["complaint_id"],
        "approval_id": 1,
        "line_id": 1,
        "borrower_id": me["id"],
        "card_id": card.json()["card_id"],  # the owner's card, binding pending
        "decision_id": 1,
    }


def _calls(client: TestClient, objects: dict[str, Any]) -> list[tuple[str, str]]:
    paths = client.get("/openapi.json").json()["paths"]
    calls = []
    for path, operations in paths.items():
        if "{" not in path or path.startswith("/api/me/"):  # /api/me/… acts on the caller only
            continue
        for method in operations:

            def fill(match: re.Match[str], path: str = path) -> str:
                name = match.group(1)
                if name == "public_id" and "/complaints/" in path:
                    return str(objects["complaint"])
                return str(objects[name])

            calls.append((method.upper(), re.sub(r"\{(\w+)\}", fill, path)))
    return calls


def test_another_borrower_reaches_no_object(client: TestClient) -> None:
    objects = _objects(client)
    intruder = borrower(client, "intruder@example.com")
    calls = _calls(client, objects)
    assert len(calls) >= 20  # the schema really was walked
    seen = []
    for method, url in calls:
        response = client.request(
            method, url, json=body_for(url), headers={**intruder, "Idempotency-Key": f"x-{method}-{url}"}
        )
        seen.append((method, url, response.status_code))
        assert response.status_code in SAFE, (method, url, response.status_code, response.text[:300])
        assert "13812345678" not in response.text


def test_collector_on_an_unassigned_account_is_refused_and_audited(client: TestClient) -> None:
    alice_id, _alice = staff(client, "alice.c@example.com", "collector")
    _bob_id, bob = staff(client, "bob.c@example.com", "collector")
    loan_id = overdue_loan(client, alice_id)
    paths = [
        p for p in client.get("/openapi.json").json()["paths"] if p.startswith("/api/staff/loans/{loan_id}")
    ]
    assert paths
    refused = 0
    for path in paths:
        for method in client.get("/openapi.json").json()["paths"][path]:
            response = client.request(
                method.upper(), path.replace("{loan_id}", str(loan_id)), json=BODY,
                headers={**bob, "Idempotency-Key": f"c-{method}"},
            )  # fmt: skip
            assert response.status_code == 403, (method, path, response.text)
            refused += "/contacts" in path  # case endpoints; /charges is refused earlier, for the role
    from sqlalchemy import func, select

    from xiaodai.db.tables import AuditEventRow

    factory = client.app.state.session_factory  # type: ignore[attr-defined]
    with factory() as s:
        audited = s.execute(
            select(func.count()).where(
                AuditEventRow.action == "case-access-refused", AuditEventRow.reason == "ACCESS_NOT_ASSIGNED"
            )
        ).scalar_one()
    assert refused >= 2
    assert audited == refused


def test_auditor_reads_but_changes_nothing(client: TestClient) -> None:
    objects = _objects(client)
    _, auditor = staff(client, "audit.ro@example.com", "auditor")
    schema = client.get("/openapi.json").json()["paths"]
    writes = [
        (method.upper(), path)
        for path, operations in schema.items()
        if path.startswith("/api/staff")
        for method in operations
        if method in ("post", "put", "patch", "delete")
    ]
    assert len(writes) >= 8
    for method, path in writes:
        url = re.sub(
            r"\{(\w+)\}",
            lambda m, path=path: str(
                objects["complaint"]
                if m.group(1) == "public_id" and "/complaints/" in path
                else objects[m.group(1)]
            ),
            path,
        )
        response = client.request(
            method, url, json=body_for(url), headers={**auditor, "Idempotency-Key": f"a-{url}"}
        )
        assert response.status_code in {403, 404}, (method, url, response.status_code, response.text[:200])
    assert client.get("/api/staff/complaints", headers=auditor).status_code == 200
    assert client.get(f"/api/staff/people/{objects['user_id']}", headers=auditor).status_code == 200
