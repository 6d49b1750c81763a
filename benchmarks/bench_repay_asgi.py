"""CPU per borrower repayment through the served app's hot path, in-process, on PostgreSQL: this process's and
the PostgreSQL backends' (issue 14, repay4).

    PYTHONPATH=src:tests .venv/bin/python benchmarks/bench_repay_asgi.py [--requests 1000] [--batches 6]
                                                                        [--loans 8] [--profile]

As ``bench_asgi_cpu.py --only repay`` (raw ASGI calls into ``served_app()``, 16 at a time on uvloop, the
payment's work in its worker thread as served) but the payments are spread over ``--loans`` borrowers'
loans (``bench_http.py`` spreads them over 16 borrowers: a payment often waits for the previous one on the
same loan). Per batch: this process's CPU (user + system, threads included) per payment, the CPU of the
database's backends per payment (``/proc/<pid>/stat`` of the pool's connections: the server runs on this
machine; the engine pool's connections and the app's own asynchronous pools'), and the SQL statements per
payment (the engine's ``before_cursor_execute`` and the asynchronous pools' observers; BEGIN, COMMIT and
ROLLBACK are not counted). Minimum and median over the batches. ``--profile``: cProfile's top functions for
one more batch with the thread work inline (and the token memory's lifetime raised, so that no request of
the profiled batch goes the full stack's way because its token was forgotten).

For an A/B against another tree, run the same file with that tree's ``src`` first on ``PYTHONPATH``.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import pstats
import sys
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))

from bench_asgi_cpu import borrower, one, scratch_app  # noqa: E402
from support.databases import admin  # noqa: E402

CONCURRENCY = 16


def transactions(name: str) -> int:
    """Transactions committed and rolled back in database ``name`` so far (``pg_stat_database``)."""
    import psycopg

    from support.databases import PG_ADMIN

    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute("SELECT pg_stat_clear_snapshot()")
        row = conn.execute(
            "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = %s", (name,)
        ).fetchone()
    return int(row[0]) if row else 0


def process_cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class BackendCpu:
    """CPU seconds of the app's PostgreSQL backends (the server runs on this machine): those alive, read
    from /proc, plus those the pool closed meanwhile, read as the pool closed them (a connection the pool
    opens and closes again within a batch would otherwise take its CPU with it)."""

    def __init__(self, engine: Any, pools: Sequence[Any] = ()) -> None:
        from sqlalchemy import event

        self.pools = [pool for pool in pools if pool is not None]  # the app's own (api.async_reads' kind)
        self.closed = 0.0
        self.alive: dict[int, float] = {}  # backend pid → CPU seconds at the last ``total``
        event.listen(engine.pool, "close", self._closing)
        event.listen(engine.pool, "close_detached", self._closing)
        self.engine = engine

    def _closing(self, dbapi_connection: Any, *_: Any) -> None:
        pid = dbapi_connection.info.backend_pid
        self.closed += process_cpu_seconds(pid) - self.alive.pop(pid, 0.0)

    def total(self) -> float:
        """CPU used since the previous call."""
        pool = self.engine.pool
        pids = [record.dbapi_connection.info.backend_pid for record in list(pool._pool.queue)]  # idle ones
        # and the idle connections of the app's asynchronous pools (the reads', the payments' driver path)
        pids += [c.info.backend_pid for own in self.pools for c in own._idle if not c.closed]
        used, self.closed = self.closed, 0.0
        for pid in pids:
            now = process_cpu_seconds(pid)
            used += now - self.alive.get(pid, 0.0)
            self.alive[pid] = now
        return used


async def batch(app: Any, made: list[tuple[str, int]], *, count: int, run: str) -> list[int]:
    host = (b"host", b"127.0.0.1:8000")
    statuses: list[int] = []
    queue = list(range(count))
    body = b'{"amount":"0.01"}'

    async def worker() -> None:
        while queue:
            n = queue.pop()
            token, loan_id = made[n % len(made)]
            headers = [
                host,
                (b"authorization", f"Bearer {token}".encode()),
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"idempotency-key", f"{run}-{n}".encode()),
            ]
            statuses.append(await one(app, "POST", f"/api/loans/{loan_id}/repayments", headers, body))

    await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
    return statuses


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--batches", type=int, default=6)
    parser.add_argument("--loans", type=int, default=8)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    import uvloop
    from sqlalchemy import event

    name = scratch_app("xiaodai-repay-asgi-")
    try:
        import xiaodai
        from xiaodai.api.app import served_app

        print(f"xiaodai from {Path(xiaodai.__file__).parents[1]}")
        app = served_app()
        if os.environ.get("HOP") == "anyio":  # an experiment: the payment's hop as Starlette's threadpool
            from starlette.concurrency import run_in_threadpool

            from xiaodai.api import hot_common
            from xiaodai.api import hot_path as hot

            async def via_anyio(factory: Any, work: Any) -> Any:
                return await run_in_threadpool(hot_common.in_one_thread, factory, work)

            if hasattr(hot, "in_payment_thread"):
                hot.in_payment_thread = via_anyio  # type: ignore[assignment]
        made = [borrower(app) for _ in range(args.loans)]
        counted = [0]

        def count(*_: object) -> None:
            counted[0] += 1

        event.listen(app.state.engine, "before_cursor_execute", count)
        pools = [app.state.async_reads, getattr(app.state, "payment_connections", None)]
        for own in pools:  # the driver path's statements (api.loop_repay), BEGIN and COMMIT not counted
            if own is not None:
                own.observers.append(
                    lambda sql: count() if sql not in ("BEGIN", "COMMIT", "ROLLBACK") else None
                )
        connects = [0]

        def connected(*_: object) -> None:
            connects[0] += 1

        event.listen(app.state.engine, "connect", connected)
        backends = BackendCpu(app.state.engine, pools)
        loop = uvloop.new_event_loop()
        asyncio.set_event_loop(loop)
        print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        loop.run_until_complete(batch(app, made, count=200, run="warm"))
        ours, theirs, statements, xacts = [], [], [], []
        for b in range(args.batches):
            counted[0] = 0
            backends.total()
            xacts0 = transactions(name)
            started = time.process_time()
            statuses = loop.run_until_complete(
                batch(app, made, count=args.requests, run=f"{uuid.uuid4().hex[:6]}-{b}")
            )
            ours.append((time.process_time() - started) * 1000 / args.requests)
            theirs.append(backends.total() * 1000 / args.requests)
            statements.append(counted[0] / args.requests)
            time.sleep(0.6)  # the statistics collector's delay (PostgreSQL 15: shared memory, flushed ≤ 1 s)
            xacts.append((transactions(name) - xacts0) / args.requests)
            bad = [s for s in statuses if s >= 300]
            if bad:
                raise SystemExit(f"{len(bad)} answers >= 300, e.g. {bad[0]}")

        def line(label: str, figures: list[float]) -> str:
            return (
                f"{label:<22} min {min(figures):.3f} · median {sorted(figures)[len(figures) // 2]:.3f}"
                f" · batches {' '.join(f'{f:.3f}' for f in figures)}"
            )

        print(line("server CPU ms/payment", ours))
        print(line("PG backends ms/payment", theirs))
        print(line("statements/payment", statements))
        print(line("transactions/payment", xacts))
        print(f"new database connections during the batches: {connects[0]}")
        if os.environ.get("PLANS"):  # how PostgreSQL plans the prepared statements of one pool connection
            with app.state.engine.connect() as c:
                query = (
                    "SELECT generic_plans, custom_plans,"
                    " left(regexp_replace(statement, '\\s+', ' ', 'g'), 70) FROM pg_prepared_statements"
                    " ORDER BY custom_plans + generic_plans DESC LIMIT 8"
                )
                for plans in c.exec_driver_sql(query):
                    print("prepared: generic", plans[0], "custom", plans[1], plans[2])
        print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        if args.profile:
            from xiaodai.accounts import token_cache
            from xiaodai.api import hot_common, hot_path

            token_cache.TOKENS.ttl = 3600.0
            time.sleep(token_cache.TTL_SECONDS)  # every entry made with the old lifetime has ended
            loop.run_until_complete(batch(app, made, count=100, run="prof-warm"))  # remembered again
            hop = hot_path.in_payment_thread

            async def inline(factory: Any, work: Any) -> Any:
                return hot_common.in_one_thread(factory, work)

            hot_path.in_payment_thread = inline  # type: ignore[assignment]
            profiler = cProfile.Profile(time.process_time)
            profiler.enable()
            loop.run_until_complete(batch(app, made, count=args.requests, run="prof"))
            profiler.disable()
            hot_path.in_payment_thread = hop  # type: ignore[assignment]
            stats = pstats.Stats(profiler).sort_stats(os.environ.get("SORT", "tottime"))
            by_package: dict[str, float] = {}
            for (filename, _line, function), (_cc, _nc, tottime, _ct, _callers) in stats.stats.items():  # type: ignore[attr-defined]
                parts = filename.split("site-packages/")
                package = parts[1].split("/")[0] if len(parts) > 1 else filename.split("/src/")[-1]
                if package.startswith("xiaodai/"):
                    package = "/".join(package.split("/")[:2])
                if filename == "~":
                    package = function if "method" in function else "builtins"
                by_package[package] = by_package.get(package, 0.0) + tottime
            total = sum(by_package.values())
            for package, spent in sorted(by_package.items(), key=lambda kv: -kv[1])[:25]:
                print(f"{spent / total:6.1%}  {package}")
            stats.print_stats(int(os.environ.get("TOP", "45")))
            if os.environ.get("CALLEES"):
                stats.print_callees(os.environ["CALLEES"])
            if os.environ.get("CALLERS"):
                stats.print_callers(os.environ["CALLERS"])
        with app.state.session_factory() as s:
            from xiaodai.ledger import service as ledger

            print("ledger check:", ledger.check(s) or "ok")
        loop.close()
        app.state.engine.dispose()
    finally:
        from xiaodai.logging_setup import flush

        flush()
        admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
