"""Booking dates belong to the platform: a borrower's payment is booked on the business date (a date in the
body is refused, nothing posted); back-dating is a staff request with a reason, limits and a second person's
approval, and it is audited. Both databases."""

from __future__ import annotations

import dataclasses
import json
from datetime import date, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from support.journey import apply_body, borrower, staff
from xiaodai.db.tables import AuditEventRow, JournalEntryRow

TODAY = date(2026, 1, 10)  # the business date of the ``client`` fixture


def _factory(client: TestClient) -> Any:
    return client.app.state.session_factory  # type: ignore[attr-defined]


def _loan(client: TestClient, me: dict[str, str]) -> int:
    app = client.post("/api/applications", json=apply_body(), headers={**me, "Idempotency-Key": "a"}).json()
    kfs = client.get(f"/api/applications/{app['application_id']}/kfs", headers=me).json()
    signed = client.post(
        f"/api/applications/{app['application_id']}/sign", json={"kfs_sha256": kfs["sha256"]}, headers=me
    )
    assert signed.status_code == 201, signed.text
    return int(signed.json()["loan_id"])


def _repayments(client: TestClient) -> list[date]:
    with _factory(client)() as s:
        return list(
            s.execute(
                select(JournalEntryRow.business_date)
                .where(JournalEntryRow.event == "repayment")
                .order_by(JournalEntryRow.id)
            ).scalars()
        )


def _entries(client: TestClient) -> int:
    with _factory(client)() as s:
        return int(s.execute(select(func.count()).select_from(JournalEntryRow)).scalar_one())


def _move_business_date(client: TestClient, day: date) -> None:
    app = client.app
    app.state.settings = dataclasses.replace(app.state.settings, business_date=day)  # type: ignore[attr-defined]


@pytest.mark.parametrize("on", ["2099-12-31", "2026-01-01", "2026-01-10", None])
def test_a_borrower_cannot_choose_the_booking_date(client: TestClient, on: str | None) -> None:
    me = borrower(client, "d1@example.com")
    loan_id = _loan(client, me)
    before = _entries(client)
    for path, body in (
        (f"/api/loans/{loan_id}/repayments", {"amount": "100"}),
        (f"/api/loans/{loan_id}/prepay", {}),
    ):
        answer = client.post(path, json={**body, "on": on}, headers={**me, "Idempotency-Key": f"k{path}"})
        assert answer.status_code == 422, answer.text
        assert "business date" in answer.json()["message"]
    assert _entries(client) == before
    paid = client.post(
        f"/api/loans/{loan_id}/repayments", json={"amount": "100"}, headers={**me, "Idempotency-Key": "ok"}
    )
    assert paid.status_code == 201, paid.text
    assert _repayments(client) == [TODAY]


@pytest.mark.parametrize(
    "on", ["20260110", "2026-W02-6", "2026-1-10", "2026-01-10T00:00", "２０２６-01-10", ""]
)
def test_a_quote_date_is_iso_only(client: TestClient, on: str) -> None:
    me = borrower(client, "d2@example.com")
    loan_id = _loan(client, me)
    answer = client.get(f"/api/loans/{loan_id}/payoff", params={"on": on}, headers=me)
    assert answer.status_code == 422, answer.text
    assert "YYYY-MM-DD" in answer.json()["message"]


def test_a_quote_date_is_bounded(client: TestClient) -> None:
    me = borrower(client, "d3@example.com")
    loan_id = _loan(client, me)
    last = (TODAY + timedelta(days=366)).isoformat()
    assert client.get(f"/api/loans/{loan_id}/payoff", params={"on": last}, headers=me).status_code == 200
    past = (TODAY + timedelta(days=367)).isoformat()
    far = client.get(f"/api/loans/{loan_id}/payoff", params={"on": past}, headers=me)
    assert far.status_code == 422
    assert (
        client.get(f"/api/loans/{loan_id}/payoff", params={"on": "9999-12-31"}, headers=me).status_code == 422
    )


def _ask(client: TestClient, who: dict[str, str], loan_id: int, on: date, amount: str = "100") -> Any:
    body = {
        "operation": "backdated_repayment",
        "params": {"loan_id": loan_id, "amount": amount, "on": on.isoformat()},
        "reason": "paid at the bank counter on that day; credited late",
    }
    return client.post("/api/staff/approvals", json=body, headers=who)


def test_back_dating_is_a_bounded_approved_audited_staff_operation(client: TestClient) -> None:
    me = borrower(client, "d4@example.com")
    loan_id = _loan(client, me)  # disbursed on TODAY
    _, officer = staff(client, "officer@example.com", "complaint_officer")
    _, risk = staff(client, "risk@example.com", "risk")
    business = TODAY + timedelta(days=40)
    _move_business_date(client, business)
    assert _ask(client, me, loan_id, TODAY + timedelta(days=20)).status_code == 403  # borrowers cannot ask
    refusals = {
        business + timedelta(days=1): "BACKDATE_IN_FUTURE",
        business - timedelta(days=31): "BACKDATE_TOO_FAR",
        TODAY - timedelta(days=1): "BACKDATE_BEFORE_DISBURSAL",
    }
    for on, code in refusals.items():
        refused = _ask(client, officer, loan_id, on)
        assert refused.status_code == 422, (on, refused.text)
        assert code in refused.json()["message"]
    assert _ask(client, officer, loan_id, TODAY + timedelta(days=20), amount="1e2").status_code == 422
    oldest = business - timedelta(days=30)  # exactly at the limit
    asked = _ask(client, officer, loan_id, oldest)
    assert asked.status_code == 201, asked.text
    approval_id = asked.json()["id"]
    assert _repayments(client) == []  # nothing booked until a second person approves
    assert client.post(f"/api/staff/approvals/{approval_id}/approve", headers=officer).status_code == 403
    done = client.post(f"/api/staff/approvals/{approval_id}/approve", headers=risk)
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "executed"
    assert _repayments(client) == [oldest]
    with _factory(client)() as s:
        audit = s.execute(
            select(AuditEventRow).where(AuditEventRow.action == "repayment-backdated")
        ).scalar_one()
    assert json.loads(audit.payload)["on"] == oldest.isoformat()
    assert audit.subject == f"loan:{loan_id}"


def test_a_retry_on_a_later_business_date_replays_the_first_answer(client: TestClient) -> None:
    me = borrower(client, "d5@example.com")
    loan_id = _loan(client, me)
    url, headers = f"/api/loans/{loan_id}/repayments", {**me, "Idempotency-Key": "midnight"}
    first = client.post(url, json={"amount": "100"}, headers=headers)
    assert first.status_code == 201
    _move_business_date(client, TODAY + timedelta(days=1))  # the client's retry arrives after midnight
    retry = client.post(url, json={"amount": "100"}, headers=headers)
    assert retry.status_code == 201, retry.text
    assert (retry.json()["replayed"], retry.json()["entry_id"]) == (True, first.json()["entry_id"])
    other = client.post(url, json={"amount": "200"}, headers=headers)  # the same key for another amount
    assert other.status_code == 409
    prepay_headers = {**me, "Idempotency-Key": "pp-midnight"}
    done = client.post(f"/api/loans/{loan_id}/prepay", json={}, headers=prepay_headers)
    assert done.status_code == 201, done.text
    _move_business_date(client, TODAY + timedelta(days=2))
    again = client.post(f"/api/loans/{loan_id}/prepay", json={}, headers=prepay_headers)
    assert (again.status_code, again.json()["replayed"]) == (201, True)
    assert _repayments(client) == [TODAY]
