"""``api.loop_repay``: on PostgreSQL a borrower's repayment runs straight on the driver, on the event loop —
BEGIN with the first statement, the second with COMMIT (two round trips), the same answers and rows as the
session's path; what it does not do (exactly the payoff) it hands back with nothing written; every refusal
ends its transaction and returns its connection clean; many payments at once on one loan post each key
once and keep the books whole."""

from __future__ import annotations

import asyncio
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text

from support.answers import count, same_answer
from support.journey import bearer_loan, borrower, pay, signed_loan
from support.statements import statements
from xiaodai.accounts.token_cache import TOKENS
from xiaodai.api import loop_repay
from xiaodai.api.async_reads import AsyncReads
from xiaodai.db.driver import DriverStatement
from xiaodai.db.session import make_engine, session_factory
from xiaodai.db.tables import CommandRow, JournalEntryRow, LoanRow
from xiaodai.ledger import service as ledger
from xiaodai.servicing.errors import IdempotencyConflictError

TODAY_ON = "2026-01-10"  # tests/api/conftest.py's business date


@pytest.fixture
def pg(client: TestClient) -> TestClient:
    if client.app.state.payment_connections is None:  # type: ignore[attr-defined]
        pytest.skip("PostgreSQL only: elsewhere a repayment takes the session's path")
    return client


@pytest.fixture
def me_and_loan(pg: TestClient, tokens_remembered_long: None) -> tuple[dict[str, str], int]:
    return bearer_loan(pg, "driver@example.com")


def _loop_runs(client: TestClient) -> int:
    return int(client.app.state.loop_work.runs)  # type: ignore[attr-defined]


def _idle(client: TestClient) -> int:
    return len(client.app.state.payment_connections._idle)  # type: ignore[attr-defined]


def test_a_repayment_is_two_round_trips_on_the_driver_and_answers_as_the_full_stack(
    pg: TestClient, me_and_loan: tuple[dict[str, str], int]
) -> None:
    me, loan_id = me_and_loan
    runs = _loop_runs(pg)
    with statements(pg) as seen:
        first = pay(pg, loan_id, me, "d1", "1.00")
    assert first.status_code == 201, first.text
    assert len(seen) == 4, seen
    begin, lock_and_claim, journal, commit = seen
    assert (begin, commit) == ("BEGIN", "COMMIT")
    assert "FOR UPDATE" in lock_and_claim
    assert "INSERT INTO commands" in lock_and_claim
    assert "INSERT INTO journal_entries" in journal
    assert "UPDATE commands" in journal
    assert _loop_runs(pg) == runs  # not through a session
    assert _idle(pg) == 1  # its connection back in the pool, idle
    again = pay(pg, loan_id, me, "d1", "1.00")
    full = pay(pg, loan_id, me, "d1", "1.00", "?via=full")  # a query string: the full stack's session path
    same_answer(again, full)
    assert again.json() == {**first.json(), "replayed": True}
    # the same payment through the full stack on a new key answers alike (the entry id apart)
    other = pay(pg, loan_id, me, "d2", "1.00", "?via=full").json()
    mine = pay(pg, loan_id, me, "d3", "1.00").json()
    assert mine["entry_id"] > other["entry_id"]
    assert {**mine, "entry_id": 0} == {**other, "entry_id": 0}
    with pg.app.state.session_factory() as s:  # type: ignore[attr-defined]
        assert ledger.check(s) == []


def test_exactly_the_payoff_is_handed_to_the_session_path_and_settles_the_loan(
    pg: TestClient, me_and_loan: tuple[dict[str, str], int]
) -> None:
    me, loan_id = me_and_loan
    total = pg.get(f"/api/loans/{loan_id}/payoff", headers=me).json()["total"]
    entries, runs = count(pg, JournalEntryRow), _loop_runs(pg)
    with statements(pg) as seen:
        settled = pay(pg, loan_id, me, "all", total)
    assert settled.status_code == 201, settled.text
    assert settled.json()["state"] == "settled"
    assert seen[:3] == ["BEGIN", seen[1], "ROLLBACK"]  # the driver's transaction gave up, nothing written
    assert _loop_runs(pg) == runs + 1  # the session's function, on the loop
    assert count(pg, JournalEntryRow) > entries
    again = pay(pg, loan_id, me, "all", total)  # the retry replays through the driver
    assert again.json() == {**settled.json(), "replayed": True}
    assert _idle(pg) == 1


