"""Helpers for API tests: borrowers with tokens and application bodies."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import update

from xiaodai.accounts.service import sign_up
from xiaodai.collections import service
from xiaodai.db.tables import ApiTokenRow, LoanRow, UserRow


def borrower(client: TestClient, email: str) -> dict[str, str]:
    response = client.post(
        "/api/auth/signup", json={"email": email, "name": "张三", "password": "correct horse 1"}
    )
    assert response.status_code == 202, response.text
    token = client.post("/api/auth/token", json={"email": email, "password": "correct horse 1"}).json()[
        "token"
    ]
    return {"Authorization": f"Bearer {token}"}


def apply_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "applicant": {
            "age": 34,
            "monthly_income": "9000",
            "monthly_debt_payments": "500",
            "employment_type": "employed",
            "employment_tenure_years": 8,
            "housing": "owner",
            "dependants": 1,
            "purpose": "consumption",
        },
        "features": {},
        "request": {"amount": "10000", "term": 12},
        "consent_credit_check": True,
    }
    body.update(overrides)
    return body


CONTEXT = {"borrower": {"timezone": "Asia/Shanghai", "phones": [{"id": "M1", "type": "mobile"}]}, "flags": {}}


def signed_loan(client: TestClient, me: dict[str, str], *, key: str = "k", **body: Any) -> int:
    """Apply (approved; ``body`` as ``apply_body`` takes it), read the offer's key-facts statement and sign
    it: the signed loan's id."""
    app = client.post(
        "/api/applications", json=apply_body(**body), headers={**me, "Idempotency-Key": key}
    ).json()
    assert app["outcome"] == "approve", app
    kfs = client.get(f"/api/applications/{app['application_id']}/kfs", headers=me).json()
    signed = client.post(
        f"/api/applications/{app['application_id']}/sign", json={"kfs_sha256": kfs["sha256"]}, headers=me
    )
    assert signed.status_code == 201, signed.text
    return int(signed.json()["loan_id"])


def bearer_loan(client: TestClient, email: str) -> tuple[dict[str, str], int]:
    """A borrower with a signed loan whose next requests carry only the bearer token (no cookie: the hot
    path's requests)."""
    me = borrower(client, email)
    loan_id = signed_loan(client, me)
    client.cookies.clear()
    return me, loan_id


def pay(
    client: TestClient, loan_id: int, me: dict[str, str], key: str, amount: str = "1.00", tail: str = ""
) -> Any:
    """A repayment of ``amount`` under ``key``; ``tail`` (e.g. ``?via=full``: a query string sends it to the
    full stack)."""
    return client.post(
        f"/api/loans/{loan_id}/repayments{tail}",
        json={"amount": amount},
        headers={**me, "Idempotency-Key": key},
    )


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


def refused_token(client: TestClient, me: dict[str, str], refusal: str) -> dict[str, str]:
    """The headers of a bearer token ``user_for_token`` refuses for ``refusal``: the borrower's own token
    (``me``) ``revoked``, ``expired`` or its account ``locked`` (every token and user of the test database:
    only this borrower's matter here), or a token of nobody (``unknown``)."""
    past, future = datetime(2000, 1, 1, tzinfo=UTC), datetime(2099, 1, 1, tzinfo=UTC)
    change = {
        "revoked": update(ApiTokenRow).values(revoked=True),
        "locked": update(UserRow).values(locked_until=future),
        "expired": update(ApiTokenRow).values(expires_at=past),
    }
    if refusal == "unknown":
        return {"Authorization": "Bearer not-a-token-of-anyone"}
    with client.app.state.session_factory() as s, s.begin():  # type: ignore[attr-defined]
        s.execute(change[refusal])
    return me
