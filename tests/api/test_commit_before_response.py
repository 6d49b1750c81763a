"""The JSON API commits (and writes the audit chain) BEFORE it answers: a commit that fails is never a 2xx,
and whatever a 2xx names is already committed when the first byte of the answer leaves. Both databases."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from support.failing_commit import Armed
from support.journey import apply_body, borrower, staff
from xiaodai.audit import trail
from xiaodai.db.tables import AuditEventRow, JournalEntryRow

ID_NUMBER = "11010519491231002X"


def _factory(client: TestClient) -> Any:
    return client.app.state.session_factory  # type: ignore[attr-defined]


def _loan(client: TestClient, me: dict[str, str]) -> tuple[int, str]:
    app = client.post("/api/applications", json=apply_body(), headers={**me, "Idempotency-Key": "a"}).json()
    kfs = client.get(f"/api/applications/{app['application_id']}/kfs", headers=me).json()
    signed = client.post(
        f"/api/applications/{app['application_id']}/sign", json={"kfs_sha256": kfs["sha256"]}, headers=me
    )
    assert signed.status_code == 201, signed.text
    loan_id = int(signed.json()["loan_id"])
    payment = client.get(f"/api/loans/{loan_id}", headers=me).json()["schedule"][0]["payment"]
    return loan_id, str(payment)


def _entries(client: TestClient) -> int:
    with _factory(client)() as s:
        return int(s.execute(select(func.count()).select_from(JournalEntryRow)).scalar_one())


def test_a_failed_commit_is_never_a_2xx_and_posts_nothing(client: TestClient, failing_commit: Armed) -> None:
    me = borrower(client, "c1@example.com")
    loan_id, payment = _loan(client, me)
    before = _entries(client)
    failing_commit[0] = True
    answer = client.post(
        f"/api/loans/{loan_id}/repayments", json={"amount": payment}, headers={**me, "Idempotency-Key": "p1"}
    )
    failing_commit[0] = False
    assert answer.status_code == 500, answer.text
    assert "entry_id" not in answer.text
    assert _entries(client) == before
    retried = client.post(
        f"/api/loans/{loan_id}/repayments", json={"amount": payment}, headers={**me, "Idempotency-Key": "p1"}
    )
    assert retried.status_code == 201
    assert retried.json()["replayed"] is False  # the failed attempt left nothing behind to replay
    assert _entries(client) == before + 1


class _CommittedAtFirstByte:
    """ASGI wrapper: when the answer starts, read from ANOTHER connection what the database holds."""

    def __init__(self, app: ASGIApp, probe: Any) -> None:
        self.app, self.probe = app, probe
        self.seen: list[Any] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def watch(message: Message) -> None:
            if message["type"] == "http.response.start" and scope["method"] == "POST":
                self.seen.append(self.probe())
            await send(message)

        await self.app(scope, receive, watch)


def test_what_a_2xx_names_is_committed_when_the_answer_starts(client: TestClient) -> None:
    me = borrower(client, "c2@example.com")
    loan_id, payment = _loan(client, me)
    before = _entries(client)
    wrapped = _CommittedAtFirstByte(client.app, lambda: _entries(client))
    with TestClient(wrapped) as raw:
        answer = raw.post(
            f"/api/loans/{loan_id}/repayments",
            json={"amount": payment},
            headers={**me, "Idempotency-Key": "p2"},
        )
        assert answer.status_code == 201, answer.text
        assert wrapped.seen == [before + 1]  # visible to another connection before the client heard 201
        detail = raw.get(f"/api/loans/{loan_id}", headers=me).json()  # a read right after the write sees it
    assert detail["paid_total"] == payment


def test_no_clear_value_leaves_when_its_audit_row_cannot_be_written(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    me = borrower(client, "c3@example.com")
    profile = {"id_number": ID_NUMBER, "sensitive_data_consent": True}
    assert client.put("/api/me/profile", json=profile, headers=me).status_code == 200
    subject = int(client.get("/api/auth/me", headers=me).json()["id"])
    _, underwriter = staff(client, "uw3@example.com", "underwriter")
    body = {"fields": ["id_number"], "justification": "identity check for application review"}

    def chain_down(*_args: object) -> None:
        raise RuntimeError("audit chain unavailable (test)")

    monkeypatch.setattr(trail, "_chain", chain_down)
    refused = client.post(f"/api/staff/people/{subject}/unmask", json=body, headers=underwriter)
    assert refused.status_code == 500
    assert ID_NUMBER not in refused.text
    monkeypatch.undo()
    with _factory(client)() as s:
        assert s.execute(select(AuditEventRow).where(AuditEventRow.action == "pii-view")).first() is None
    shown = client.post(f"/api/staff/people/{subject}/unmask", json=body, headers=underwriter)
    assert shown.status_code == 200
    assert shown.json()["id_number"] == ID_NUMBER


def test_a_concurrent_change_found_at_commit_is_a_409_and_posts_nothing(client: TestClient) -> None:
    from sqlalchemy.orm.exc import StaleDataError

    me = borrower(client, "c4@example.com")
    loan_id, payment = _loan(client, me)
    before = _entries(client)

    def moved(_session: Session) -> None:  # as the version check reports a loan changed since it was read
        raise StaleDataError("UPDATE statement on table 'loans' expected to update 1 row(s); 0 were matched.")

    # On PostgreSQL the hot path's payment runs on the driver (api.loop_repay) with the loan's row locked from
    # its first statement: no version check is left for its commit. The session's path (a query string
    # sends the request to the full stack) is the one with a version check to fail.
    postgres = client.app.state.payment_connections is not None  # type: ignore[attr-defined]
    event.listen(Session, "before_commit", moved)
    try:
        answer = client.post(
            f"/api/loans/{loan_id}/repayments{'?via=full' if postgres else ''}",
            json={"amount": payment},
            headers={**me, "Idempotency-Key": "p4"},
        )
    finally:
        event.remove(Session, "before_commit", moved)
    assert answer.status_code == 409, answer.text
    assert answer.json()["error"] == "ConcurrentChange"
    assert _entries(client) == before
