"""CPU and statements per application (decision + offer), in-process, on PostgreSQL (docs/BENCHMARKS.md,
issues 14 and 16).

    PYTHONPATH=src:tests .venv/bin/python benchmarks/bench_apply_cpu.py [--applications 300]

A scratch database with the test scorecard and enough borrowers that none applies more than five times
(a sixth application in 30 days is declined KO_VELOCITY, a cheaper path): every application measured is
approved with an offer. Then, one application after the other on one thread (so CPU time is this process's
own):

* **service**: ``journey.submit_application`` (idempotency check, consent, decision with its feature
  assembly and credit-report pull, the application, the applicant's view with recomputed reasons and the
  offer) and the commit, in a session of its own — what ``POST /api/applications`` runs inside the request;
* **endpoint**: ``POST /api/applications`` through the whole app (middlewares, auth, the handler, the
  commit, the JSON answer) by Starlette's TestClient (which adds its own client-side cost: an upper bound).

``FORGET_TOKENS=1``: every endpoint request looks its bearer token up (the token memory lasts 1 µs), as a
token not seen for 2 s is in each worker (with 256 borrowers over HTTP, most applications).

Printed: CPU ms per application (``time.process_time``: user + system of this process, which includes the
TestClient's own thread) p50 and mean, the CPU of the PostgreSQL backends of the scratch database per
application p50 (``/proc/<pid>/schedstat`` of the backends connected after the warm-up, when PostgreSQL runs
on this machine), wall ms p50 / p99, SQL statements per application (the engine's
``before_cursor_execute``; psycopg's BEGIN/COMMIT are not statements there) and the load average.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import date
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "benchmarks"))

from fastapi.testclient import TestClient  # noqa: E402
from sqlalchemy import event  # noqa: E402

from bench_decision_db import backend_cpu_ns  # noqa: E402
from bench_http import APPLY, PASSWORD, drop_database, load_average, prepare, scratch_database  # noqa: E402
from support.databases import PG_ADMIN  # noqa: E402
from xiaodai.accounts.service import issue_token, sign_up  # noqa: E402
from xiaodai.api.app import create_app  # noqa: E402
from xiaodai.api.settings import Settings  # noqa: E402
from xiaodai.db.tables import UserRow  # noqa: E402
from xiaodai.journey import service as journey  # noqa: E402

TODAY = date(2026, 1, 10)
WARMUP = 20
PER_BORROWER = 5  # the sixth application in 30 days is declined (KO_VELOCITY)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * (len(ordered) - 1)))]


def backends_of(database: str) -> set[int]:
    """The PostgreSQL backends connected to ``database`` (the app's pool), from an admin connection."""
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        rows = conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s", (database,)).fetchall()
    return {int(pid) for (pid,) in rows}


def measure(label: str, count: int, one: Callable[[int], str], counted: list[int], database: str) -> None:
    for i in range(WARMUP):
        one(i)
    pids = backends_of(database)
    counted[0] = 0
    cpu_ms: list[float] = []
    server_ms: list[float] = []
    wall_ms: list[float] = []
    outcomes: dict[str, int] = {}
    for i in range(WARMUP, WARMUP + count):
        server = backend_cpu_ns(pids)
        cpu, wall = time.process_time(), time.perf_counter()
        outcome = one(i)
        cpu_ms.append((time.process_time() - cpu) * 1000)
        wall_ms.append((time.perf_counter() - wall) * 1000)
        server_after = backend_cpu_ns(pids)
        if server is not None and server_after is not None:
            server_ms.append((server_after - server) / 1e6)
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    backends = f"PostgreSQL CPU p50 {statistics.median(server_ms):5.2f} ms · " if server_ms else ""
    print(
        f"{label:<36} CPU p50 {statistics.median(cpu_ms):5.2f} mean {statistics.mean(cpu_ms):5.2f} ms · "
        f"{backends}wall p50 {statistics.median(wall_ms):6.2f} p99 {percentile(wall_ms, 0.99):6.2f} ms · "
        f"{counted[0] / count:4.2f} statements · {outcomes}"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--applications", type=int, default=300)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="xiaodai-apply-cpu-"))
    os.environ["XIAODAI_MODEL_DIR"] = str(folder / "models")
    os.environ.setdefault("XIAODAI_KEYRING_FILE", str(folder / "keyring.json"))
    name, url = scratch_database("xiaodai_bench_applycpu")
    try:
        prepare(url, folder)
        app = create_app(Settings(database_url=url, secret_key="bench", business_date=TODAY))
        per_run = -(-(args.applications + WARMUP) // PER_BORROWER)
        if os.environ.get("FORGET_TOKENS"):
            from xiaodai.accounts.token_cache import TOKENS

            TOKENS.ttl = 1e-6
        with TestClient(app) as client:
            factory = app.state.session_factory
            # accounts and tokens through the services (the sign-in endpoint limits attempts per address)
            with factory() as s, s.begin():
                users = [
                    sign_up(
                        s,
                        email=f"apply{n}-{uuid.uuid4().hex[:6]}@example.com",
                        name="压测",
                        password=PASSWORD,
                    )
                    for n in range(2 * per_run)  # one set of borrowers for the service, one for the endpoint
                ]
                tokens = [issue_token(s, user=user) for user in users]
            with factory() as s:
                users = [s.get_one(UserRow, user.id) for user in users]
                s.expunge_all()
            counted = [0]

            def count(*_: object) -> None:
                counted[0] += 1

            event.listen(app.state.engine, "before_cursor_execute", count)

            def service(i: int) -> str:
                with factory() as s:
                    user = s.merge(users[i // PER_BORROWER], load=False)
                    answer = journey.submit_application(
                        s,
                        user=user,
                        payload=APPLY,
                        idempotency_key=f"s{i}",
                        credit_check_consent=True,
                        today=TODAY,
                        channel="api",
                    )
                    s.commit()
                return str(answer["outcome"])

            def endpoint(i: int) -> str:
                headers = {
                    "Authorization": f"Bearer {tokens[per_run + i // PER_BORROWER]}",
                    "Idempotency-Key": f"e{i}",
                }
                got = client.post("/api/applications", json=APPLY, headers=headers)
                if got.status_code != 201:
                    raise SystemExit(f"application refused: {got.status_code} {got.text}")
                return str(got.json()["outcome"])

            print(f"load average before: {load_average()}")
            measure("service (submit_application+commit)", args.applications, service, counted, name)
            measure("endpoint (TestClient POST)", args.applications, endpoint, counted, name)
            print(f"load average after: {load_average()}")
        app.state.engine.dispose()
    finally:
        drop_database(name)


if __name__ == "__main__":
    main()
