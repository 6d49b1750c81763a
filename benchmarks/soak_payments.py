"""Bounded soak with faults: mixed traffic against the real server on PostgreSQL, the server SIGKILLed and
PostgreSQL's connections cut (or the cluster restarted) mid-run, clients retrying with the same keys; then
proof that no payment was lost or doubled and that the ledger checks clean.

    .venv/bin/python benchmarks/soak_payments.py [--seconds 60] [--clients 8] [--kills 2]
        [--pg-fault terminate|restart|none]

* A fresh PostgreSQL database, the test scorecard active, ``xiaodai serve`` in a subprocess (business date
  fixed), one borrower with a signed loan per client.
* Each client loops: a repayment of 0.01–9.99 CNY under a fresh Idempotency-Key (60 %), a read of its loan
  (25 %), a new application under a fresh key (15 %). A request that gets no answer, a 5xx or a connection
  error is sent again with the SAME key and body until it gets a definitive answer (2xx or 4xx).
* Faults, spread over the run: ``--kills`` times the server is killed with SIGKILL and started again;
  once, PostgreSQL fails under it: ``terminate`` (default) ends every backend connected to the soak
  database (``pg_terminate_backend``: what the server sees when PostgreSQL restarts, without disturbing
  other databases on the cluster), ``restart`` restarts the cluster (``pg_ctlcluster … restart``: affects
  everyone using it), ``none`` skips it.
* Afterwards: every repayment answered 2xx is in the journal exactly once (a payment of exactly the payoff
  settles the loan: its prepayment entry is that payment's), under its key, with the entry id
  and amount the client was told; every repayment in the journal belongs to a key a client sent and was
  answered 2xx (none posted behind a client's back); no key answered 4xx posted anything; each loan's
  ``paid_total`` equals the sum of its 2xx payments; ``xiaodai ledger check`` and ``xiaodai audit verify``
  exit 0.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_http import APPLY, borrower, free_port, prepare, scratch_database  # noqa: E402
from support.databases import admin  # noqa: E402
from xiaodai.db.session import make_engine  # noqa: E402

BUSINESS_DATE = "2026-01-10"
ZERO_EXPECTED = (
    "lost",
    "doubled",
    "mismatched",
    "posted_without_2xx",
    "refused_but_posted",
    "loans_with_wrong_paid_total",
    "ledger_check_exit",
    "audit_verify_exit",
)


@dataclass
class Tally:
    """What the clients were told, by idempotency key, and how hard it was to get told."""

    paid: dict[str, tuple[int, int, int]] = field(default_factory=dict)  # key -> (loan, fen, entry id)
    refused: dict[str, int] = field(default_factory=dict)  # key -> status (4xx)
    requests: Counter[str] = field(default_factory=Counter)
    retries: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)


class Server:
    def __init__(self, url: str, folder: Path) -> None:
        self.url, self.folder, self.port = url, folder, free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self) -> None:
        env = {
            **os.environ,
            "XIAODAI_DATABASE_URL": self.url,
            "XIAODAI_BUSINESS_DATE": BUSINESS_DATE,
            "XIAODAI_SECRET_KEY": "soak",
            "XIAODAI_MODEL_DIR": str(self.folder / "models"),
        }
        command = [sys.executable, "-m", "xiaodai.cli.main", "serve", "--port", str(self.port)]
        log = (self.folder / f"server-{self.starts}.log").open("wb")
        self.proc = subprocess.Popen(command, env=env, cwd=self.folder, stdout=log, stderr=log)
        self.starts += 1
        for _ in range(300):
            try:
                httpx.get(f"{self.base}/", timeout=1)
                return
            except httpx.HTTPError:
                time.sleep(0.05)
        raise RuntimeError("server did not start")

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(30)


def _send(client: httpx.Client, tally: Tally, kind: str, method: str, url: str, **kw: Any) -> httpx.Response:
    """Until a definitive answer: the same request (same key, same body) again after any failure."""
    attempt = 0
    while True:
        with tally.lock:
            tally.requests[kind] += 1
            if attempt:
                tally.retries[kind] += 1
        try:
            answer = client.request(method, url, **kw)
            if answer.status_code < 500:
                return answer
        except httpx.HTTPError:
            pass
        attempt += 1
        time.sleep(min(0.05 * attempt, 1.0))


@dataclass(frozen=True)
class Client:
    base: str
    headers: dict[str, str]
    loan_id: int
    seed: int


def client_loop(me: Client, stop: float, tally: Tally) -> None:
    base, headers, loan_id = me.base, me.headers, me.loan_id
    rng = random.Random(me.seed)
    with httpx.Client(base_url=base, timeout=10) as client:
        while time.monotonic() < stop:
            roll = rng.random()
            if roll < 0.60:
                key, fen = uuid.uuid4().hex, rng.randint(1, 999)
                body = {"amount": f"{fen // 100}.{fen % 100:02d}"}
                answer = _send(
                    client,
                    tally,
                    "repay",
                    "POST",
                    f"/api/loans/{loan_id}/repayments",
                    json=body,
                    headers={**headers, "Idempotency-Key": key},
                )
                with tally.lock:
                    if answer.status_code == 201:
                        tally.paid[key] = (loan_id, fen, int(answer.json()["entry_id"]))
                        tally.requests["repay answered as a replay"] += bool(answer.json()["replayed"])
                    else:
                        tally.refused[key] = answer.status_code
            elif roll < 0.85:
                _send(client, tally, "read", "GET", f"/api/loans/{loan_id}", headers=headers)
            else:
                key = uuid.uuid4().hex
                _send(
                    client,
                    tally,
                    "apply",
                    "POST",
                    "/api/applications",
                    json=APPLY,
                    headers={**headers, "Idempotency-Key": key},
                )


def pg_fault(kind: str, database: str) -> None:
    if kind == "terminate":
        admin(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{database}'")
    elif kind == "restart":
        subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", "15", "main", "restart"], check=True)


def verify(url: str, tally: Tally, users: dict[int, int]) -> dict[str, Any]:
    engine = make_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT e.id, e.idempotency_key, e.loan_id, p.amount_fen FROM journal_entries e "
                "JOIN postings p ON p.entry_id = e.id AND p.account = 'assets:cash:settlement' "
                "WHERE e.event IN ('repayment', 'prepayment')"
            )
        ).all()
        paid_total = dict(conn.execute(text("SELECT id, paid_total_fen FROM loans")).all())
    engine.dispose()
    return judge(rows, paid_total, tally, users)


def judge(
    rows: Sequence[Sequence[Any]], paid_total: dict[int, int], tally: Tally, users: dict[int, int]
) -> dict[str, Any]:
    """The verdict from the journal's payments (entry id, its key, loan id, cash amount), each loan's paid
    total, what the clients were answered and each loan's borrower id."""
    # a repayment's entry is keyed ``repay:u<user>:<key>``; a payment of exactly the payoff settles the loan
    # as a prepayment, keyed ``prepay:u<user>:<key>``: both are the payment answered under ``<key>``
    journal: dict[str, list[tuple[int, int, int]]] = {}
    settled = 0
    for entry_id, key, loan_id, fen in rows:
        kind, _, held = key.partition(":")
        settled += kind == "prepay"
        journal.setdefault(f"repay:{held}", []).append((int(entry_id), int(loan_id), int(fen)))
    lost = doubled = mismatched = 0
    for key, (loan_id, fen, entry_id) in tally.paid.items():
        found = journal.get(f"repay:u{users[loan_id]}:{key}", [])
        lost += not found
        doubled += len(found) > 1
        mismatched += bool(found) and found[0] != (entry_id, loan_id, fen)
    told = {f"repay:u{users[loan]}:{key}" for key, (loan, _, _) in tally.paid.items()}
    unanswered = [key for key in journal if key not in told]
    refused_posted = [k for k in tally.refused if any(j.endswith(f":{k}") for j in journal)]
    expected: Counter[int] = Counter()
    for loan_id, fen, _ in tally.paid.values():
        expected[loan_id] += fen
    totals_off = [loan for loan in users if paid_total[loan] != expected[loan]]
    return {
        "payments_2xx": len(tally.paid),
        "journal_payments": len(rows),
        "settled_by_the_payment": settled,
        "lost": lost,
        "doubled": doubled,
        "mismatched": mismatched,
        "posted_without_2xx": len(unanswered),
        "refused_but_posted": len(refused_posted),
        "loans_with_wrong_paid_total": len(totals_off),
    }


