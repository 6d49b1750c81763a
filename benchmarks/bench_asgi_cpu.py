"""CPU per request of the hot API routes inside one process: raw ASGI calls into the app, on PostgreSQL.

    PYTHONPATH=src:tests .venv/bin/python benchmarks/bench_asgi_cpu.py [--requests 2000] [--batches 8]
                                                                      [--only loans,loan,repay] [--profile]

No HTTP parsing, no socket, no access line (uvicorn's, outside the app): what is left is what the app
itself costs per request — the middlewares, routing, authentication, the database call and its thread,
the answer. The app is built as ``xiaodai serve`` builds it (``served_app``: logging with its writer
thread, GC settings), on a fresh migrated PostgreSQL database with one borrower holding one signed loan.
Each batch sends ``--requests`` requests, 16 at a time (asyncio tasks on uvloop, as uvicorn runs them),
and reports process CPU (user + system: the worker threads included) per request; the minimum over the
batches is the least disturbed by the other work on a shared machine. ``--profile`` prints cProfile's top
functions (CPU clock) for one more batch of each endpoint. ``NO_RENDERED=1``: the loan detail is rendered
for every request (``async_reads.RENDERED`` keeps nothing), as for a loan whose row changed since it was
last shown; ``NO_ASYNC_READS=1``: the reads on the worker-thread path; ``FORGET_TOKENS=1``: every request
looks its bearer token up (as a token not seen for 2 s is, in each worker).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import pstats
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from support.databases import admin, pg_url  # noqa: E402
from support.journey import apply_body  # noqa: E402
from support.models import write_artifact  # noqa: E402

CONCURRENCY = 16


def prepare(folder: Path) -> tuple[str, str]:
    from xiaodai.db.migrate import upgrade
    from xiaodai.db.session import make_engine, session_factory
    from xiaodai.underwriting import service as underwriting

    name = f"xiaodai_asgi_cpu_{uuid.uuid4().hex[:8]}"
    admin(f'CREATE DATABASE "{name}"')
    url = pg_url(name)
    upgrade(url)
    engine = make_engine(url)
    with session_factory(engine)() as s, s.begin():
        underwriting.register_model(s, artifact=write_artifact(folder / "artifact"), activate=True)
    engine.dispose()
    return name, url


def scratch_app(prefix: str) -> str:
    """A temporary working folder (the demo key ring and models are made under the working directory), a
    fresh migrated PostgreSQL database with the test scorecard active (``prepare``), and the environment
    ``served_app`` reads pointed at both; the database's name (to drop it)."""
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    os.chdir(folder)  # the demo key ring and models are made under the working directory
    name, url = prepare(folder)
    os.environ.update(
        XIAODAI_DATABASE_URL=url,
        XIAODAI_BUSINESS_DATE="2026-01-10",
        XIAODAI_SECRET_KEY="bench",
        XIAODAI_MODEL_DIR=str(folder / "models"),
        XIAODAI_LOG_FILE=str(folder / "log.jsonl"),
    )
    return name


def borrower(app: Any) -> tuple[str, int]:
    from fastapi.testclient import TestClient

    with TestClient(app) as client:
        email = f"cpu-{uuid.uuid4().hex[:6]}@example.com"
        client.post("/api/auth/signup", json={"email": email, "name": "压测", "password": "correct horse 1"})
        token = client.post("/api/auth/token", json={"email": email, "password": "correct horse 1"})
        headers = {"Authorization": f"Bearer {token.json()['token']}"}
        body = apply_body()
        made = client.post("/api/applications", json=body, headers={**headers, "Idempotency-Key": "seed"})
        public_id = made.json()["application_id"]
        kfs = client.get(f"/api/applications/{public_id}/kfs", headers=headers).json()
        signed = client.post(
            f"/api/applications/{public_id}/sign", json={"kfs_sha256": kfs["sha256"]}, headers=headers
        )
        return token.json()["token"], int(signed.json()["loan_id"])


def scope_for(method: str, path: str, headers: list[tuple[bytes, bytes]]) -> dict[str, Any]:
    return {  # as uvicorn's httptools protocol builds it
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "server": ("127.0.0.1", 8000),
        "client": ("127.0.0.1", 40000),
        "scheme": "http",
        "method": method,
        "root_path": "",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "headers": headers,
        "state": {},
    }


async def one(app: Any, method: str, path: str, headers: list[tuple[bytes, bytes]], body: bytes) -> int:
    status = 0
    sent = False

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.sleep(3600)
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(scope_for(method, path, list(headers)), receive, send)
    return status


