"""Through the API, on both databases: an applicant overdue on this platform is declined whatever the request
says, and a request that supplies a platform or bureau value is refused (422) with nothing stored."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from support.journey import apply_body, borrower, signed_loan
from xiaodai.db.tables import ApplicationRow, BureauPullRow, DecisionRow, LoanRow


def test_overdue_here_is_declined(client: TestClient) -> None:
    me = borrower(client, "late@example.com")
    loan_id = signed_loan(client, me, key="first")
    factory = client.app.state.session_factory  # type: ignore[attr-defined]
    with factory() as s, s.begin():  # what end of day records for a loan 12 days late
        s.execute(update(LoanRow).where(LoanRow.id == loan_id).values(state="overdue", dpd=12, bucket="M1"))
    again = client.post("/api/applications", json=apply_body(), headers={**me, "Idempotency-Key": "second"})
    assert again.status_code == 201, again.text
    assert again.json()["outcome"] == "decline"
    assert again.json()["reasons"][0]["code"] == "KO_EXISTING_OVERDUE"
    other = borrower(client, "punctual@example.com")  # the same request from someone not overdue
    fine = client.post("/api/applications", json=apply_body(), headers={**other, "Idempotency-Key": "k"})
    assert fine.json()["outcome"] == "approve"


@pytest.mark.parametrize(
    ("section", "field", "value"),
    [
        ("applicant", "existing_overdue_days", 0),
        ("applicant", "applications_last_30d", 0),
        ("applicant", "blocklisted", False),
        ("applicant", "bureau_inquiries_1m", 0),
        ("features", "Records", "no"),
    ],
)
def test_a_request_supplying_a_looked_up_value_is_refused(
    client: TestClient, section: str, field: str, value: Any
) -> None:
    me = borrower(client, "faker@example.com")
    body = apply_body()
    body[section] = {**body[section], field: value}
    response = client.post("/api/applications", json=body, headers={**me, "Idempotency-Key": "k"})
    assert response.status_code == 422, response.text
    assert response.json()["error"] == "InvalidApplication"
    assert field in response.json()["message"]
    factory = client.app.state.session_factory  # type: ignore[attr-defined]
    with factory() as s:
        assert s.execute(select(func.count(ApplicationRow.id))).scalar_one() == 0
        assert s.execute(select(func.count(BureauPullRow.id))).scalar_one() == 0


def test_no_credit_check_consent_no_pull(client: TestClient) -> None:
    me = borrower(client, "private@example.com")
    body = {**apply_body(), "consent_credit_check": False}
    response = client.post("/api/applications", json=body, headers={**me, "Idempotency-Key": "k"})
    assert response.status_code == 400
    assert "consent" in response.json()["message"]
    factory = client.app.state.session_factory  # type: ignore[attr-defined]
    with factory() as s:
        assert s.execute(select(func.count(BureauPullRow.id))).scalar_one() == 0


def test_my_export_lists_the_credit_report_pulled_about_me(client: TestClient) -> None:
    me = borrower(client, "curious@example.com")
    app = client.post("/api/applications", json=apply_body(), headers={**me, "Idempotency-Key": "k"}).json()
    again = client.post("/api/applications", json=apply_body(), headers={**me, "Idempotency-Key": "k"}).json()
    assert again["application_id"] == app["application_id"]  # the same application: no second pull
    reports = client.get("/api/me/export", headers=me).json()["credit_reports"]
    assert [r["application_id"] for r in reports] == [app["application_id"]]
    assert reports[0]["provider"] == "sandbox"
    assert reports[0]["report"]["subject_ref"].startswith("user:")


def _with_id_number(client: TestClient, email: str, id_number: str) -> dict[str, str]:
    me = borrower(client, email)
    saved = client.put(
        "/api/me/profile", json={"id_number": id_number, "sensitive_data_consent": True}, headers=me
    )
    assert saved.status_code == 200, saved.text
    return me


def test_stated_age_must_agree_with_the_id_number(client: TestClient) -> None:
    """The ID number on file encodes a birth date (19920101 here): on the API's business date (2026-01-10) the
    person is 34. Stating 34 passes; stating 40 is declined KO_AGE_ID_MISMATCH, the ID's age recorded as a
    platform value. Someone with no ID number on file is not checked."""
    id_number = "11010519920101100X"
    me = _with_id_number(client, "honest@example.com", id_number)
    honest = client.post("/api/applications", json=apply_body(), headers={**me, "Idempotency-Key": "a"})
    assert honest.status_code == 201, honest.text
    assert honest.json()["outcome"] == "approve", honest.json()
    liar = _with_id_number(client, "older@example.com", id_number)
    body = apply_body()
    body["applicant"] = {**body["applicant"], "age": 40}
    stated = client.post("/api/applications", json=body, headers={**liar, "Idempotency-Key": "b"})
    assert stated.status_code == 201, stated.text
    assert stated.json()["outcome"] == "decline"
    assert [r["code"] for r in stated.json()["reasons"]] == ["KO_AGE_ID_MISMATCH"]
    assert stated.json()["reasons"][0]["zh"] == "申报的年龄与身份证件上的出生日期不符"
    factory = client.app.state.session_factory  # type: ignore[attr-defined]
    with factory() as s:
        row = s.execute(
            select(DecisionRow).where(DecisionRow.outcome == "decline").order_by(DecisionRow.id.desc())
        ).scalar_one()
        features = json.loads(row.features_json or "{}")["features"]
    assert features["id_age"] == {"value": 34, "source": "platform"}
    assert features["age_id_mismatch"] == {"value": True, "source": "platform"}
    # a request cannot claim the check passed: the value is the platform's
    body["applicant"]["age_id_mismatch"] = False
    faked = client.post("/api/applications", json=body, headers={**liar, "Idempotency-Key": "c"})
    assert faked.status_code == 422, faked.text
    assert "age_id_mismatch" in faked.json()["message"]
    unknown = borrower(client, "no-id@example.com")
    body = apply_body()
    body["applicant"] = {**body["applicant"], "age": 40}
    unchecked = client.post("/api/applications", json=body, headers={**unknown, "Idempotency-Key": "d"})
    assert unchecked.json()["outcome"] == "approve", unchecked.json()
