"""Who sees what: account names are encrypted at rest (and readable in the app); a complaint's status and
category only for its complainant and the complaint roles; a collection case only for a collector."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from support.journey import apply_body, borrower, staff
from xiaodai.collections import service as collections
from xiaodai.db.tables import LoanRow

NAME = "欧阳明月"


def test_account_name_is_encrypted_at_rest_and_read_back(client: TestClient) -> None:
    answer = client.post(
        "/api/auth/signup", json={"email": "n@example.com", "name": NAME, "password": "correct horse 1"}
    )
    assert answer.status_code == 202
    token = client.post(
        "/api/auth/token", json={"email": "n@example.com", "password": "correct horse 1"}
    ).json()
    assert (
        client.get("/api/auth/me", headers={"Authorization": f"Bearer {token['token']}"}).json()["name"]
        == NAME
    )
    with client.app.state.session_factory() as s:  # type: ignore[attr-defined]
        raw = s.execute(text("SELECT name, name_enc FROM users WHERE email = 'n@example.com'")).one()
    assert raw.name == ""
    assert raw.name_enc.startswith("v")
    assert NAME not in raw.name_enc


def test_complaint_is_visible_to_its_complainant_and_the_complaint_roles_only(client: TestClient) -> None:
    me = borrower(client, "c@example.com")
    filed = client.post("/api/complaints", json={"narrative": "催收人员骚扰我的家人"}, headers=me)
    assert filed.status_code == 201
    cid = filed.json()["complaint_id"]
    assert client.get(f"/api/complaints/{cid}", headers=me).status_code == 200
    for role, status in (
        ("complaint_officer", 200),
        ("auditor", 200),
        ("admin", 200),
        ("collector", 404),
        ("underwriter", 404),
        ("risk", 404),
    ):
        _, who = staff(client, f"{role}@example.com", role)
        seen = client.get(f"/api/complaints/{cid}", headers=who)
        assert seen.status_code == status, (role, seen.text)
        if status == 404:
            assert "category" not in seen.text
    other = borrower(client, "other@example.com")
    assert client.get(f"/api/complaints/{cid}", headers=other).status_code == 404


def test_collection_case_is_assigned_to_a_collector_only(client: TestClient) -> None:
    me = borrower(client, "loan@example.com")
    app = client.post("/api/applications", json=apply_body(), headers={**me, "Idempotency-Key": "k"}).json()
    kfs = client.get(f"/api/applications/{app['application_id']}/kfs", headers=me).json()
    signed = client.post(
        f"/api/applications/{app['application_id']}/sign",
        json={"kfs_sha256": kfs["sha256"]},
        headers={**me, "Idempotency-Key": "s"},
    )
    loan_id = signed.json()["loan_id"]
    collector_id, _ = staff(client, "col@example.com", "collector")
    underwriter_id, _ = staff(client, "uw@example.com", "underwriter")
    borrower_id = client.get("/api/auth/me", headers=me).json()["id"]
    factory = client.app.state.session_factory  # type: ignore[attr-defined]
    for wrong in (underwriter_id, borrower_id, 999_999):
        with factory() as s, s.begin(), pytest.raises(collections.AssigneeError, match="not a collector"):
            collections.open_case(s, loan_id=loan_id, assigned_to=wrong)
    with factory() as s, s.begin():
        case = collections.open_case(s, loan_id=loan_id, assigned_to=collector_id)
        assert case.assigned_to == collector_id
        assert s.get(LoanRow, loan_id) is not None
