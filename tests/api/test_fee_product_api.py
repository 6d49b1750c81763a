"""The fee product through the API: its KFS states every fee by clause and its true annual rate is above the
headline rate; the loan disburses the principal less the fee kept back; a charge the signed KFS does not
allow is refused (422) with its reason code — on SQLite and PostgreSQL."""

from __future__ import annotations

from decimal import Decimal

from fastapi.testclient import TestClient

from support.journey import apply_body, borrower, staff
from xiaodai.journey.charges import charge_attempts
from xiaodai.journey.lender import DEMO_LENDER


def _application(client: TestClient, me: dict[str, str]) -> str:
    created = client.post("/api/applications", json=apply_body(), headers={**me, "Idempotency-Key": "k1"})
    assert created.json()["outcome"] == "approve", created.text
    return str(created.json()["application_id"])


def test_fee_product_offer_sign_and_a_refused_charge(client: TestClient) -> None:
    me = borrower(client, "fees@example.com")
    app = _application(client, me)
    choice = {"amount": "10000", "term": 12, "product": "everyday"}
    shown = client.get(f"/api/applications/{app}/kfs", params=choice, headers=me)
    assert shown.status_code == 200, shown.text
    kfs = shown.json()["kfs"]
    nominal = Decimal(kfs["other_rates"]["nominal_annual_rate_percent"])
    assert Decimal(kfs["headline"]["apr_percent"]) > nominal
    fees = {f["clause"]: (f["type"], f["amount"]) for f in kfs["fees"]}
    assert fees == {"F1": ("upfront_fee", "150.00"), "F2": ("monthly_fee", "8.00")}
    assert kfs["loan"]["amount_received"] == "9850.00"
    assert kfs["penalty"]["reason"] == "PENALTY_CAPPED_BY_PROFILE"
    assert (kfs["lender"], kfs["lender_en"]) == (DEMO_LENDER["zh"], DEMO_LENDER["en"])
    plain = client.get(f"/api/applications/{app}/kfs", params={"amount": "10000", "term": 12}, headers=me)
    assert Decimal(plain.json()["kfs"]["headline"]["apr_percent"]) == nominal.quantize(Decimal("0.01"))
    signed = client.post(
        f"/api/applications/{app}/sign", json={**choice, "kfs_sha256": shown.json()["sha256"]}, headers=me
    )
    assert signed.status_code == 201, signed.text
    loan_id = signed.json()["loan_id"]
    detail = client.get(f"/api/loans/{loan_id}", headers=me).json()
    assert detail["schedule"][0]["fee"] == "8.00"
    assert {f["clause"] for f in detail["fee_terms"]} == {"F1", "F2"}
    _, admin = staff(client, "admin@example.com", "admin")
    refused = client.post(
        f"/api/staff/loans/{loan_id}/charges",
        json={"type": "late_fee", "amount": "50.00"},
        headers={**admin, "Idempotency-Key": "c1"},
    )
    assert refused.status_code == 422
    assert (refused.json()["posted"], refused.json()["reason"]) == (False, "CHARGE_NOT_DISCLOSED")
    over = client.post(
        f"/api/staff/loans/{loan_id}/charges",
        json={"type": "upfront_fee", "amount": "0.01"},
        headers={**admin, "Idempotency-Key": "c2"},
    )
    assert over.json()["reason"] == "CHARGE_ALREADY_CHARGED"  # F1 was kept back at disbursement
    factory = client.app.state.session_factory  # type: ignore[attr-defined]
    with factory() as s:
        attempts = charge_attempts(s, loan_id=loan_id)
    assert [(a["type"], a["reason"], a["posted"]) for a in attempts] == [
        ("late_fee", "CHARGE_NOT_DISCLOSED", False),
        ("upfront_fee", "CHARGE_ALREADY_CHARGED", False),
    ]
    assert attempts[1]["clause"] == "F1"


def test_unknown_or_unfitting_product_is_refused_with_a_message(client: TestClient) -> None:
    me = borrower(client, "nofees@example.com")
    app = _application(client, me)
    unknown = client.get(f"/api/applications/{app}/kfs", params={"product": "open"}, headers=me)
    assert unknown.status_code == 400
    assert "unknown product" in unknown.json()["message"]
    short = client.get(
        f"/api/applications/{app}/kfs", params={"product": "everyday", "term": 3}, headers=me
    )  # everyday is 6 to 24 months
    assert short.status_code == 400
    assert "term 3 is outside product 'everyday'" in short.json()["message"]
    assert client.get("/api/loans", headers=me).json() == []
