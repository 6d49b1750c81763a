"""HTTP load on loopback: the decision + offer endpoint and the repayment endpoint, SQLite and PostgreSQL.

    .venv/bin/python benchmarks/bench_http.py [--seconds 30] [--workers 8] [--backend sqlite|postgresql|both]

For each backend: a fresh database, the hand-made test scorecard registered and active, one uvicorn worker
serving the app (`xiaodai serve` in a subprocess), borrowers with bearer tokens. Load comes from threads
with keep-alive httpx clients in this process (on the same 2 cores as the server, so the figures are a
floor, not a ceiling). Each request is timed individually; we report requests/s, p50 and p99.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from support.databases import admin, pg_url  # noqa: E402
from support.models import write_artifact  # noqa: E402
from xiaodai.db.migrate import upgrade  # noqa: E402
from xiaodai.db.session import make_engine, session_factory  # noqa: E402
from xiaodai.underwriting import service as underwriting  # noqa: E402

APPLY = {
    "applicant": {
        "age": 34,
        "monthly_income": "9000",
        "monthly_debt_payments": "500",
        "employment_type": "employed",
        "employment_tenure_years": 8,
        "housing": "owner",
        "dependants": 1,
        "purpose": "consumption",
    },  # only stated values: platform and bureau values are looked up (a worker's 6th application in
    # 30 days is declined KO_VELOCITY, as it would be for a real applicant)
    "request": {"amount": "10000", "term": 12},
    "consent_credit_check": True,
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def prepare(backend: str, folder: Path) -> tuple[str, str]:
    if backend == "sqlite":
        url = f"sqlite:///{folder}/bench.db"
        cleanup = ""
    else:
        name = f"xiaodai_bench_http_{uuid.uuid4().hex[:8]}"
        admin(f'CREATE DATABASE "{name}"')
        url, cleanup = pg_url(name), name
    upgrade(url)
    os.environ["XIAODAI_MODEL_DIR"] = str(folder / "models")
    engine = make_engine(url)
    with session_factory(engine)() as s, s.begin():
        underwriting.register_model(s, artifact=write_artifact(folder / "artifact"), activate=True)
    engine.dispose()
    return url, cleanup


def serve(url: str, port: int, folder: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "XIAODAI_DATABASE_URL": url,
        "XIAODAI_BUSINESS_DATE": "2026-01-10",
        "XIAODAI_SECRET_KEY": "bench",
        "XIAODAI_MODEL_DIR": str(folder / "models"),
    }
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            "xiaodai.api.app:create_app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        env=env,
        cwd=folder,
    )
    for _ in range(100):
        try:
            httpx.get(f"http://127.0.0.1:{port}/", timeout=1)
            return proc
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError("server did not start")


def borrower(base: str, n: int) -> dict[str, str]:
    email = f"bench{n}-{uuid.uuid4().hex[:6]}@example.com"
    httpx.post(
        f"{base}/api/auth/signup", json={"email": email, "name": "压测", "password": "correct horse 1"}
    )
    token = httpx.post(f"{base}/api/auth/token", json={"email": email, "password": "correct horse 1"}).json()[
        "token"
    ]
    return {"Authorization": f"Bearer {token}"}


def signed_loan(client: httpx.Client, headers: dict[str, str]) -> int:
    app = client.post(
        "/api/applications", json=APPLY, headers={**headers, "Idempotency-Key": uuid.uuid4().hex}
    )
    app_id = app.json()["application_id"]
    kfs = client.get(f"/api/applications/{app_id}/kfs", headers=headers).json()
    return int(
        client.post(
            f"/api/applications/{app_id}/sign", json={"kfs_sha256": kfs["sha256"]}, headers=headers
        ).json()["loan_id"]
    )


def load(base: str, seconds: float, workers: int, kind: str) -> dict[str, Any]:
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    users = [borrower(base, n) for n in range(workers)]
    loans: list[int] = []
    if kind == "repay":
        with httpx.Client(base_url=base, timeout=30) as client:
            loans = [signed_loan(client, users[n]) for n in range(workers)]
    stop = time.perf_counter() + seconds

    def worker(n: int) -> None:
        nonlocal errors
        mine: list[float] = []
        bad = 0
        with httpx.Client(base_url=base, timeout=30) as client:
            while time.perf_counter() < stop:
                key = uuid.uuid4().hex
                started = time.perf_counter()
                try:
                    if kind == "apply":
                        r = client.post(
                            "/api/applications", json=APPLY, headers={**users[n], "Idempotency-Key": key}
                        )
                    else:
                        r = client.post(
                            f"/api/loans/{loans[n]}/repayments",
                            json={"amount": "1.00"},
                            headers={**users[n], "Idempotency-Key": key},
                        )
                    bad += r.status_code >= 400
                except httpx.HTTPError:
                    bad += 1
                mine.append(time.perf_counter() - started)
        with lock:
            latencies.extend(mine)
            errors += bad

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(workers)]
    began = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - began
    latencies.sort()
    p99 = latencies[int(0.99 * (len(latencies) - 1))]
    return {
        "requests": len(latencies),
        "errors": errors,
        "rps": len(latencies) / elapsed,
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": p99 * 1000,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    args = parser.parse_args()
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    print(
        f"python {sys.version.split()[0]} · cpus {os.cpu_count()} · {args.workers} client threads · "
        f"{args.seconds:.0f} s per run · server: 1 uvicorn worker"
    )
    print(
        f"{'backend':<11} {'endpoint':<36} {'requests':>8} {'errors':>6} {'req/s':>7} "
        f"{'p50 ms':>7} {'p99 ms':>7}"
    )
    for backend in backends:
        folder = Path(tempfile.mkdtemp(prefix="xiaodai-http-"))
        url, cleanup = prepare(backend, folder)
        port = free_port()
        proc = serve(url, port, folder)
        try:
            base = f"http://127.0.0.1:{port}"
            for kind, label in (
                ("apply", "POST /api/applications (decide+offer)"),
                ("repay", "POST /api/loans/{id}/repayments"),
            ):
                r = load(base, args.seconds, args.workers, kind)
                print(
                    f"{backend:<11} {label:<36} {r['requests']:>8} {r['errors']:>6} {r['rps']:>7.1f} "
                    f"{r['p50_ms']:>7.1f} {r['p99_ms']:>7.1f}"
                )
        finally:
            proc.terminate()
            proc.wait()
            if cleanup:
                admin(f'DROP DATABASE IF EXISTS "{cleanup}" WITH (FORCE)')
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
