"""My loans, a loan's detail and a repayment are answered by ``api.hot_path`` when every layer it skips would
have let the request through, and then exactly as the full stack answers them (same status, bytes and
headers); everything else goes to the full stack. Both databases (on PostgreSQL the reads come from the
event loop: ``api.async_reads``)."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import select, text

from support.answers import count, same_answer
from support.journey import borrower, refused_token, signed_loan
from support.statements import statements
from xiaodai.accounts import token_cache
from xiaodai.accounts.service import token_digest
from xiaodai.api import hot_path
from xiaodai.db.tables import CommandRow, JournalEntryRow
from xiaodai.journey import loan_reads


def answered(client: TestClient) -> int:
    return int(client.app.state.hot_path_answers)  # type: ignore[attr-defined]


def pay(client: TestClient, path: str, me: dict[str, str], key: str, amount: str = "1.00") -> Response:
    return client.post(path, json={"amount": amount}, headers={**me, "Idempotency-Key": key})


@pytest.fixture
def me_and_loan(client: TestClient, tokens_remembered_long: None) -> tuple[dict[str, str], int]:
    me = borrower(client, "hot@example.com")
    loan_id = signed_loan(client, me)
    client.cookies.clear()
    assert client.get("/api/loans", headers=me).status_code == 200  # the token is now remembered
    return me, loan_id


def test_the_reads_are_answered_here_exactly_as_the_full_stack_answers_them(
    client: TestClient, me_and_loan: tuple[dict[str, str], int]
) -> None:
    me, loan_id = me_and_loan
    for path in ("/api/loans", f"/api/loans/{loan_id}"):
        before = answered(client)
        hot = client.get(path, headers=me)
        assert answered(client) == before + 1, path
        full = client.get(f"{path}?via=full", headers=me)  # a query string: the full stack
        assert answered(client) == before + 1, path
        assert hot.status_code == 200
        same_answer(hot, full)


def test_a_repayment_is_answered_here_committed_first_and_a_retry_replays_it(
    client: TestClient, me_and_loan: tuple[dict[str, str], int]
) -> None:
    me, loan_id = me_and_loan
    path = f"/api/loans/{loan_id}/repayments"
    paid_before = client.get(f"/api/loans/{loan_id}", headers=me).json()["paid_total"]
    before = answered(client)
    first = pay(client, path, me, "hot-1")
    assert answered(client) == before + 1
    assert first.status_code == 201, first.text
    assert first.json()["replayed"] is False
    # a read right after the answer sees the payment (committed before the answer; nothing cached)
    paid_after = client.get(f"/api/loans/{loan_id}", headers=me).json()["paid_total"]
    assert float(paid_after) == pytest.approx(float(paid_before) + 1.0)
    again_hot = pay(client, path, me, "hot-1")
    again_full = client.post(
        f"{path}?via=full", json={"amount": "1.00"}, headers={**me, "Idempotency-Key": "hot-1"}
    )
    assert answered(client) == before + 3  # the read and the hot retry; not the full one
    same_answer(again_hot, again_full)
    assert again_hot.json() == {**first.json(), "replayed": True}
    # the replay is the first answer byte for byte (its keys in the same order), ``replayed`` apart
    assert again_hot.content == first.content.replace(b'"replayed":false', b'"replayed":true')
    assert again_full.content == again_hot.content
    # the first answer is encoded as FastAPI encodes the route's answer (its stored result, byte for byte)
    assert first.content == json.dumps(first.json(), ensure_ascii=False, separators=(",", ":")).encode()
    with client.app.state.session_factory() as s:  # type: ignore[attr-defined]
        stored = s.execute(
            select(CommandRow.result_json).where(CommandRow.idempotency_key.like("%:hot-1"))
        ).scalar_one()
    assert json.loads(stored) == {k: v for k, v in first.json().items() if k != "replayed"}


def test_a_repayment_whose_token_is_not_remembered_looks_it_up_in_its_own_transaction(
    client: TestClient, me_and_loan: tuple[dict[str, str], int]
) -> None:
    """As ``deps.current_user`` does in the request's session: the look-up, then the payment, one transaction;
    a token the look-up refuses goes to the full stack (401), nothing claimed."""
    me, loan_id = me_and_loan
    path = f"/api/loans/{loan_id}/repayments"
    token_cache.TOKENS.clear()
    before = answered(client)
    with statements(client) as seen:
        first = pay(client, path, me, "forgotten-1")
    seen = [s for s in seen if not s.startswith("BEGIN")]  # SQLite's BEGIN IMMEDIATE
    assert first.status_code == 201, first.text
    assert answered(client) == before + 1
    assert "FROM api_tokens" in seen[0]  # looked up first, then the payment's own statements
    assert not [s for s in seen[1:] if "FROM api_tokens" in s]
    again_full = client.post(
        f"{path}?via=full", json={"amount": "1.00"}, headers={**me, "Idempotency-Key": "forgotten-1"}
    )
    assert again_full.json() == {**first.json(), "replayed": True}
    with statements(client) as seen:  # remembered again by the look-up
        assert pay(client, path, me, "forgotten-2").status_code == 201
    assert not [s for s in seen if "FROM api_tokens" in s]
    claims, entries = count(client, CommandRow), count(client, JournalEntryRow)
    for token in ("not-a-token", me["Authorization"].split()[1] + "x"):
        token_cache.TOKENS.clear()
        before = answered(client)
        refused = pay(client, path, {"Authorization": f"Bearer {token}"}, "nobody")
        assert refused.status_code == 401, refused.text
        assert answered(client) == before  # the full stack's answer
    assert (count(client, CommandRow), count(client, JournalEntryRow)) == (claims, entries)


def test_an_error_is_answered_as_the_full_stack_answers_it(
    client: TestClient, me_and_loan: tuple[dict[str, str], int]
) -> None:
    me, loan_id = me_and_loan
    other = borrower(client, "hot-other@example.com")
    client.get("/api/loans", headers=other)
    claims = count(client, CommandRow)
    for method, path, body in (
        ("GET", f"/api/loans/{loan_id}", None),  # another borrower's loan: not found, as a missing one
        ("GET", "/api/loans/999999", None),
        ("POST", f"/api/loans/{loan_id}/repayments", {"amount": "1.00"}),
        ("POST", f"/api/loans/{loan_id}/repayments", {"amount": "1,00"}),  # a bad amount: 422
        ("POST", f"/api/loans/{loan_id}/repayments", {"amount": "999999.00"}),  # over the payoff
    ):
        who = other if body is None or body["amount"] == "1.00" else me
        headers = {**who, "Idempotency-Key": f"e-{len(path)}-{body}"}
        before = answered(client)
        hot = client.request(method, path, json=body, headers=headers)
        assert answered(client) == before + 1, (method, path, body)
        full = client.request(method, f"{path}?via=full", json=body, headers=headers)
        assert hot.status_code in (400, 404, 422), hot.text
        same_answer(hot, full)
    assert count(client, CommandRow) == claims  # nothing claimed for another's loan or a refused amount


def test_requests_the_full_stack_must_see_are_passed_on(
    client: TestClient, me_and_loan: tuple[dict[str, str], int]
) -> None:
    me, loan_id = me_and_loan
    path = f"/api/loans/{loan_id}/repayments"
    entries = count(client, JournalEntryRow)
    json_type = {"Content-Type": "application/json"}
    cases: list[tuple[str, str, dict[str, str], bytes | None, int]] = [
        ("GET", "/api/loans", {**me, "Cookie": "theme=dark"}, None, 200),  # a cookie: the session layers
        ("GET", "/api/loans?x=1", me, None, 200),
        ("GET", "/api/loans/0", me, None, 422),
        ("GET", f"/api/loans/{2**63}", me, None, 422),
        ("GET", "/api/loans", {"Authorization": "Token abc"}, None, 401),
        ("GET", "/api/loans", {"Authorization": "Bearer not-a-token"}, None, 401),
        (
            "POST",
            path,
            {**me, **json_type, "Idempotency-Key": "p1"},
            b'{"amount":"1.00","on":"2026-01-10"}',
            422,
        ),
        ("POST", path, {**me, **json_type, "Idempotency-Key": "p2"}, b'{"amount":"1.00\\u0000"}', 422),
        ("POST", path, {**me, **json_type, "Idempotency-Key": "p3"}, b'{"amount":1}', 422),
        ("POST", path, {**me, **json_type, "Idempotency-Key": "p4"}, b"[1", 422),
        ("POST", path, {**me, **json_type}, b'{"amount":"1.00"}', 422),  # no Idempotency-Key
        ("POST", path, {**me, **json_type, "Idempotency-Key": "k" * 101}, b'{"amount":"1.00"}', 422),
        (
            "POST",
            path,
            {**me, "Content-Type": "text/plain", "Idempotency-Key": "p5"},
            b'{"amount":"1.00"}',
            422,
        ),
    ]
    for method, target, headers, body, status in cases:
        before = answered(client)
        got = client.request(method, target, headers=headers, content=body)
        assert answered(client) == before, (method, target, headers, body)
        assert got.status_code == status, (target, body, got.text)
    assert count(client, JournalEntryRow) == entries  # none of the refused payments posted anything
    # a token this process does not remember: looked up here (as deps.current_user does), then the read;
    # the next request finds it remembered
    for target in ("/api/loans", f"/api/loans/{loan_id}"):
        token_cache.TOKENS.clear()
        before = answered(client)
        with statements(client) as seen:
            assert client.get(target, headers=me).status_code == 200
        assert answered(client) == before + 1
        assert len([s for s in seen if "FROM api_tokens" in s]) == 1
        with statements(client) as seen:
            assert client.get(target, headers=me).status_code == 200
        assert answered(client) == before + 2
        assert not [s for s in seen if "FROM api_tokens" in s]
    # a token the look-up refuses: the full stack's answer (401), as for any request it must see
    for token in ("not-a-token", me["Authorization"].split()[1] + "x"):
        token_cache.TOKENS.clear()
        before = answered(client)
        for target in ("/api/loans", f"/api/loans/{loan_id}"):
            assert client.get(target, headers={"Authorization": f"Bearer {token}"}).status_code == 401
        assert answered(client) == before


def test_logout_ends_the_token_on_the_hot_routes_at_once(
    client: TestClient, me_and_loan: tuple[dict[str, str], int]
) -> None:
    me, loan_id = me_and_loan
    assert pay(client, f"/api/loans/{loan_id}/repayments", me, "before-logout").status_code == 201
    assert client.post("/api/auth/logout", headers=me).status_code == 200
    assert client.get("/api/loans", headers=me).status_code == 401
    assert client.get(f"/api/loans/{loan_id}", headers=me).status_code == 401
    assert pay(client, f"/api/loans/{loan_id}/repayments", me, "after-logout").status_code == 401


def test_an_unhandled_error_is_a_500_with_a_reference_and_the_metric_names_the_route(
    client: TestClient, me_and_loan: tuple[dict[str, str], int], monkeypatch: pytest.MonkeyPatch
) -> None:
    me, loan_id = me_and_loan

    def broken(_rows: Any) -> Any:
        raise RuntimeError("a bug (test)")

    monkeypatch.setattr(loan_reads, "my_loans_answer", broken)
    before = answered(client)
    got = client.get("/api/loans", headers=me)
    assert answered(client) == before + 1
    assert got.status_code == 500
    assert got.json()["error"] == "internal_error"
    assert got.json()["reference"]
    assert "a bug" not in got.text
    monkeypatch.undo()
    client.get(f"/api/loans/{loan_id}", headers=me)
    metrics = client.get("/metrics").text
    assert 'route="/api/loans/{loan_id}",status="200"' in metrics
    assert 'route="/api/loans",status="500"' in metrics


def test_the_event_loop_reads_recover_from_lost_connections(
    client: TestClient, me_and_loan: tuple[dict[str, str], int]
) -> None:
    me, loan_id = me_and_loan
    if client.app.state.async_reads is None:  # type: ignore[attr-defined]
        pytest.skip("PostgreSQL only: SQLite reads run in the request's worker thread")
    for _ in range(3):
        assert client.get(f"/api/loans/{loan_id}", headers=me).status_code == 200
    engine = client.app.state.engine  # type: ignore[attr-defined]
    with engine.connect() as conn:  # as a server restart would: every other connection is cut
        conn.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        )
    statuses = [client.get(f"/api/loans/{loan_id}", headers=me).status_code for _ in range(4)]
    assert statuses[-2:] == [200, 200], statuses  # at most the first reads see the cut; then new connections
    assert set(statuses) <= {200, 500}


def test_a_read_whose_token_is_not_remembered_looks_it_up_on_the_event_loop(
    client: TestClient, me_and_loan: tuple[dict[str, str], int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """On PostgreSQL the reads run on the event loop; a token this process no longer remembers is looked up
    there too (``user_for_token``'s query on the reads' own connection, its rule in
    ``accounts.user_id_for_token_values``: no thread, no ORM session), remembered again, and the read is
    answered here, equal to the full stack's answer."""
    me, loan_id = me_and_loan
    if client.app.state.async_reads is None:  # type: ignore[attr-defined]
        pytest.skip("PostgreSQL only: SQLite reads and their look-up share the request's worker thread")
    threads: list[str] = []
    look_up = hot_path.token_user

    def recorded(*args: Any) -> Any:
        threads.append(threading.current_thread().name)
        return look_up(*args)

    monkeypatch.setattr(hot_path, "token_user", recorded)
    for path in ("/api/loans", f"/api/loans/{loan_id}"):
        token_cache.TOKENS.clear()
        before = answered(client)
        hot = client.get(path, headers=me)
        assert answered(client) == before + 1, path
        token = me["Authorization"].removeprefix("Bearer ")
        assert token_cache.TOKENS.get(token_digest(token)) is not None  # remembered again
        same_answer(hot, client.get(f"{path}?via=full", headers=me))
    assert threads == []  # no worker thread: the look-up ran on the event loop