def run_cli(url: str, *args: str) -> int:
    env = {**os.environ, "XIAODAI_DATABASE_URL": url}
    command = [sys.executable, "-m", "xiaodai.cli.main", *args]
    done = subprocess.run(command, env=env, capture_output=True, check=False)
    return done.returncode


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--kills", type=int, default=2)
    parser.add_argument("--pg-fault", choices=["terminate", "restart", "none"], default="terminate")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="xiaodai-soak-"))
    database, url = scratch_database("xiaodai_soak")
    prepare(url, folder)
    server = Server(url, folder)
    tally = Tally()
    try:
        server.start()
        users: dict[int, int] = {}
        logins = []
        with httpx.Client(base_url=server.base, timeout=30) as client:
            for n in range(args.clients):
                token, loan_id = borrower(server.base, url, n)
                headers = {"Authorization": f"Bearer {token}"}
                users[loan_id] = int(client.get("/api/auth/me", headers=headers).json()["id"])
                logins.append((headers, loan_id))
        began = time.monotonic()
        stop = began + args.seconds
        threads = [
            threading.Thread(target=client_loop, args=(Client(server.base, h, loan, n), stop, tally))
            for n, (h, loan) in enumerate(logins)
        ]
        for t in threads:
            t.start()
        faults = [("kill", k) for k in range(args.kills)] + ([("pg", 0)] if args.pg_fault != "none" else [])
        spacing = args.seconds / (len(faults) + 1)
        downtime = 0.0
        for n, (kind, _) in enumerate(faults, start=1):
            time.sleep(max(0.0, began + n * spacing - time.monotonic()))
            if kind == "kill":
                server.kill()
                down = time.monotonic()
                time.sleep(0.5)
                server.start()
                downtime += time.monotonic() - down
                print(f"  t={time.monotonic() - began:5.1f}s  server SIGKILLed and started again")
            else:
                pg_fault(args.pg_fault, database)
                print(f"  t={time.monotonic() - began:5.1f}s  PostgreSQL fault: {args.pg_fault}")
        for t in threads:
            t.join()
        elapsed = time.monotonic() - began
        server.stop()
        result = verify(url, tally, users)
        result["ledger_check_exit"] = run_cli(url, "ledger", "check")
        result["audit_verify_exit"] = run_cli(url, "audit", "verify")
        print(
            f"{elapsed:.1f} s · {args.clients} clients · server starts {server.starts} "
            f"(SIGKILL {args.kills}, down {downtime:.1f} s) · PostgreSQL fault: {args.pg_fault}"
        )
        print("requests " + ", ".join(f"{k} {v}" for k, v in sorted(tally.requests.items())))
        print("retried  " + ", ".join(f"{k} {v}" for k, v in sorted(tally.retries.items())))
        for name, value in result.items():
            print(f"  {name:<30} {value}")
        bad = [
            k
            for k in ("lost", "doubled", "mismatched", "posted_without_2xx", "refused_but_posted")
            if result[k]
        ]
        bad += [
            k for k in ("loans_with_wrong_paid_total", "ledger_check_exit", "audit_verify_exit") if result[k]
        ]
        print("RESULT: " + ("FAIL " + ", ".join(bad) if bad else "0 lost, 0 doubled, ledger check clean"))
        if bad:
            raise SystemExit(1)
    finally:
        server.stop()
        admin(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