def test_refusals_answer_as_the_full_stack_write_nothing_and_leave_the_connection_clean(
    pg: TestClient, me_and_loan: tuple[dict[str, str], int]
) -> None:
    me, loan_id = me_and_loan
    entries, claims = count(pg, JournalEntryRow), count(pg, CommandRow)
    too_much = pay(pg, loan_id, me, "big", "29999.00")
    same_answer(too_much, pay(pg, loan_id, me, "big", "29999.00", "?via=full"))
    assert too_much.status_code == 400, too_much.text
    stranger = borrower(pg, "stranger@example.com")
    pg.cookies.clear()
    not_theirs = pay(pg, loan_id, stranger, "s", "1.00")
    same_answer(not_theirs, pay(pg, loan_id, stranger, "s", "1.00", "?via=full"))
    assert not_theirs.status_code == 404
    assert (count(pg, JournalEntryRow), count(pg, CommandRow)) == (entries, claims)
    assert pay(pg, loan_id, me, "k", "1.00").status_code == 201
    reused = pay(pg, loan_id, me, "k", "2.00")  # the same key for another amount
    same_answer(reused, pay(pg, loan_id, me, "k", "2.00", "?via=full"))
    assert reused.status_code == 409
    assert _idle(pg) == 1  # one connection, handed back idle after each


def test_a_statement_the_server_refuses_is_rolled_back_and_a_500_and_the_key_is_free_again(
    pg: TestClient, me_and_loan: tuple[dict[str, str], int], monkeypatch: pytest.MonkeyPatch
) -> None:
    me, loan_id = me_and_loan
    entries, claims = count(pg, JournalEntryRow), count(pg, CommandRow)
    refused = DriverStatement(text("SELECT 1 / (:n - :n)"))  # division by zero, raised by the server

    def broken(*_args: Any, **_kwargs: Any) -> tuple[DriverStatement, dict[str, Any]]:
        return refused, {"n": 1}

    monkeypatch.setattr(loop_repay, "pg_save", broken)
    answer = pay(pg, loan_id, me, "boom", "1.00")
    assert answer.status_code == 500, answer.text
    assert "entry_id" not in answer.text
    monkeypatch.undo()
    assert (count(pg, JournalEntryRow), count(pg, CommandRow)) == (entries, claims)  # the claim too
    retried = pay(pg, loan_id, me, "boom", "1.00")
    assert retried.status_code == 201, retried.text
    assert retried.json()["replayed"] is False
    assert _idle(pg) == 1


def test_a_token_not_remembered_is_looked_up_first_and_a_revoked_one_goes_to_the_full_stack(
    pg: TestClient,
) -> None:
    me = borrower(pg, "forgotten@example.com")
    loan_id = signed_loan(pg, me)
    pg.cookies.clear()
    TOKENS.clear()
    with statements(pg) as seen:
        paid = pay(pg, loan_id, me, "t1", "1.00")
    assert paid.status_code == 201, paid.text
    assert "FROM api_tokens" in seen[0]
    assert seen[1] == "BEGIN"
    assert pg.post("/api/auth/logout", headers=me).json()["ended"] == "token"
    TOKENS.clear()
    refused = pay(pg, loan_id, me, "t2", "1.00")
    assert refused.status_code == 401


def test_many_payments_at_once_on_one_loan_post_each_key_once(
    pg: TestClient, me_and_loan: tuple[dict[str, str], int], db_url: str
) -> None:
    """Straight on ``repay_on_loop``, 40 payments at once on one loan over a pool of 4: 20 keys, each sent
    twice. Each key is posted once, its two answers are the same payment, and the ledger checks."""
    me, loan_id = me_and_loan
    user_id = int(pg.get("/api/auth/me", headers=me).json()["id"])

    url = make_engine(db_url).url.set(drivername="postgresql").render_as_string(hide_password=False)
    pool = AsyncReads(url, size=4)

    async def one(key: str) -> dict[str, Any]:
        return await loop_repay.repay_on_loop(
            pool, user_id=user_id, loan_id=loan_id, amount_fen=100, on=date(2026, 1, 10), key=key
        )

    async def main() -> list[dict[str, Any]]:
        try:
            return await asyncio.gather(*(one(f"many-{i % 20}") for i in range(40)))
        finally:
            pool.close()

    answers = asyncio.run(main())
    by_key: dict[int, list[dict[str, Any]]] = {}
    for i, answer in enumerate(answers):
        by_key.setdefault(i % 20, []).append(answer)
    for pair in by_key.values():
        assert sorted(a["replayed"] for a in pair) == [False, True]
        assert pair[0]["entry_id"] == pair[1]["entry_id"]
    assert len({a["entry_id"] for a in answers}) == 20
    engine = make_engine(db_url)
    try:
        with session_factory(engine)() as s:
            assert ledger.check(s) == []
            paid = s.execute(select(LoanRow.paid_total_fen).where(LoanRow.id == loan_id)).scalar_one()
            assert Decimal(paid) == Decimal(20 * 100)
            assert s.execute(select(CommandRow).where(CommandRow.idempotency_key.like("%many-%"))).all()
    finally:
        engine.dispose()

    async def reused() -> None:
        try:
            await loop_repay.repay_on_loop(
                pool, user_id=user_id, loan_id=loan_id, amount_fen=200, on=date(2026, 1, 10), key="many-1"
            )
        finally:
            pool.close()

    with pytest.raises(IdempotencyConflictError):
        asyncio.run(reused())
