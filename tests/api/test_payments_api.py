"""Payments API on both databases: a borrower binds, lists, switches and unbinds cards (their own only);
operations run the debit batch, reconcile a settlement file (replay posts nothing) and see the breaks; the
channel's callback is believed only when signed."""

from __future__ import annotations

from dataclasses import replace

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from support.journey import borrower, overdue_loan, staff
from support.payment_books import card_number
from xiaodai.db.tables import InstallmentRow, LoanRow
from xiaodai.ledger import service as ledger
from xiaodai.payments.channel import Callback, DebitStatus, signature
from xiaodai.payments.sandbox_channel import SandboxChannel, Scenario
from xiaodai.payments.settlement_file import SettlementLine, render


def bind(client: TestClient, who: dict[str, str], last4: str) -> dict[str, object]:
    started = client.post("/api/cards", json={"number": card_number(last4)}, headers=who)
    assert started.status_code == 201, started.text
    body = started.json()
    assert body["status"] == "pending"
    confirmed = client.post(
        f"/api/cards/{body['card_id']}/confirm", json={"code": body["sandbox_code"]}, headers=who
    )
    assert confirmed.status_code == 200, confirmed.text
    result: dict[str, object] = confirmed.json()
    return result


def test_a_borrower_binds_lists_switches_and_unbinds_their_own_cards(client: TestClient) -> None:
    me, other = borrower(client, "card.owner@example.com"), borrower(client, "card.other@example.com")
    refused = client.post("/api/cards", json={"number": "6222020000000001"}, headers=me)
    assert refused.status_code == 400
    assert refused.json()["reasons"] == ["CARD_LUHN"]
    started = client.post("/api/cards", json={"number": card_number("1111")}, headers=me).json()
    wrong = client.post(f"/api/cards/{started['card_id']}/confirm", json={"code": "000000"}, headers=me)
    if started["sandbox_code"] != "000000":
        assert wrong.status_code == 400
        assert wrong.json()["reasons"] == ["CARD_CODE_WRONG"]
    ok = client.post(
        f"/api/cards/{started['card_id']}/confirm", json={"code": started["sandbox_code"]}, headers=me
    )
    assert ok.json()["default"] is True
    second = bind(client, me, "2222")
    assert second["default"] is False
    cards = client.get("/api/cards", headers=me).json()
    assert [c["masked"] for c in cards] == ["622202******1111", "622202******2222"]
    assert all("number" not in c and "number_enc" not in c for c in cards)
    assert client.get("/api/cards", headers=other).json() == []
    assert client.post(f"/api/cards/{second['card_id']}/default", headers=other).status_code == 404
    assert client.delete(f"/api/cards/{second['card_id']}", headers=other).status_code == 404
    switched = client.post(f"/api/cards/{second['card_id']}/default", headers=me).json()
    assert switched["default"] is True
    assert [c["default"] for c in client.get("/api/cards", headers=me).json()] == [False, True]
    gone = client.delete(f"/api/cards/{started['card_id']}", headers=me)
    assert gone.json()["status"] == "unbound"
    assert len(client.get("/api/cards", headers=me).json()) == 1
    _, admin = staff(client, "ops.cards@example.com", "admin")
    assert client.get("/api/cards", headers=admin).status_code == 403
    assert client.get("/api/cards").status_code == 401