@pytest.mark.parametrize("refusal", ["revoked", "locked", "expired", "unknown"])
def test_a_forgotten_token_refused_on_the_event_loop_is_answered_by_the_full_stack(
    client: TestClient, me_and_loan: tuple[dict[str, str], int], refusal: str
) -> None:
    """The event-loop look-up refuses what ``user_for_token`` refuses — revoked, account locked, expired,
    unknown — and passes the read on: the full stack looks again and answers 401 with its own message."""
    from datetime import UTC, datetime

    from sqlalchemy import update

    from xiaodai.db.tables import ApiTokenRow, UserRow

    me, loan_id = me_and_loan
    if client.app.state.async_reads is None:  # type: ignore[attr-defined]
        pytest.skip("PostgreSQL only: SQLite reads look the token up in the request's worker thread")
    past, future = datetime(2000, 1, 1, tzinfo=UTC), datetime(2099, 1, 1, tzinfo=UTC)
    change = {
        "revoked": update(ApiTokenRow).values(revoked=True),
        "locked": update(UserRow).values(locked_until=future),
        "expired": update(ApiTokenRow).values(expires_at=past),
    }
    headers = {"Authorization": "Bearer not-a-token-of-anyone"} if refusal == "unknown" else me
    if refusal in change:
        with client.app.state.session_factory() as s, s.begin():  # type: ignore[attr-defined]
            s.execute(change[refusal])
    for path in ("/api/loans", f"/api/loans/{loan_id}"):
        token_cache.TOKENS.clear()
        before = answered(client)
        answer = client.get(path, headers=headers)
        assert answer.status_code == 401, (path, answer.text)
        assert answered(client) == before, path  # passed on: the full stack answered
        token_cache.TOKENS.clear()
        assert answer.json() == client.get(f"{path}?via=full", headers=headers).json()


