"""CPU and statements per borrower repayment, in-process, on PostgreSQL (docs/BENCHMARKS.md, issue 14).

    PYTHONPATH=src:tests .venv/bin/python benchmarks/bench_repay_cpu.py [--payments 1000]

A scratch database with the test scorecard and 4 borrowers, each with a signed loan made over the API
(TestClient). Then, one payment after the other on one thread (so CPU time is this process's own):

* **service**: ``journey.repay`` (1.00 CNY, a fresh key) and the commit, in a session of its own — what the
  repayment endpoint runs inside the request;
* **endpoint**: ``POST /api/loans/{id}/repayments`` through the whole app (middlewares, auth, the handler,
  the commit) by Starlette's TestClient (which adds its own client-side cost: an upper bound).

Printed: CPU ms per payment (``time.process_time``, user + system of this process, which includes the
TestClient's own thread), wall ms, SQL statements per payment (the engine's ``before_cursor_execute``;
psycopg's BEGIN/COMMIT are not statements there), the load average, and ``ledger check`` afterwards.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import uuid
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "benchmarks"))

from fastapi.testclient import TestClient  # noqa: E402
from sqlalchemy import event, select  # noqa: E402

from bench_http import APPLY, PASSWORD, drop_database, load_average, prepare, scratch_database  # noqa: E402
from xiaodai.api.app import create_app  # noqa: E402
from xiaodai.api.settings import Settings  # noqa: E402
from xiaodai.db.tables import LoanRow, UserRow  # noqa: E402
from xiaodai.journey import service as journey  # noqa: E402
from xiaodai.ledger import service as ledger  # noqa: E402

TODAY = date(2026, 1, 10)
WARMUP = 50


def borrowers(client: TestClient, count: int) -> list[tuple[str, int]]:
    made = []
    for n in range(count):
        email = f"cpu{n}-{uuid.uuid4().hex[:6]}@example.com"
        client.post("/api/auth/signup", json={"email": email, "name": "压测", "password": PASSWORD})
        token = client.post("/api/auth/token", json={"email": email, "password": PASSWORD}).json()["token"]
        me = {"Authorization": f"Bearer {token}"}
        app = client.post("/api/applications", json=APPLY, headers={**me, "Idempotency-Key": "seed"}).json()
        kfs = client.get(f"/api/applications/{app['application_id']}/kfs", headers=me).json()
        signed = client.post(
            f"/api/applications/{app['application_id']}/sign", json={"kfs_sha256": kfs["sha256"]}, headers=me
        ).json()
        made.append((token, int(signed["loan_id"])))
    return made


def measure(label: str, payments: int, one: Any, counted: list[int]) -> None:
    for i in range(WARMUP):
        one(i)
    counted[0] = 0
    cpu, wall = time.process_time(), time.perf_counter()
    for i in range(payments):
        one(i)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    print(
        f"{label:<34} {1000 * cpu / payments:6.2f} ms CPU/payment  {1000 * wall / payments:6.2f} ms wall  "
        f"{counted[0] / payments:4.2f} statements/payment"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--payments", type=int, default=1000)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="xiaodai-repay-cpu-"))
    os.environ["XIAODAI_MODEL_DIR"] = str(folder / "models")
    name, url = scratch_database("xiaodai_bench_repaycpu")
    try:
        prepare(url, folder)
        app = create_app(Settings(database_url=url, secret_key="bench", business_date=TODAY))
        with TestClient(app) as client:
            made = borrowers(client, 4)
            factory = app.state.session_factory
            with factory() as s:
                users = [
                    s.execute(
                        select(UserRow)
                        .join(LoanRow, LoanRow.borrower_id == UserRow.id)
                        .where(LoanRow.id == loan)
                    ).scalar_one()
                    for _, loan in made
                ]
                s.expunge_all()
            counted = [0]

            def count(*_: object) -> None:
                counted[0] += 1

            event.listen(app.state.engine, "before_cursor_execute", count)

            def service(i: int) -> None:
                _, loan = made[i % len(made)]
                with factory() as s:
                    user = s.merge(users[i % len(made)], load=False)
                    key = f"s{i}-{uuid.uuid4().hex[:6]}"
                    journey.repay(s, user=user, loan_id=loan, amount_fen=100, on=TODAY, key=key)
                    s.commit()

            def endpoint(i: int) -> None:
                token, loan = made[i % len(made)]
                headers = {
                    "Authorization": f"Bearer {token}",
                    "Idempotency-Key": f"e{i}-{uuid.uuid4().hex[:6]}",
                }
                got = client.post(f"/api/loans/{loan}/repayments", json={"amount": "1.00"}, headers=headers)
                if got.status_code != 201:
                    raise SystemExit(f"repayment refused: {got.status_code} {got.text}")

            print(f"load average before: {load_average()}")
            measure("service (journey.repay + commit)", args.payments, service, counted)
            measure("endpoint (TestClient POST)", args.payments, endpoint, counted)
            print(f"load average after: {load_average()}")
            with factory() as s:
                problems = ledger.check(s)
            print("ledger check:", problems or "ok")
        app.state.engine.dispose()
    finally:
        drop_database(name)


if __name__ == "__main__":
    main()
