"""Helpers for API tests: borrowers with tokens and application bodies."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient


def borrower(client: TestClient, email: str) -> dict[str, str]:
    response = client.post(
        "/api/auth/signup", json={"email": email, "name": "张三", "password": "correct horse 1"}
    )
    assert response.status_code == 201, response.text
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
            "existing_overdue_days": 0,
            "applications_last_30d": 1,
            "blocklisted": False,
        },
        "features": {"Seniority": 8, "Home": "owner", "Income": 180, "Records": "no"},
        "request": {"amount": "10000", "term": 12},
        "consent_credit_check": True,
    }
    body.update(overrides)
    return body