async def batch(app: Any, kind: str, token: str, loan_id: int, *, count: int, run: str) -> list[int]:
    auth = (b"authorization", f"Bearer {token}".encode())
    host = (b"host", b"127.0.0.1:8000")
    statuses: list[int] = []
    queue = list(range(count))

    async def worker() -> None:
        while queue:
            n = queue.pop()
            if kind == "loans":
                statuses.append(await one(app, "GET", "/api/loans", [host, auth], b""))
            elif kind == "loan":
                statuses.append(await one(app, "GET", f"/api/loans/{loan_id}", [host, auth], b""))
            else:
                body = b'{"amount":"0.01"}'
                headers = [
                    host,
                    auth,
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"idempotency-key", f"{run}-{n}".encode()),
                ]
                statuses.append(await one(app, "POST", f"/api/loans/{loan_id}/repayments", headers, body))

    await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
    return statuses


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--batches", type=int, default=8)
    parser.add_argument("--only", default="loans,loan,repay")
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    import uvloop

    name = scratch_app("xiaodai-asgi-")
    try:
        from xiaodai.api.app import served_app

        app = served_app()
        if os.environ.get("INLINE"):  # an experiment: the hot path's thread work on the loop (blocking it)
            from xiaodai.api import hot_common, hot_path

            async def on_loop(fn: Any, *a: Any) -> Any:
                return fn(*a)

            async def pay_on_loop(factory: Any, work: Any) -> Any:
                return hot_common.in_one_thread(factory, work)

            hot_path.run_in_threadpool = on_loop  # type: ignore[assignment]
            hot_path.in_payment_thread = pay_on_loop  # type: ignore[assignment]
        if os.environ.get("NO_ASYNC_READS"):
            app.state.async_reads = None
        if os.environ.get("FORGET_TOKENS"):  # every request looks its token up (the memory lasts 1 µs)
            from xiaodai.accounts.token_cache import TOKENS

            TOKENS.ttl = 1e-6
        if os.environ.get("NO_RENDERED"):  # every detail rendered afresh (as for a loan not shown before)
            from xiaodai.api import async_reads

            async_reads.RENDERED.size = 0
        token, loan_id = borrower(app)
        loop = uvloop.new_event_loop()
        asyncio.set_event_loop(loop)
        print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        for kind in args.only.split(","):
            loop.run_until_complete(batch(app, kind, token, loan_id, count=200, run=f"warm-{kind}"))
            figures = []
            for b in range(args.batches):
                started = time.process_time()
                statuses = loop.run_until_complete(
                    batch(app, kind, token, loan_id, count=args.requests, run=f"{uuid.uuid4().hex[:6]}-{b}")
                )
                figures.append((time.process_time() - started) * 1000 / args.requests)
                bad = [s for s in statuses if s >= 300]
                if bad:
                    raise SystemExit(f"{kind}: {len(bad)} answers >= 300, e.g. {bad[0]}")
            print(
                f"{kind:<6} CPU ms/request: min {min(figures):.3f}"
                f" · median {sorted(figures)[len(figures) // 2]:.3f}"
                f" · batches {' '.join(f'{f:.3f}' for f in figures)}"
            )
            if args.profile:  # the endpoint's thread inline, so one profiler sees the whole request
                from xiaodai.api import hot_common, hot_path, one_hop

                threadpool, payment_thread = one_hop.run_in_threadpool, hot_path.in_payment_thread

                async def inline(fn: Any, *a: Any) -> Any:
                    return fn(*a)

                async def pay_inline(factory: Any, work: Any) -> Any:
                    return hot_common.in_one_thread(factory, work)

                one_hop.run_in_threadpool = hot_path.run_in_threadpool = inline  # type: ignore[assignment]
                hot_path.in_payment_thread = pay_inline  # type: ignore[assignment]
                profiler = cProfile.Profile(time.process_time)
                profiler.enable()
                loop.run_until_complete(
                    batch(app, kind, token, loan_id, count=args.requests, run=f"prof-{kind}")
                )
                profiler.disable()
                stats = pstats.Stats(profiler).sort_stats(os.environ.get("SORT", "tottime"))
                stats.print_stats(int(os.environ.get("TOP", "45")))
                if os.environ.get("CALLERS"):
                    stats.print_callers(os.environ["CALLERS"])
                one_hop.run_in_threadpool = hot_path.run_in_threadpool = threadpool  # type: ignore[assignment]
                hot_path.in_payment_thread = payment_thread  # type: ignore[assignment]
        loop.close()
        app.state.engine.dispose()
    finally:
        from xiaodai.logging_setup import flush

        flush()
        admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
