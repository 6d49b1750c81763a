"""The read paths ask the database only what they need: a loan's detail loads the loan row once, an
application is answered from the row just written."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from support.journey import apply_body, borrower, signed_loan
from support.statements import statements

pytestmark = pytest.mark.usefixtures("tokens_remembered_long")  # the counts assume a remembered token


def test_a_loan_detail_is_one_statement(client: TestClient) -> None:
    me = borrower(client, "detail@example.com")
    loan_id = signed_loan(client, me)
    client.get(f"/api/loans/{loan_id}", headers=me)  # the token is now remembered
    with statements(client) as seen:
        answer = client.get(f"/api/loans/{loan_id}", headers=me)
    assert answer.status_code == 200
    loans = [s for s in seen if "FROM loans" in s]
    assert len(loans) == 1, loans
    assert "disclosures" in loans[0]  # its disclosure came with it
    assert "installments" in loans[0]  # and its schedule
    assert len([s for s in seen if s.lstrip().upper().startswith("SELECT")]) == 1, seen  # one statement
    detail = answer.json()
    assert detail["disclosure"]["sha256"]
    assert detail["schedule"]


def test_an_application_is_read_back_from_the_row_in_hand(client: TestClient) -> None:
    me = borrower(client, "apply-once@example.com")
    client.get("/api/loans", headers=me)  # the token is now remembered
    with statements(client) as seen:
        answer = client.post("/api/applications", json=apply_body(), headers={**me, "Idempotency-Key": "a1"})
    assert answer.status_code == 201
    assert answer.json()["outcome"] == "approve"
    assert answer.json()["offer"]
    # a read is a SELECT, or a WITH statement whose part reads applications (on PostgreSQL the idempotency
    # look-up shares one statement with the credit-check consent)
    reads = [
        s for s in seen if s.lstrip().upper().startswith(("SELECT", "WITH")) and "FROM applications" in s
    ]
    # the platform's look-up of this person's recent applications (KO_VELOCITY) is a feature, not a read-back
    reads = [s for s in reads if "personal_data" not in s]
    assert len(reads) == 1, reads  # the idempotency lookup only
    again = client.post("/api/applications", json=apply_body(), headers={**me, "Idempotency-Key": "a1"})
    assert again.json() == answer.json()  # the replay reads it back: the same answer
