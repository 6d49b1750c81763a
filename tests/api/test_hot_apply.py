"""A borrower's application is answered by ``api.hot_apply`` when every layer it skips would have let the
request through, and then exactly as the full stack answers it (same status, bytes and headers), committed
before the answer; everything else goes to the full stack. Both databases."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import select

from support.answers import count, same_answer
from support.journey import apply_body, borrower, refused_token
from support.statements import statements
from xiaodai.accounts import token_cache
from xiaodai.accounts.service import token_digest
from xiaodai.api.body_limit import MAX_BODY_BYTES
from xiaodai.db.tables import ApplicationRow, AuditEventRow, DecisionRow
from xiaodai.journey import service as journey

PATH = "/api/applications"


def answered(client: TestClient) -> int:
    return int(getattr(client.app.state, "hot_apply_answers", 0))  # type: ignore[attr-defined]


def apply(client: TestClient, me: dict[str, str], key: str, *, via: str = "", **body: Any) -> Response:
    return client.post(f"{PATH}{via}", json=apply_body(**body), headers={**me, "Idempotency-Key": key})


@pytest.fixture
def me(client: TestClient, tokens_remembered_long: None) -> dict[str, str]:
    headers = borrower(client, "hot-apply@example.com")
    client.cookies.clear()
    assert client.get("/api/loans", headers=headers).status_code == 200  # the token is now remembered
    return headers


def test_an_application_is_answered_here_committed_first_and_a_retry_replays_it(
    client: TestClient, me: dict[str, str]
) -> None:
    before, decisions, events = answered(client), count(client, DecisionRow), count(client, AuditEventRow)
    first = apply(client, me, "a1")
    assert answered(client) == before + 1
    assert first.status_code == 201, first.text
    answer = first.json()
    assert answer["outcome"] == "approve"
    # committed before the answer: another connection sees the application, its decision and their audit
    with client.app.state.session_factory() as s:  # type: ignore[attr-defined]
        stored = s.execute(
            select(ApplicationRow).where(ApplicationRow.public_id == answer["application_id"])
        ).scalar_one()
        assert stored.outcome == "approve"
        assert json.loads(stored.payload_json)["channel"] == "api"
    assert count(client, DecisionRow) == decisions + 1
    assert count(client, AuditEventRow) > events
    # the same key again, here and through the full stack (a query string): the same application, the same
    # bytes; and the replay is the first answer, byte for byte
    again_hot = apply(client, me, "a1")
    again_full = apply(client, me, "a1", via="?via=full")
    assert answered(client) == before + 2
    same_answer(again_hot, again_full)
    same_answer(first, again_full)
    assert count(client, DecisionRow) == decisions + 1
    # a new application through the full stack is answered in the same shape
    other = apply(client, me, "a2", via="?via=full")
    assert other.status_code == 201
    assert sorted(other.json()) == sorted(answer)
    assert first.content == json.dumps(answer, ensure_ascii=False, separators=(",", ":")).encode()


def test_an_error_is_answered_as_the_full_stack_answers_it(
    client: TestClient, me: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    applications = count(client, ApplicationRow)
    for n, body in enumerate(
        (
            {"consent_credit_check": False},  # no consent: a JourneyError (400)
            {"applicant": {**apply_body()["applicant"], "worst_dpd_now": 0}},  # a looked-up value: refused
            {"applicant": {**apply_body()["applicant"], "age": "thirty"}},  # not a whole number
            {"request": {"amount": "1,00", "term": 12}},
        )
    ):
        before = answered(client)
        hot = apply(client, me, f"e{n}", **body)
        assert answered(client) == before + 1, body
        full = apply(client, me, f"e{n}", via="?via=full", **body)
        assert hot.status_code in (400, 422), hot.text
        same_answer(hot, full)
    assert count(client, ApplicationRow) == applications

    def broken(*_args: Any, **_kwargs: Any) -> Any:
        raise RuntimeError("a bug (test)")

    monkeypatch.setattr(journey, "submit_application", broken)
    before = answered(client)
    got = apply(client, me, "bug")
    assert answered(client) == before + 1
    assert got.status_code == 500
    assert got.json()["error"] == "internal_error"
    assert got.json()["reference"]
    assert "a bug" not in got.text
    monkeypatch.undo()
    metrics = client.get("/metrics").text
    assert 'route="/api/applications",status="500"' in metrics
    assert 'route="/api/applications",status="400"' in metrics


def test_requests_the_full_stack_must_see_are_passed_on(client: TestClient, me: dict[str, str]) -> None:
    applications = count(client, ApplicationRow)
    good = json.dumps(apply_body()).encode()
    json_type = {"Content-Type": "application/json"}
    nul = json.dumps(apply_body(request={"amount": "10000\u0000", "term": 12})).encode()
    cases: list[tuple[str, dict[str, str], bytes, int]] = [
        (PATH, {**me, **json_type, "Idempotency-Key": "c1", "Cookie": "theme=dark"}, good, 201),
        (f"{PATH}?x=1", {**me, **json_type, "Idempotency-Key": "c2"}, good, 201),
        (PATH, {**json_type, "Authorization": "Token abc", "Idempotency-Key": "c3"}, good, 401),
        (PATH, {**json_type, "Authorization": "Bearer not-a-token", "Idempotency-Key": "c4"}, good, 401),
        (PATH, {**me, **json_type}, good, 422),  # no Idempotency-Key
        (PATH, {**me, **json_type, "Idempotency-Key": "k" * 101}, good, 422),
        (PATH, {**me, **json_type, "Idempotency-Key": "c5"}, nul, 422),
        (PATH, {**me, **json_type, "Idempotency-Key": "c6"}, b'{"applicant": {}}', 422),  # no consent
        (PATH, {**me, **json_type, "Idempotency-Key": "c7"}, b"[1", 422),
        (PATH, {**me, "Content-Type": "text/plain", "Idempotency-Key": "c8"}, good, 422),
        (PATH, {**me, **json_type, "Idempotency-Key": "c9"}, b"x" * (MAX_BODY_BYTES + 1), 413),
    ]
    for target, headers, body, status in cases:
        before = answered(client)
        got = client.post(target, headers=headers, content=body)
        assert answered(client) == before, (target, headers, body[:40])
        assert got.status_code == status, (target, body[:40], got.text)
    assert count(client, ApplicationRow) == applications + 2  # the cookie's and the query's, in full
    # a token this process does not remember: looked up here, in the application's own transaction (as
    # deps.current_user looks it up); remembered again for the next one
    token_cache.TOKENS.clear()
    before = answered(client)
    assert apply(client, me, "t1").status_code == 201
    assert answered(client) == before + 1
    assert apply(client, me, "t2").status_code == 201
    assert answered(client) == before + 2
    # a token the look-up refuses: rolled back, the full stack answers (401), nothing applied
    applications = count(client, ApplicationRow)
    for token in ("not-a-token", me["Authorization"].split()[1] + "x"):
        token_cache.TOKENS.clear()
        before = answered(client)
        refused = apply(client, {"Authorization": f"Bearer {token}"}, "nobody")
        assert refused.status_code == 401, refused.text
        assert answered(client) == before
    assert count(client, ApplicationRow) == applications


def test_logout_ends_the_token_here_at_once(client: TestClient, me: dict[str, str]) -> None:
    assert apply(client, me, "before-logout").status_code == 201
    assert client.post("/api/auth/logout", headers=me).status_code == 200
    before = answered(client)
    refused = apply(client, me, "after-logout")
    assert refused.status_code == 401
    assert answered(client) == before  # refused by the full stack's own answer


def test_an_application_whose_token_is_not_remembered_looks_it_up_in_its_own_transaction(
    client: TestClient, me: dict[str, str]
) -> None:
    """As ``deps.current_user`` does in the request's session: the look-up (``accounts.looked_up_user``),
    then the application, one transaction, answered here as the full stack answers; remembered again."""
    token_cache.TOKENS.clear()
    before = answered(client)
    with statements(client) as seen:
        first = apply(client, me, "forgotten-1")
    seen = [s for s in seen if not s.startswith("BEGIN")]  # SQLite's BEGIN IMMEDIATE
    assert first.status_code == 201, first.text
    assert answered(client) == before + 1
    assert "FROM api_tokens" in seen[0]  # looked up first, then the application's own statements
    assert not [s for s in seen[1:] if "FROM api_tokens" in s]
    token = me["Authorization"].removeprefix("Bearer ")
    assert token_cache.TOKENS.get(token_digest(token)) is not None  # remembered again
    token_cache.TOKENS.clear()
    same_answer(first, apply(client, me, "forgotten-1", via="?via=full"))


@pytest.mark.parametrize("refusal", ["revoked", "locked", "expired", "unknown"])
def test_a_forgotten_token_refused_in_the_applications_transaction_is_answered_by_the_full_stack(
    client: TestClient, me: dict[str, str], refusal: str
) -> None:
    """The application's own look-up refuses what ``user_for_token`` refuses — revoked, account locked,
    expired, unknown — rolls back and passes the request on: the full stack looks again and answers 401
    with its own message; nothing is recorded."""
    headers = refused_token(client, me, refusal)
    applications, decisions = count(client, ApplicationRow), count(client, DecisionRow)
    token_cache.TOKENS.clear()
    before = answered(client)
    answer = apply(client, headers, f"refused-{refusal}")
    assert answer.status_code == 401, answer.text
    assert answered(client) == before  # passed on: the full stack answered
    token_cache.TOKENS.clear()
    assert answer.json() == apply(client, headers, "refused-full", via="?via=full").json()
    assert (count(client, ApplicationRow), count(client, DecisionRow)) == (applications, decisions)


def test_an_application_runs_in_one_of_the_application_threads(
    client: TestClient, me: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The work and its commit in one of the process's ``APPLICATION_THREADS`` (``in_application_thread``),
    not in Starlette's thread pool."""
    import threading

    from xiaodai.api import hot_apply

    threads: list[str] = []
    submit = journey.submit_application

    def recorded(*args: Any, **kwargs: Any) -> Any:
        threads.append(threading.current_thread().name)
        return submit(*args, **kwargs)

    monkeypatch.setattr(hot_apply.journey, "submit_application", recorded)
    before = answered(client)
    assert apply(client, me, "in-thread").status_code == 201
    assert answered(client) == before + 1
    assert len(threads) == 1
    assert threads[0].startswith("xiaodai-application")
