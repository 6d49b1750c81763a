"""Remaining endpoints: model form, me, staff charges (role + disclosure gate), prepay/payoff bad input,
and that changing the active model or policy never changes a signed loan."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from support.journey import apply_body, borrower
from support.models import write_artifact
from xiaodai.accounts.service import sign_up
from xiaodai.approvals import service as approvals
from xiaodai.underwriting import service as underwriting


def signed(client: TestClient, email: str) -> tuple[dict[str, str], int, dict[str, object]]:
    me = borrower(client, email)
    app = client.post("/api/applications", json=apply_body(), headers={**me, "Idempotency-Key": "k"}).json()
    kfs = client.get(f"/api/applications/{app['application_id']}/kfs", headers=me).json()
    loan_id = int(
        client.post(
            f"/api/applications/{app['application_id']}/sign", json={"kfs_sha256": kfs["sha256"]}, headers=me
        ).json()["loan_id"]
    )
    return me, loan_id, kfs


def staff_token(client: TestClient, email: str, role: str) -> dict[str, str]:
    factory = client.app.state.session_factory  # type: ignore[attr-defined]
    with factory() as s, s.begin():
        sign_up(s, email=email, name=role, password="correct horse 1", kind="staff", roles=(role,))
    token = client.post("/api/auth/token", json={"email": email, "password": "correct horse 1"}).json()[
        "token"
    ]
    return {"Authorization": f"Bearer {token}"}


def test_form_and_me(client: TestClient) -> None:
    me = borrower(client, "form@example.com")
    form = client.get("/api/model/form", headers=me).json()
    fields = {f["name"]: f for f in form["fields"]}
    assert set(fields) == {
        "amount",
        "term",
        "purpose",
        "age",
        "monthly_income",
        "monthly_debt_payments",
        "employment_type",
        "employment_tenure_years",
        "housing",
        "dependants",
    }  # only what the applicant states: no platform or bureau value is ever asked
    assert "owner" in fields["housing"]["choices"]
    assert (fields["monthly_income"]["unit_en"], fields["term"]["section"]) == ("CNY per month", "request")
    assert client.get("/api/auth/me", headers=me).json()["kind"] == "borrower"
    assert client.get("/api/auth/me").status_code == 401


def test_staff_charges_are_gated_by_role_and_disclosure(client: TestClient) -> None:
    me, loan_id, _ = signed(client, "fees@example.com")
    body = {"type": "late_fee", "amount": "50.00"}
    assert (
        client.post(
            f"/api/staff/loans/{loan_id}/charges", json=body, headers={**me, "Idempotency-Key": "x"}
        ).status_code
        == 403
    )
    admin = staff_token(client, "admin.fees@example.com", "admin")
    refused = client.post(
        f"/api/staff/loans/{loan_id}/charges", json=body, headers={**admin, "Idempotency-Key": "y"}
    )
    assert refused.status_code == 422
    assert refused.json()["reason"] == "CHARGE_NOT_DISCLOSED"
    assert refused.json()["posted"] is False


def test_prepay_and_payoff_bad_input(client: TestClient) -> None:
    me, loan_id, _ = signed(client, "bad@example.com")
    assert (
        client.get(f"/api/loans/{loan_id}/payoff", params={"on": "yesterday"}, headers=me).status_code == 422
    )
    bad_mode = client.post(
        f"/api/loans/{loan_id}/prepay", json={"mode": "sideways"}, headers={**me, "Idempotency-Key": "p"}
    )
    assert bad_mode.status_code == 400
    negative = client.post(
        f"/api/loans/{loan_id}/repayments", json={"amount": "-1"}, headers={**me, "Idempotency-Key": "n"}
    )
    assert negative.status_code == 422
    assert client.get(f"/api/loans/{loan_id}", headers=me).json()["paid_total"] == "0.00"


def test_new_model_or_policy_never_changes_a_signed_loan(client: TestClient, tmp_path: Path) -> None:
    me, loan_id, kfs = signed(client, "frozen@example.com")
    before = client.get(f"/api/loans/{loan_id}", headers=me).json()
    factory = client.app.state.session_factory  # type: ignore[attr-defined]
    with (
        factory() as s,
        s.begin(),
        pytest.raises(underwriting.RegistryError, match="MAKER_CHECKER_REQUIRED"),
    ):
        underwriting.register_model(
            s, artifact=write_artifact(tmp_path / "v2", version="test0000model0002"), activate=True
        )
    with factory() as s, s.begin():
        underwriting.register_model(s, artifact=write_artifact(tmp_path / "v2", version="test0000model0002"))
        maker, checker = (
            sign_up(
                s,
                email=f"risk{n}@example.com",
                name="r",
                password="correct horse 1",
                kind="staff",
                roles=("risk",),
            )
            for n in (1, 2)
        )
        asked = approvals.request(
            s,
            maker=maker,
            operation="model_activate",
            params={"version": "test0000model0002"},
            reason="better AUC",
        )
        approvals.approve(s, checker=checker, approval_id=asked["id"])
        assert underwriting.active_model(s).version == "test0000model0002"
    after = client.get(f"/api/loans/{loan_id}", headers=me).json()
    assert after["schedule"] == before["schedule"]
    assert after["disclosure"]["sha256"] == kfs["sha256"]
    snapshot = client.get(f"/api/loans/{loan_id}/disclosure", headers=me).json()
    assert snapshot["kfs"] == kfs["kfs"]