@pytest.mark.parametrize("refusal", ["revoked", "locked", "expired", "unknown"])
def test_a_forgotten_token_refused_in_the_payments_transaction_is_answered_by_the_full_stack(
    client: TestClient, me_and_loan: tuple[dict[str, str], int], refusal: str
) -> None:
    """The repayment's own look-up (``accounts.looked_up_user``, in the payment's transaction) refuses what
    ``user_for_token`` refuses — revoked, account locked, expired, unknown — rolls back and passes the
    request on: the full stack looks again and answers 401 with its own message; nothing is claimed."""
    me, loan_id = me_and_loan
    headers = refused_token(client, me, refusal)
    path = f"/api/loans/{loan_id}/repayments"
    claims, entries = count(client, CommandRow), count(client, JournalEntryRow)
    token_cache.TOKENS.clear()
    before = answered(client)
    answer = pay(client, path, headers, f"refused-{refusal}")
    assert answer.status_code == 401, answer.text
    assert answered(client) == before  # passed on: the full stack answered
    token_cache.TOKENS.clear()
    full = client.post(
        f"{path}?via=full", json={"amount": "1.00"}, headers={**headers, "Idempotency-Key": "refused-full"}
    )
    assert answer.json() == full.json()
    assert (count(client, CommandRow), count(client, JournalEntryRow)) == (claims, entries)
