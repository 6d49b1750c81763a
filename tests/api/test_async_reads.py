"""The event-loop reads' pool (``api.async_reads``, PostgreSQL): never more than ``size`` connections, the
requests beyond them wait for one handed back; a new event loop starts afresh; ``close`` closes the idle
ones; a read inside a transaction-less connection sees what was committed before it began."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text

from xiaodai.api.async_reads import AsyncReads
from xiaodai.db.session import make_engine


@pytest.fixture
def pg_url(db_url: str) -> str:
    if not db_url.startswith("postgresql"):
        pytest.skip("PostgreSQL only")
    return make_engine(db_url).url.set(drivername="postgresql").render_as_string(hide_password=False)


def test_no_more_than_size_connections_and_the_rest_wait(pg_url: str) -> None:
    reads = AsyncReads(pg_url, size=2)

    async def many() -> list[int]:
        got = await asyncio.gather(
            *(reads.rows("SELECT pg_backend_pid() AS pid, pg_sleep(0.01) AS slept", {}) for _ in range(12))
        )
        return [rows[0].pid for rows in got]

    pids = asyncio.run(many())
    assert len(pids) == 12
    assert len(set(pids)) <= 2  # 12 reads on at most 2 connections
    again = asyncio.run(many())  # another event loop: new connections, the old ones closed
    assert len(set(again)) <= 2
    assert not set(again) & set(pids)
    reads.close()
    assert reads._idle == []  # the pool's own state: nothing left open


def test_a_read_sees_what_was_committed_before_it(pg_url: str, db_url: str) -> None:
    reads = AsyncReads(pg_url, size=1)
    engine = make_engine(db_url)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE serve2_seen (n int)"))

    async def read() -> int:
        rows = await reads.rows("SELECT count(*) AS n FROM serve2_seen", {})
        return int(rows[0].n)

    async def scenario() -> list[int]:
        seen = [await read()]
        with engine.begin() as conn:  # committed by another connection between two reads
            conn.execute(text("INSERT INTO serve2_seen VALUES (1)"))
        seen.append(await read())  # the same pooled connection: autocommit, no stale snapshot
        return seen

    assert asyncio.run(scenario()) == [0, 1]
    reads.close()
    engine.dispose()


def test_a_lost_connection_hands_its_place_to_a_waiting_read(pg_url: str) -> None:
    reads = AsyncReads(pg_url, size=1)

    async def scenario() -> list[str]:
        async def read(sql: str) -> str:
            try:
                await reads.rows(sql, {})
            except Exception as exc:
                return type(exc).__name__
            return "ok"

        # the first read fails on its (only) connection while three more wait for it
        return await asyncio.gather(read("SELECT 1/0 AS boom"), *(read("SELECT 1 AS one") for _ in range(3)))

    assert asyncio.run(scenario()) == ["DivisionByZero", "ok", "ok", "ok"]
    assert reads._open == 1  # the failed connection's place went to a waiter, not counted twice
    reads.close()
