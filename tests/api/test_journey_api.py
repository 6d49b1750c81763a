"""The journey through the JSON API, bad input, and access control — on SQLite and PostgreSQL."""

from __future__ import annotations

from decimal import Decimal

from fastapi.testclient import TestClient

from support.journey import apply_body, borrower


def test_apply_offer_sign_repay_prepay(client: TestClient) -> None:
    me = borrower(client, "a@example.com")
    created = client.post("/api/applications", json=apply_body(), headers={**me, "Idempotency-Key": "app-1"})
    assert created.status_code == 201, created.text
    app = created.json()
    assert app["outcome"] == "approve"
    again = client.post("/api/applications", json=apply_body(), headers={**me, "Idempotency-Key": "app-1"})
    assert again.json()["application_id"] == app["application_id"]
    assert again.json() == app  # the replay answers the same
    # the answer's bytes are written by the handler: the same JSON as the read of the application
    assert client.get(f"/api/applications/{app['application_id']}", headers=me).json() == app
    kfs = client.get(
        f"/api/applications/{app['application_id']}/kfs", params={"amount": "8000", "term": 6}, headers=me
    ).json()
    assert kfs["kfs"]["loan"]["principal"] == "8000.00"
    assert Decimal(kfs["kfs"]["headline"]["apr_percent"]) <= 24
    signed = client.post(
        f"/api/applications/{app['application_id']}/sign",
        json={"amount": "8000", "term": 6, "kfs_sha256": kfs["sha256"]},
        headers=me,
    )
    assert signed.status_code == 201, signed.text
    loan_id = signed.json()["loan_id"]
    detail = client.get(f"/api/loans/{loan_id}", headers=me).json()
    assert detail["state"] == "active"
    assert detail["disclosure"]["sha256"] == kfs["sha256"]
    payment = detail["schedule"][0]["payment"]
    paid = client.post(
        f"/api/loans/{loan_id}/repayments",
        json={"amount": payment},
        headers={**me, "Idempotency-Key": "pay-1"},
    )
    assert paid.status_code == 201, paid.text
    retry = client.post(
        f"/api/loans/{loan_id}/repayments",
        json={"amount": payment},
        headers={**me, "Idempotency-Key": "pay-1"},
    )
    assert retry.json()["replayed"] is True
    quote = client.get(f"/api/loans/{loan_id}/payoff", headers=me).json()  # on the business date
    done = client.post(
        f"/api/loans/{loan_id}/prepay",
        json={},
        headers={**me, "Idempotency-Key": "prepay-1"},
    )
    assert done.json()["state"] == "settled"
    assert done.json()["paid"] == quote["total"]
    exported = client.get("/api/me/export", headers=me).json()
    assert exported["disclosures"][0]["sha256"] == kfs["sha256"]
    assert {c["kind"] for c in exported["consents"]} == {"credit_check", "terms"}
    # one credit-check consent: the replayed application recorded none
    assert [c["kind"] for c in exported["consents"]].count("credit_check") == 1


def test_signing_a_changed_statement_is_refused(client: TestClient) -> None:
    me = borrower(client, "b@example.com")
    app = client.post("/api/applications", json=apply_body(), headers={**me, "Idempotency-Key": "k"}).json()
    shown = client.get(f"/api/applications/{app['application_id']}/kfs", headers=me).json()
    response = client.post(
        f"/api/applications/{app['application_id']}/sign",
        json={"amount": "9000", "kfs_sha256": shown["sha256"]},
        headers=me,
    )
    assert response.status_code == 400
    assert "changed since it was shown" in response.json()["message"]
    assert client.get("/api/loans", headers=me).json() == []


def test_bad_input_is_refused_with_a_message_and_writes_nothing(client: TestClient) -> None:
    me = borrower(client, "c@example.com")
    no_consent = client.post(
        "/api/applications",
        json=apply_body(consent_credit_check=False),
        headers={**me, "Idempotency-Key": "x"},
    )
    assert no_consent.status_code == 400
    assert "consent" in no_consent.json()["message"]
    missing = client.post("/api/applications", json={"applicant": {}}, headers={**me, "Idempotency-Key": "y"})
    assert missing.status_code == 422
    no_key = client.post("/api/applications", json=apply_body(), headers=me)
    assert no_key.status_code == 422
    assert client.get("/api/loans").status_code == 401
    assert (
        client.post(
            "/api/auth/signup", json={"email": "bad", "name": "x", "password": "0123456789"}
        ).status_code
        == 400
    )
    assert (
        client.post(
            "/api/auth/token", json={"email": "c@example.com", "password": "wrong password"}
        ).status_code
        == 401
    )


def test_a_borrower_cannot_see_or_touch_another_borrowers_things(client: TestClient) -> None:
    alice = borrower(client, "alice@example.com")
    bob = borrower(client, "bob@example.com")
    app = client.post(
        "/api/applications", json=apply_body(), headers={**alice, "Idempotency-Key": "a"}
    ).json()
    kfs = client.get(f"/api/applications/{app['application_id']}/kfs", headers=alice).json()
    loan_id = client.post(
        f"/api/applications/{app['application_id']}/sign", json={"kfs_sha256": kfs["sha256"]}, headers=alice
    ).json()["loan_id"]
    for path in (
        f"/api/applications/{app['application_id']}",
        f"/api/applications/{app['application_id']}/kfs",
        f"/api/loans/{loan_id}",
        f"/api/loans/{loan_id}/disclosure",
        f"/api/loans/{loan_id}/payoff",
    ):
        assert client.get(path, headers=bob).status_code == 404, path
    assert (
        client.post(
            f"/api/loans/{loan_id}/repayments",
            json={"amount": "10.00"},
            headers={**bob, "Idempotency-Key": "steal"},
        ).status_code
        == 404
    )
    assert (
        client.post(
            f"/api/applications/{app['application_id']}/sign", json={"kfs_sha256": kfs["sha256"]}, headers=bob
        ).status_code
        == 404
    )
    assert client.get("/api/loans", headers=bob).json() == []
    for guess in range(1, loan_id + 3):
        assert client.get(f"/api/loans/{guess}", headers=bob).status_code == 404


def test_cooling_off_cancellation_repays_principal_only(client: TestClient) -> None:
    me = borrower(client, "d@example.com")
    app = client.post("/api/applications", json=apply_body(), headers={**me, "Idempotency-Key": "k"}).json()
    kfs = client.get(f"/api/applications/{app['application_id']}/kfs", headers=me).json()
    loan_id = client.post(
        f"/api/applications/{app['application_id']}/sign", json={"kfs_sha256": kfs["sha256"]}, headers=me
    ).json()["loan_id"]
    cancelled = client.post(f"/api/loans/{loan_id}/cancel", headers={**me, "Idempotency-Key": "c"})
    assert cancelled.status_code == 201, cancelled.text
    assert cancelled.json()["repaid"] == kfs["kfs"]["loan"]["amount_received"]
    assert client.get(f"/api/loans/{loan_id}", headers=me).json()["state"] == "settled"
