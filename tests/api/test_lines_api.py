"""Credit-line endpoints end to end (both databases): staff grant, my line, quote then sign a drawdown,
repay any amount, freeze with a notice; another borrower reaches nothing; bad input is a 4xx that writes
nothing."""

from __future__ import annotations

from fastapi.testclient import TestClient

from support.journey import apply_body, borrower, staff


def test_line_journey_over_the_api(client: TestClient) -> None:
    me = borrower(client, "line@example.com")
    app = client.post("/api/applications", json=apply_body(), headers={**me, "Idempotency-Key": "a"}).json()
    assert app["outcome"] == "approve"
    user_id = client.get("/api/auth/me", headers=me).json()["id"]
    assert client.get("/api/line", headers=me).status_code == 404
    _, underwriter = staff(client, "uw@example.com", "underwriter")
    # a borrower cannot grant themselves a line
    body = {"borrower_id": user_id, "application_id": app["application_id"]}
    assert client.post("/api/staff/lines", json=body, headers=me).status_code == 403
    granted = client.post("/api/staff/lines", json=body, headers=underwriter)
    assert granted.status_code == 201, granted.text
    line = client.get("/api/line", headers=me).json()
    assert line["available"] == line["limit"]
    assert line["rate"]["apr_percent"]
    choice = {"amount": "3000", "plan": "instalment", "term": 6}
    quote = client.post("/api/line/quote", json=choice, headers=me)
    assert quote.status_code == 200, quote.text
    kfs = quote.json()
    assert kfs["kfs"]["headline"]["apr_percent"]
    for bad in (
        {"amount": "abc", "term": 6},
        {"amount": "3000", "term": 99},
        {"amount": "99999999", "term": 6},
        {"amount": "3000", "plan": "weekly", "term": 6},
    ):
        refused = client.post("/api/line/quote", json=bad, headers=me)
        assert 400 <= refused.status_code < 500, (bad, refused.text)
        assert refused.json()["message"]
    stale = client.post(
        "/api/line/drawdowns", json={**choice, "kfs_sha256": "0" * 64}, headers={**me, "Idempotency-Key": "s"}
    )
    assert stale.status_code == 400
    drawn = client.post(
        "/api/line/drawdowns",
        json={**choice, "kfs_sha256": kfs["sha256"]},
        headers={**me, "Idempotency-Key": "d"},
    )
    assert drawn.status_code == 201, drawn.text
    loan_id = drawn.json()["loan_id"]
    line = client.get("/api/line", headers=me).json()
    assert line["outstanding_principal"] == "3000.00"
    assert float(line["available"]) == float(line["limit"]) - 3000
    assert line["drawdowns"][0]["loan_id"] == loan_id
    assert line["next_due"]
    # the drawdown is one of my loans, with its schedule and signed disclosure
    detail = client.get(f"/api/loans/{loan_id}", headers=me).json()
    assert len(detail["schedule"]) == 6
    assert detail["disclosure"]["sha256"] == kfs["sha256"]
    # paid out through the payment channel (no card bound: the account given), posted once it settled
    assert drawn.json()["disbursement"]["status"] == "succeeded"
    assert detail["disbursement"]["status"] == "succeeded"
    assert detail["disbursement"]["destination"] == f"account:{user_id}"
    assert detail["redated"] is None  # paid out the day it was signed: the loan starts as signed
    assert line["drawdowns"][0]["disbursement"]["amount"] == "3000.00"
    assert line["pending_disbursement"] == "0.00"
    paid = client.post(
        f"/api/line/drawdowns/{loan_id}/repayments",
        json={"amount": "1000"},
        headers={**me, "Idempotency-Key": "r"},
    )
    assert paid.status_code == 201, paid.text
    line = client.get("/api/line", headers=me).json()
    assert float(line["outstanding_principal"]) < 3000
    # another borrower sees no line and cannot repay this drawdown
    other = borrower(client, "other@example.com")
    assert client.get("/api/line", headers=other).status_code == 404
    foreign = client.post(
        f"/api/line/drawdowns/{loan_id}/repayments",
        json={"amount": "10"},
        headers={**other, "Idempotency-Key": "x"},
    )
    assert foreign.status_code == 404
    frozen = client.post(
        f"/api/staff/lines/{line['line_id']}/freeze",
        json={"reason": "LINE_FREEZE_REVIEW"},
        headers=underwriter,
    )
    assert frozen.status_code == 200, frozen.text
    refused = client.post("/api/line/quote", json=choice, headers=me)
    assert refused.status_code == 422
    assert "frozen" in refused.json()["message"]
    line = client.get("/api/line", headers=me).json()
    assert line["notices"][0]["reason"] == "LINE_FREEZE_REVIEW"
    staff_view = client.get(f"/api/staff/borrowers/{user_id}/line", headers=underwriter).json()
    assert [e["kind"] for e in staff_view["events"]] == ["grant", "freeze"]
