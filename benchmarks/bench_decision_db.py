"""A credit decision with its feature assembly from the database, in-process (goal: p99 ≤ 5 ms on PostgreSQL).

    .venv/bin/python benchmarks/bench_decision_db.py [--backend postgresql|sqlite|both] [--decisions 400]

A fresh database per backend (migrated), the hand-made test scorecard active, ``--users`` borrowers with the
credit-check consent, a third of them with a disbursed loan of their own (instalments in the database).
Each timed call is one transaction, as one API request: ``underwriting.service.decide_and_record`` for a new
application — validation of the stated values, the platform features (loans, instalments, applications,
complaints, loan events, blocklist), one sandbox credit-report pull encrypted with AES-GCM and recorded,
the audit event, the pure decision and its record — and the commit. Also timed alone:
``features.platform.platform_features`` (read-only). Warm-up calls are not counted.

Also printed per decision: this process's CPU (``time.process_time``) and, when PostgreSQL runs on this
machine, the CPU time of the PostgreSQL backends serving the engine's connections (``/proc/<pid>/schedstat``,
nanoseconds on a CPU; read before and after each decision, outside the timed part): wall time beyond the
two is waiting (round trips, the WAL flush, other processes). Both are far less sensitive to the machine's
load than the wall time. ``--gc-tuned`` applies the serving processes' garbage-collector settings
(``api.gc_tuning.tune_for_serving``, as every uvicorn worker does after start-up) once the setup is done;
without it this process keeps CPython's defaults.
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import sys
import tempfile
import time
import uuid
from datetime import date
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "src"))

from sqlalchemy import event, text  # noqa: E402

from support.databases import admin, pg_url  # noqa: E402
from support.models import applicant, application, write_artifact  # noqa: E402
from xiaodai.api.gc_tuning import tune_for_serving  # noqa: E402
from xiaodai.db.migrate import upgrade  # noqa: E402
from xiaodai.db.session import make_engine, session_factory  # noqa: E402
from xiaodai.db.tables import LoanRow  # noqa: E402
from xiaodai.features.platform import platform_features  # noqa: E402
from xiaodai.pricing.caps import default_cap_book  # noqa: E402
from xiaodai.pricing.schedule import LoanTerms, Method  # noqa: E402
from xiaodai.servicing import service as servicing  # noqa: E402
from xiaodai.underwriting import service as underwriting  # noqa: E402

AS_OF = date(2026, 6, 1)
GOAL_P99_MS = 5.0


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * (len(ordered) - 1)))]


def backend_cpu_ns(pids: set[int]) -> int | None:
    """CPU time of the PostgreSQL backends ``pids`` (ns), when they run on this machine (Linux); None
    without any (SQLite)."""
    if not pids:
        return None
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/schedstat", encoding="ascii") as stat:
                total += int(stat.read().split()[0])
        except (OSError, ValueError, IndexError):
            return None
    return total


def run(backend: str, folder: Path, users: int, decisions: int, gc_tuned: bool) -> float:
    if backend == "sqlite":
        url, cleanup = f"sqlite:///{folder}/bench.db", None
    else:
        name = f"xiaodai_bench_dec_{uuid.uuid4().hex[:8]}"
        admin(f'CREATE DATABASE "{name}"')
        url, cleanup = pg_url(name), name
    try:
        upgrade(url)
        engine = make_engine(url)
        backends: set[int] = set()
        if backend == "postgresql":
            event.listen(engine, "connect", lambda dbapi, _record: backends.add(dbapi.info.backend_pid))
        factory = session_factory(engine)
        with factory() as s, s.begin():
            underwriting.register_model(
                s, artifact=write_artifact(folder / f"artifact-{backend}"), activate=True
            )
            ids = [applicant(s, f"bench{n}@example.com") for n in range(users)]
        book = default_cap_book()
        terms = LoanTerms(
            principal=Decimal(5000),
            term=12,
            method=Method.EQUAL_INSTALLMENT,
            annual_rate=Decimal("0.15"),
            start_on=date(2026, 1, 10),
        )
        for user_id in ids[::3]:
            with factory() as s, s.begin():
                loan = servicing.create_loan(
                    s, terms=terms, product="standard", config=servicing.ServicingConfig(), cap_book=book
                )
                loan.borrower_id = user_id
                loan_id = loan.id
            with factory() as s, s.begin():
                servicing.disburse(s, loan_id=loan_id, on=date(2026, 1, 10), idempotency_key=f"d{loan_id}")
        with factory() as s:
            assert s.query(LoanRow).count() == len(ids[::3])
        warmup = 20
        assemble_ms: list[float] = []
        decide_ms: list[float] = []
        statements: list[int] = [0]

        def count(*_: object) -> None:
            statements[0] += 1

        per_decision: list[int] = []
        cpu_ms: list[float] = []
        server_ms: list[float] = []
        anchor_ms: list[float] = []
        if gc_tuned:
            tune_for_serving()
        for n in range(decisions + warmup):
            user_id = ids[n % len(ids)]
            with factory() as s:
                started = time.perf_counter()
                platform_features(s, user_id=user_id, as_of=AS_OF)
                elapsed = (time.perf_counter() - started) * 1000
            if n >= warmup:
                assemble_ms.append(elapsed)
            body = application(f"BENCH-{backend}-{n}", user_id, as_of=AS_OF.isoformat())
            statements[0] = 0
            event.listen(engine, "before_cursor_execute", count)
            server = backend_cpu_ns(backends)
            started, cpu = time.perf_counter(), time.process_time()
            with factory() as s, s.begin():
                underwriting.decide_and_record(s, application_json=body)
            elapsed, cpu = (time.perf_counter() - started) * 1000, (time.process_time() - cpu) * 1000
            server_after = backend_cpu_ns(backends)
            event.remove(engine, "before_cursor_execute", count)
            started = time.perf_counter()
            with factory() as s, s.begin():  # the anchor: one round trip and a commit, same connection pool
                s.execute(text("SELECT 1"))
            anchor = (time.perf_counter() - started) * 1000
            if n >= warmup:
                decide_ms.append(elapsed)
                per_decision.append(statements[0])
                cpu_ms.append(cpu)
                anchor_ms.append(anchor)
                if server is not None and server_after is not None:
                    server_ms.append((server_after - server) / 1e6)
        engine.dispose()
    finally:
        if cleanup:
            admin(f'DROP DATABASE IF EXISTS "{cleanup}" WITH (FORCE)')
    for label, values in (
        ("platform_features()", assemble_ms),
        ("decide_and_record() + commit", decide_ms),
        ("anchor: SELECT 1 + commit", anchor_ms),
        ("decision: this process's CPU", cpu_ms),
        *((("decision: PostgreSQL backend CPU", server_ms),) if server_ms else ()),
    ):
        print(
            f"  {backend:10} {label:36} p50 {statistics.median(values):6.2f} ms · "
            f"p99 {percentile(values, 0.99):6.2f} ms · max {max(values):6.2f} ms ({len(values)} calls)"
        )
    ratio = statistics.median(decide_ms) / statistics.median(anchor_ms)
    print(f"  {backend:10} decision p50 / anchor p50: {ratio:.1f}×")
    print(
        f"  {backend:10} statements per decision (COMMIT not counted): "
        f"min {min(per_decision)} · max {max(per_decision)} · mean {statistics.mean(per_decision):.2f}"
    )
    print(
        f"  {backend:10} garbage collector: "
        + ("the serving processes' settings (api.gc_tuning)" if gc_tuned else "CPython's defaults")
        + f", thresholds {gc.get_threshold()}"
    )
    return percentile(decide_ms, 0.99)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--backend", choices=("postgresql", "sqlite", "both"), default="both")
    parser.add_argument("--users", type=int, default=60)
    parser.add_argument("--decisions", type=int, default=400)
    parser.add_argument(
        "--gc-tuned", action="store_true", help="apply api.gc_tuning.tune_for_serving after the setup"
    )
    args = parser.parse_args()
    backends = ("postgresql", "sqlite") if args.backend == "both" else (args.backend,)
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["XIAODAI_MODEL_DIR"] = str(Path(tmp) / "models")
        os.environ["XIAODAI_KEYRING_FILE"] = str(Path(tmp) / "keyring.json")
        for backend in backends:
            results[backend] = run(backend, Path(tmp), args.users, args.decisions, args.gc_tuned)
    if "postgresql" in results:
        ok = results["postgresql"] <= GOAL_P99_MS
        print(f"goal p99 ≤ {GOAL_P99_MS} ms on PostgreSQL: {'met' if ok else 'NOT met'}")
        return 0 if ok else 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