def test_operations_run_debits_reconcile_and_see_breaks_and_callbacks_are_verified(
    client: TestClient,
) -> None:
    _, admin = staff(client, "ops.debits@example.com", "admin")
    collector_id, _ = staff(client, "ops.collector@example.com", "collector")
    _, auditor = staff(client, "ops.audit@example.com", "auditor")
    loan_id = overdue_loan(client, collector_id)  # a signed loan, made the card holder's below
    factory = client.app.state.session_factory  # type: ignore[attr-defined]
    me = borrower(client, "debited@example.com")
    channel: SandboxChannel = client.app.state.channel  # type: ignore[attr-defined]
    channel.scripted["4444"] = Scenario.TIMEOUT_SUCCESS
    card = bind(client, me, "4444")
    with factory() as s, s.begin():  # the loan becomes the card holder's
        s.execute(
            update(LoanRow).where(LoanRow.id == loan_id).values(borrower_id=int(str(card["borrower_id"])))
        )
        day = (
            s.execute(
                select(InstallmentRow.due_on)
                .where(InstallmentRow.loan_id == loan_id, InstallmentRow.active)
                .order_by(InstallmentRow.period)
            )
            .scalars()
            .first()
        )
    assert day is not None
    settings = client.app.state.settings  # type: ignore[attr-defined]
    client.app.state.settings = replace(settings, business_date=day)  # type: ignore[attr-defined]
    assert client.post("/api/staff/debits/run", json={}, headers=auditor).status_code == 403
    assert client.post("/api/staff/debits/run", json={"date": "2099-01-01"}, headers=admin).status_code == 400
    run = client.post("/api/staff/debits/run", json={}, headers=admin).json()
    assert run["counts"]["claimed"] == 1
    assert run["counts"]["pending"] == 1  # the channel timed out: the outcome comes later
    assert client.post("/api/staff/debits/run", json={}, headers=admin).json()["counts"]["claimed"] == 0
    assert client.delete(f"/api/cards/{card['card_id']}", headers=me).status_code == 409
    (late,) = channel.late_callbacks()
    body = late.body()
    forged = client.post(
        "/api/payments/callback", content=body, headers={"X-Channel-Signature": signature(b"x", body)}
    )
    assert forged.status_code == 401
    good = {"X-Channel-Signature": signature(channel.secret, body)}
    assert client.post("/api/payments/callback", content=body, headers=good).json()["outcome"] == "applied"
    assert client.post("/api/payments/callback", content=body, headers=good).json()["replayed"] is True
    stranger = Callback("evt:stranger", "debit:999999:0", DebitStatus.SUCCEEDED, 700).body()
    client.post(
        "/api/payments/callback",
        content=stranger,
        headers={"X-Channel-Signature": signature(channel.secret, stranger)},
    )
    lines = [
        *channel.settlement_lines(day),
        SettlementLine("debit:888888:0", day, DebitStatus.SUCCEEDED, 1234),
    ]
    csv = render(lines).encode()
    url = f"/api/staff/reconciliations?date={day.isoformat()}"
    report = client.post(url, content=csv, headers={**admin, "Content-Type": "text/csv"}).json()
    assert [b["kind"] for b in report["breaks"]] == ["missing_ours"]
    assert report["suspense_posted_fen"] == 1234
    again = client.post(url, content=csv, headers={**admin, "Content-Type": "text/csv"}).json()
    assert again["suspense_posted_fen"] == 0
    bad = client.post(url, content=b"channel_ref,nope\n", headers={**admin, "Content-Type": "text/csv"})
    assert bad.status_code == 400
    assert "line 1" in bad.json()["message"]
    open_ = client.get("/api/staff/payments/breaks", headers=auditor).json()
    assert open_["suspense_total_fen"] == 1234
    assert [b["channel_ref"] for b in open_["suspense"]] == ["debit:888888:0"]
    assert [c["outcome"] for c in open_["callbacks_unmatched"]] == ["unknown_ref"]
    assert client.get("/api/staff/payments/breaks", headers=me).status_code == 403
    with factory() as s:
        assert ledger.check(s) == []


def test_a_debit_run_or_reconciliation_with_a_token_not_remembered_runs_cleanly(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The request's user is read on its own session when the token is not remembered (another worker
    process, or its TTL passed): on SQLite that transaction holds the write lock (BEGIN IMMEDIATE) and the
    batch, in its own sessions, waited for it until "database is locked" (500). Now the request's read
    transaction ends first; another writer holding the lock too long is a 409, nothing posted."""
    from sqlalchemy.exc import OperationalError

    from xiaodai.accounts import service as accounts
    from xiaodai.api.routers import payments as router

    _, admin = staff(client, "ops.lock@example.com", "admin")
    accounts.TOKENS.clear()  # the token is looked up in the database, on the request's session
    run = client.post("/api/staff/debits/run", json={}, headers=admin)
    assert run.status_code == 200, run.text
    assert run.json()["counts"]["claimed"] == 0
    accounts.TOKENS.clear()
    empty = b"channel_ref,settled_on,status,amount,kind\n"
    url = "/api/staff/reconciliations?date=2026-01-10"
    report = client.post(url, content=empty, headers={**admin, "Content-Type": "text/csv"})
    assert report.status_code == 200, report.text

    def locked(*_: object, **__: object) -> None:
        raise OperationalError("BEGIN IMMEDIATE", {}, Exception("database is locked"))

    monkeypatch.setattr(router.batch, "run_debit_batch", locked)
    busy = client.post("/api/staff/debits/run", json={}, headers=admin)
    assert busy.status_code == 409
    assert busy.json()["reasons"] == ["PAYMENTS_BUSY"]
