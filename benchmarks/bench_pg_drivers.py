"""Client CPU per transaction of a repayment's shape on PostgreSQL, by the way the client talks to the driver:
SQLAlchemy's asynchronous Core connection on psycopg (``postgresql+psycopg``, as ``api.loop_work``'s engine),
psycopg's ``AsyncConnection`` alone, and asyncpg (when installed: it is not a dependency of xiaodai). Research
for issue 14 (what is left of a payment's CPU once its statements are two): which layer would be worth
leaving out of the hot path.

    .venv/bin/python benchmarks/bench_pg_drivers.py [--transactions 4000] [--rounds 2]

Each transaction is BEGIN; ``SELECT … FOR UPDATE`` of one of 64 rows; ``UPDATE … RETURNING``; COMMIT (four
round trips, as a repayment's), 8 connections at once on uvloop, every statement prepared by the driver.
Printed per driver and round: transactions/s and this process's CPU (user + system) per transaction, and
each driver's CPU as a ratio to SQLAlchemy's of the same round (the anchor: what the hot path goes through).
A scratch table ``bench_pg_drivers`` is made in the database and dropped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import os
import resource
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import psycopg
import uvloop
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from support.databases import PG_ADMIN

CONNECTIONS = 8
ROWS = 64
TABLE = "bench_pg_drivers"
SELECT = f"SELECT id, balance, version FROM {TABLE} WHERE id = {{id}} FOR UPDATE"
UPDATE = (
    f"UPDATE {TABLE} SET balance = balance + {{amount}}, version = version + 1"
    " WHERE id = {id} RETURNING version"
)

One = Callable[[int], Awaitable[None]]


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def sqlalchemy_runner(url: str) -> tuple[list[One], Callable[[], Awaitable[None]]]:
    engine = create_async_engine(
        url.replace("postgresql://", "postgresql+psycopg://", 1), pool_size=CONNECTIONS
    )
    select, update = text(SELECT.format(id=":id")), text(UPDATE.format(amount=":amount", id=":id"))

    async def one(i: int) -> None:
        async with engine.connect() as conn, conn.begin():
            (await conn.execute(select, {"id": i % ROWS + 1})).all()
            (await conn.execute(update, {"amount": 1, "id": i % ROWS + 1})).all()

    return [one] * CONNECTIONS, engine.dispose


async def psycopg_runner(url: str) -> tuple[list[One], Callable[[], Awaitable[None]]]:
    conns = [await psycopg.AsyncConnection.connect(url, prepare_threshold=0) for _ in range(CONNECTIONS)]
    select, update = SELECT.format(id="%s"), UPDATE.format(amount="%s", id="%s")

    def for_conn(conn: psycopg.AsyncConnection[Any]) -> One:
        async def one(i: int) -> None:
            async with conn.transaction():
                await (await conn.execute(select, (i % ROWS + 1,))).fetchall()
                await (await conn.execute(update, (1, i % ROWS + 1))).fetchall()

        return one

    async def close() -> None:
        for conn in conns:
            await conn.close()

    return [for_conn(conn) for conn in conns], close


async def asyncpg_runner(url: str) -> tuple[list[One], Callable[[], Awaitable[None]]]:
    asyncpg: Any = importlib.import_module("asyncpg")
    conns = [await asyncpg.connect(url) for _ in range(CONNECTIONS)]
    select, update = SELECT.format(id="$1"), UPDATE.format(amount="$1", id="$2")

    def for_conn(conn: Any) -> One:
        async def one(i: int) -> None:
            async with conn.transaction():
                await conn.fetch(select, i % ROWS + 1)
                await conn.fetch(update, 1, i % ROWS + 1)

        return one

    async def close() -> None:
        for conn in conns:
            await conn.close()

    return [for_conn(conn) for conn in conns], close


RUNNERS = {"sqlalchemy": sqlalchemy_runner, "psycopg": psycopg_runner, "asyncpg": asyncpg_runner}


async def measure(name: str, url: str, transactions: int) -> tuple[float, float]:
    """(transactions/s, CPU µs per transaction) of one driver."""
    ones, close = await RUNNERS[name](url)
    try:
        for i in range(50):  # warm: connections opened, statements prepared
            await ones[i % CONNECTIONS](i)
        todo = iter(range(transactions))

        async def worker(one: One) -> None:
            for i in todo:
                await one(i)

        wall, cpu = time.perf_counter(), cpu_seconds()
        await asyncio.gather(*(worker(one) for one in ones))
        wall, cpu = time.perf_counter() - wall, cpu_seconds() - cpu
    finally:
        await close()
    return transactions / wall, cpu * 1e6 / transactions


async def main(args: argparse.Namespace) -> None:
    url = PG_ADMIN
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        await conn.execute(f"DROP TABLE IF EXISTS {TABLE}")
        await conn.execute(f"CREATE TABLE {TABLE} (id integer PRIMARY KEY, balance bigint, version integer)")
        await conn.execute(f"INSERT INTO {TABLE} SELECT g, 0, 0 FROM generate_series(1, {ROWS}) AS g")
    names = ["sqlalchemy", "psycopg"]
    try:
        importlib.import_module("asyncpg")
        names.append("asyncpg")
    except ImportError:
        print("asyncpg is not installed: skipped (pip install asyncpg, outside the project, to compare it)")
    print(f"python {sys.version.split()[0]} · cpus {os.cpu_count()} · load {os.getloadavg()[0]:.2f}")
    try:
        for n in range(1, args.rounds + 1):
            figures = {name: await measure(name, url, args.transactions) for name in names}
            anchor = figures["sqlalchemy"][1]
            for name, (rate, cpu) in figures.items():
                print(
                    f"round {n}: {name:<10} {rate:7,.0f} transactions/s · client CPU {cpu:6,.0f} µs per "
                    f"transaction · {cpu / anchor:.2f} of SQLAlchemy's"
                )
    finally:
        async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
            await conn.execute(f"DROP TABLE IF EXISTS {TABLE}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--transactions", type=int, default=4000)
    parser.add_argument("--rounds", type=int, default=2)
    uvloop.run(main(parser.parse_args()))
