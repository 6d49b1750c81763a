"""``api.loop_work``: on PostgreSQL a hot-path repayment runs on the served event loop (a greenlet, the
asynchronous driver) — committed before the answer, a failed commit never a 2xx, answers as the threaded
path's; elsewhere, on another loop or with a payment rail that blocks, the threaded path. And ``LoopWork``
itself: the result or the exception, the caller's context, at most ``size`` at once, a cancelled caller that
waits for its work to end."""

from __future__ import annotations

import asyncio
import contextvars
import threading
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session
from sqlalchemy.util import await_only

from support.answers import same_answer
from support.failing_commit import Armed
from support.journey import bearer_loan, pay
from xiaodai.api.hot_common import in_one_thread
from xiaodai.api.loop_work import LoopWork
from xiaodai.db.tables import CommandRow, JournalEntryRow
from xiaodai.journey import payment_rail

WHO: contextvars.ContextVar[str] = contextvars.ContextVar("who", default="-")


@pytest.fixture
def pg_url(db_url: str) -> str:
    if not db_url.startswith("postgresql"):
        pytest.skip("PostgreSQL only")
    return db_url


def _loop_runs(client: TestClient) -> int:
    work: LoopWork | None = client.app.state.loop_work  # type: ignore[attr-defined]
    return -1 if work is None else work.runs


def _count(client: TestClient, table: Any) -> int:
    with client.app.state.session_factory() as s:  # type: ignore[attr-defined]
        return int(s.execute(select(func.count()).select_from(table)).scalar_one())


@pytest.fixture
def me_and_loan(client: TestClient, tokens_remembered_long: None) -> tuple[dict[str, str], int]:
    return bearer_loan(client, "loop@example.com")


def _payoff(client: TestClient, loan_id: int, me: dict[str, str]) -> str:
    """What settles the loan today: a payment of it is one the driver's path (``api.loop_repay``) hands back
    to the session's, which runs here."""
    return str(client.get(f"/api/loans/{loan_id}/payoff", headers=me).json()["total"])


def test_on_postgresql_a_repayment_handed_back_runs_on_the_loop_and_answers_as_the_full_stack(
    client: TestClient, me_and_loan: tuple[dict[str, str], int]
) -> None:
    me, loan_id = me_and_loan
    before = _loop_runs(client)
    total = _payoff(client, loan_id, me)
    first = pay(client, loan_id, me, "loop-1", amount=total)
    assert first.status_code == 201, first.text
    assert first.json()["state"] == "settled"
    postgres = client.app.state.loop_work is not None  # type: ignore[attr-defined]
    assert _loop_runs(client) == (before + 1 if postgres else -1)
    again = pay(client, loan_id, me, "loop-1", amount=total)
    full = pay(client, loan_id, me, "loop-1", total, "?via=full")  # a query string: the full stack
    same_answer(again, full)
    assert again.json() == {**first.json(), "replayed": True}
    # committed before the answer: a read on another connection right after sees it
    with client.app.state.session_factory() as s:  # type: ignore[attr-defined]
        key = s.execute(select(CommandRow.idempotency_key).where(CommandRow.idempotency_key.like("%loop-1")))
        assert key.scalar_one().endswith(":loop-1")


def test_a_failed_commit_on_the_loop_is_a_500_and_posts_nothing(
    client: TestClient, me_and_loan: tuple[dict[str, str], int], failing_commit: Armed
) -> None:
    me, loan_id = me_and_loan
    entries, claims, runs = _count(client, JournalEntryRow), _count(client, CommandRow), _loop_runs(client)
    total = _payoff(client, loan_id, me)
    failing_commit[0] = True
    answer = pay(client, loan_id, me, "loop-fail", amount=total)
    failing_commit[0] = False
    assert answer.status_code == 500, answer.text
    assert "entry_id" not in answer.text
    assert (_count(client, JournalEntryRow), _count(client, CommandRow)) == (entries, claims)
    if runs >= 0:
        assert _loop_runs(client) == runs + 1  # it was the loop's
    # the connection the failed payment used went back to the pool clean: nothing is left open on it
    for _ in range(3):
        assert pay(client, loan_id, me, f"loop-after-{_}").status_code == 201
    retried = pay(client, loan_id, me, "loop-fail", amount=_payoff(client, loan_id, me))
    assert retried.status_code == 201
    assert retried.json()["replayed"] is False


def test_a_rail_that_blocks_sends_the_repayment_to_a_thread(
    client: TestClient, me_and_loan: tuple[dict[str, str], int], monkeypatch: pytest.MonkeyPatch
) -> None:
    me, loan_id = me_and_loan
    monkeypatch.setattr(payment_rail.SimulatedRail, "blocking", True)
    assert payment_rail.blocks(payment_rail.RAIL)
    runs = _loop_runs(client)
    assert pay(client, loan_id, me, "rail-blocks").status_code == 201
    assert _loop_runs(client) == runs  # not on the loop

    class Unsaid:  # an adapter that does not say is taken to block
        pass

    assert payment_rail.blocks(Unsaid())  # type: ignore[arg-type]


def test_a_request_on_another_loop_takes_the_threaded_path(pg_url: str) -> None:
    work = LoopWork(pg_url)

    async def serve() -> None:
        work.start()
        assert work.ready()

    async def elsewhere() -> bool:
        return work.ready()

    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(serve())
        assert asyncio.run(elsewhere()) is False  # another loop: its connections are not this one's
        loop.run_until_complete(work.close())
    finally:
        loop.close()
    assert not work.ready()


def _sleep_in_greenlet(seconds: float) -> None:
    await_only(asyncio.sleep(seconds))


def test_loop_work_runs_in_a_greenlet_on_the_loop_with_the_callers_context(pg_url: str) -> None:
    work = LoopWork(pg_url, size=2)

    def who_and_where(session: Session) -> tuple[str, str, int]:
        value = session.execute(text("SELECT 41 + 1")).scalar_one()
        return WHO.get(), threading.current_thread().name, value

    def broken(session: Session) -> None:
        session.execute(text("SELECT 1"))
        raise KeyError("nope")

    async def main() -> None:
        work.start()
        try:
            WHO.set("borrower-7")
            got = await work.run(in_one_thread, who_and_where)
            assert got == ("borrower-7", threading.current_thread().name, 42)  # this thread: the loop's
            with pytest.raises(KeyError, match="nope"):
                await work.run(in_one_thread, broken)
        finally:
            await work.close()

    asyncio.run(main())


def test_at_most_size_run_at_once_and_a_cancelled_caller_waits_for_its_work(pg_url: str) -> None:
    work = LoopWork(pg_url, size=3)
    running = 0
    most = 0
    ended: list[str] = []

    def hold(session: Session) -> None:
        nonlocal running, most
        running += 1
        most = max(most, running)
        session.execute(text("SELECT pg_sleep(0.02)"))
        _sleep_in_greenlet(0.01)
        running -= 1

    def slow(session: Session) -> None:
        session.execute(text("SELECT 1"))
        _sleep_in_greenlet(0.2)
        ended.append("slow")

    async def main() -> None:
        work.start()
        try:
            await asyncio.gather(*(work.run(in_one_thread, hold) for _ in range(10)))
            caller = asyncio.ensure_future(work.run(in_one_thread, slow))
            await asyncio.sleep(0.05)
            caller.cancel()
            with pytest.raises(asyncio.CancelledError):
                await caller
            assert ended == ["slow"]  # the cancelled caller returned only once its work had ended
        finally:
            await work.close()

    asyncio.run(main())
    assert most == 3
