"""The portal's application form, on both databases: a borrower overdue on this platform is declined with
the overdue reason, and a smuggled ``existing_overdue_days`` form field changes nothing."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import update

from xiaodai.db.tables import LoanRow

STATED = {
    "age": "33",
    "monthly_income": "9000",
    "monthly_debt_payments": "300",
    "employment_type": "employed",
    "employment_tenure_years": "8",
    "housing": "owner",
    "dependants": "1",
    "purpose": "consumption",
    "amount": "10000",
    "term": "12",
    "consent_credit_check": "yes",
}


def _hidden(html: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert match, name
    return match.group(1)


def _apply(client: TestClient, **extra: str) -> tuple[str, str]:
    page = client.get("/apply").text
    data = {
        "csrf": _hidden(page, "csrf"),
        "idempotency_key": _hidden(page, "idempotency_key"),
        **STATED,
        **extra,
    }
    response = client.post("/apply", data=data)
    assert response.status_code == 200, response.text
    return str(response.url), response.text


def test_overdue_here_is_declined_through_the_form(client: TestClient) -> None:
    page = client.get("/signup").text
    account = {"email": "w@example.com", "password": "correct horse 1"}
    signed_up = client.post("/signup", data={**account, "name": "李四", "csrf": _hidden(page, "csrf")})
    client.post("/login", data={**account, "csrf": _hidden(signed_up.text, "csrf")})
    offer_url, offer = _apply(client)
    assert 'class="approve" id="outcome"' in offer
    signed = client.post(
        offer_url + "/sign",
        data={
            "csrf": _hidden(offer, "csrf"),
            **{name: _hidden(offer, name) for name in ("kfs_sha256", "amount", "term", "method")},
        },
    )
    assert 'id="loan-state" data-state="active"' in signed.text
    factory = client.app.state.session_factory  # type: ignore[attr-defined]
    with factory() as s, s.begin():  # what end of day records for a loan 12 days late
        s.execute(update(LoanRow).values(state="overdue", dpd=12, bucket="M1"))
    _, declined = _apply(client, existing_overdue_days="0", blocklisted="false")
    assert 'class="decline" id="outcome"' in declined
    assert "您在本平台有逾期未还的借款" in declined
