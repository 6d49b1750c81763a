"""HTTP throughput on PostgreSQL, load from OUTSIDE the server process (wrk), beside two ceilings.

    .venv/bin/python benchmarks/bench_http.py [--seconds 15] [--connections 16] [--workers 2] [--users 256]
                                              [--rounds 3] [--only loans,loan | --endpoints repay ...]
                                              [--no-ceilings]

Each round measures, one after the other on the same machine (the servers stay up across rounds; the
medians over the rounds are printed at the end, each ratio taken against its own round's ceiling):
1. ceiling: a bare FastAPI endpoint (``benchmarks/bare_app.py``, no middleware, no database) served by
   uvicorn with the same worker count;
2. ceiling: ``pgbench`` TPC-B (``pgbench -i`` on a scratch database, then ``pgbench -c 8 -j 2 -T <s>``);
3. xiaodai: ``xiaodai serve --workers N`` on a fresh migrated PostgreSQL database with the hand-made test
   scorecard active and ``--users`` borrowers, each with a bearer token and one signed loan (made over
   HTTP). wrk (``benchmarks/wrk/xiaodai.lua``) drives: GET /api/loans, GET /api/loans/{id},
   POST /api/loans/{id}/repayments (1.00 CNY, a fresh Idempotency-Key each) and POST /api/applications
   (decision and offer, a fresh Idempotency-Key each). Each of these measured phases starts with a
   ``CHECKPOINT`` (the bench connects as ``postgres``, a superuser; it flushes the whole cluster's dirty
   buffers), so every phase starts from the same state: none pays for the WAL and dirty pages left by the
   heavy writers before it (``pgbench -i`` and its run, the applications, the repayments); on a server
   running with autovacuum off (``SHOW autovacuum``), a ``VACUUM (ANALYZE)`` of the bench's database first,
   what autovacuum would have done since the phase before (``autovacuum_off``). After the
   repayments ``xiaodai ledger check`` must pass. ``--probe`` also times each repayment's parts inside the
   server (``benchmarks/probe``) and samples what PostgreSQL's backends wait on (``pg_stat_activity``; alone:
   ``--waits``), to
   attribute the tail.

After each write's wrk phase the write is offered open-loop (``benchmarks/open_loop.py``) at its goal's rate
and, when the round's ceilings show a machine slower than the goals' own (``GOAL_CEILINGS``), first at that
rate scaled to it (``machine_scale``); each goal is judged as set and, on a slower machine, at its scale.

It prints req/s, p50/p99 (wrk's latency histogram), errors (non-2xx plus socket errors), the server
processes' CPU time per request (from /proc: the least load-dependent figure) and each figure's
ratio to the ceilings, and the load average before and after: the machine is shared, so compare ratios.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import psycopg

ROOT = Path(__file__).resolve().parents[1]
WRK_DIR = ROOT / "benchmarks" / "wrk"
PROBE = ROOT / "benchmarks" / "probe"
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "benchmarks"))

from support.databases import admin, pg_url  # noqa: E402
from support.models import write_artifact  # noqa: E402
from xiaodai.accounts import service as accounts  # noqa: E402
from xiaodai.db.migrate import upgrade  # noqa: E402
from xiaodai.db.session import make_engine, session_factory  # noqa: E402
from xiaodai.underwriting import service as underwriting  # noqa: E402

BIN = Path(sys.executable).parent
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
PASSWORD = "correct horse 1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"


def scratch_database(prefix: str) -> tuple[str, str]:
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    admin(f'CREATE DATABASE "{name}"')
    return name, pg_url(name)


def drop_database(name: str) -> None:
    admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def prepare(url: str, folder: Path) -> None:
    upgrade(url)
    engine = make_engine(url)
    with session_factory(engine)() as s, s.begin():
        underwriting.register_model(s, artifact=write_artifact(folder / "artifact"), activate=True)
    engine.dispose()


def wait_until_up(url: str, proc: subprocess.Popen[bytes], seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited with {proc.returncode}")
        try:
            if httpx.get(url, timeout=2).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"the server did not answer {url}")


def start(cmd: list[str], env: dict[str, str], folder: Path, log_name: str) -> subprocess.Popen[bytes]:
    log = (folder / log_name).open("wb")
    return subprocess.Popen(cmd, env=env, cwd=folder, stdout=log, stderr=subprocess.STDOUT)


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def process_tree_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process and its live descendants (``/proc``): the server's own cost,
    which, per request, depends far less on the other work on a shared machine than req/s does."""
    tick = os.sysconf("SC_CLK_TCK")
    total, todo = 0.0, [pid]
    while todo:
        current = todo.pop()
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
            todo += [int(c) for c in Path(f"/proc/{current}/task/{current}/children").read_text().split()]
        except (OSError, IndexError, ValueError):
            continue
    return total


def wrk(url: str, script: str, *, seconds: float, connections: int, env: dict[str, str]) -> dict[str, Any]:
    threads = min(2, connections)
    cmd = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds:.0f}s", "--timeout", "10s"]
    raw = result_line(
        [*cmd, "-s", script, url], "WRK_RESULT", {**os.environ, "WRK_THREADS": str(threads), **env}
    )
    errors = raw["non_2xx"] + raw["connect"] + raw["read"] + raw["write"] + raw["timeout"]
    return {
        "requests": raw["requests"],
        "errors": errors,
        "rps": raw["requests"] / (raw["duration_us"] / 1e6),
        "p50_ms": raw["p50_us"] / 1000,
        "p99_ms": raw["p99_us"] / 1000,
    }


def open_loop(url: str, users: Path, *, kind: str, rate: float, seconds: float, run: str) -> dict[str, Any]:
    """``benchmarks/open_loop.py`` in its own process: ``rate`` requests a second STARTED whatever the
    server does, latency from each one's due time (no coordinated omission): the goals' own question."""
    command = [sys.executable, str(ROOT / "benchmarks" / "open_loop.py"), "--url", url, "--users", str(users)]
    command += ["--kind", kind, "--rate", str(rate), "--seconds", str(seconds), "--run", run]
    return result_line(command, "OPEN_LOOP", None)


def result_line(command: list[str], tag: str, env: dict[str, str] | None) -> dict[str, Any]:
    """Run a load generator; the JSON object it printed on its ``<tag> {…}`` line."""
    out = subprocess.run(command, env=env, capture_output=True, text=True, check=True).stdout
    found = re.search(rf"^{tag} (\{{.*\}})$", out, re.MULTILINE)
    if found is None:
        raise RuntimeError(f"{command[0]} printed no {tag} line:\n{out}")
    return dict(json.loads(found.group(1)))


def start_bare(args: argparse.Namespace, folder: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    cmd = [str(BIN / "uvicorn"), "--factory", "bare_app:create_app", "--workers", str(args.workers)]
    cmd += ["--host", "127.0.0.1", "--port", str(port), "--log-level", "warning", "--no-access-log"]
    env = {**os.environ, "PYTHONPATH": f"{ROOT / 'benchmarks'}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    proc = start(cmd, env, folder, "bare.log")
    url = f"http://127.0.0.1:{port}/bare"
    wait_until_up(url, proc)
    wrk(url, str(WRK_DIR / "bare.lua"), seconds=2, connections=4, env={})  # warm up
    return proc, url


def bare_ceiling(args: argparse.Namespace, url: str) -> dict[str, Any]:
    return wrk(url, str(WRK_DIR / "bare.lua"), seconds=args.seconds, connections=args.connections, env={})


def pgbench_ceiling(args: argparse.Namespace) -> dict[str, Any]:
    name, _ = scratch_database("xiaodai_bench_pgbench")
    conn = ["-h", args.socket or "127.0.0.1", "-U", "postgres", name]
    try:
        subprocess.run(["pgbench", "-i", "-q", *conn], capture_output=True, check=True)
        out = subprocess.run(
            ["pgbench", "-c", "8", "-j", "2", "-T", f"{args.seconds:.0f}", *conn],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    finally:
        drop_database(name)
    tps = re.search(r"tps = ([\d.]+)", out)
    latency = re.search(r"latency average = ([\d.]+) ms", out)
    failed = re.search(r"number of failed transactions: (\d+)", out)
    return {
        "tps": float(tps.group(1)) if tps else float("nan"),
        "latency_ms": float(latency.group(1)) if latency else float("nan"),
        "failed": int(failed.group(1)) if failed else 0,
    }


def signed_in_token(client: httpx.Client, url: str, email: str) -> str:
    """A bearer token over HTTP; past the sign-in rate limit (20 a minute per client address, which stays
    on), the same ``accounts.sign_in`` and ``issue_token`` the endpoint calls, in this process, rather than
    minutes of waiting for hundreds of borrowers."""
    got = client.post("/api/auth/token", json={"email": email, "password": PASSWORD})
    if got.status_code != 429:
        got.raise_for_status()
        return str(got.json()["token"])
    engine = make_engine(url)
    try:
        with session_factory(engine)() as s, s.begin():
            now = datetime.now(tz=UTC)
            attempt = accounts.sign_in(s, email=email, password=PASSWORD, now=now, client="bench")
            if attempt.user is None:
                raise RuntimeError(f"sign-in refused for {email}: {attempt.reason}")
            return accounts.issue_token(s, user=attempt.user, now=now)
    finally:
        engine.dispose()


def borrower(base: str, url: str, n: int) -> tuple[str, int]:
    """One borrower made over HTTP, with a bearer token and one signed loan."""
    with httpx.Client(base_url=base, timeout=60) as client:
        email = f"bench{n}-{uuid.uuid4().hex[:6]}@example.com"
        client.post(
            "/api/auth/signup", json={"email": email, "name": "压测", "password": PASSWORD}
        ).raise_for_status()
        token = signed_in_token(client, url, email)
        headers = {"Authorization": f"Bearer {token}"}
        app = client.post("/api/applications", json=APPLY, headers={**headers, "Idempotency-Key": "seed"})
        app.raise_for_status()
        app_id = app.json()["application_id"]
        kfs = client.get(f"/api/applications/{app_id}/kfs", headers=headers)
        kfs.raise_for_status()
        signed = client.post(
            f"/api/applications/{app_id}/sign", json={"kfs_sha256": kfs.json()["sha256"]}, headers=headers
        )
        signed.raise_for_status()
        return token, int(signed.json()["loan_id"])


def borrowers(base: str, url: str, count: int) -> list[tuple[str, int]]:
    """``count`` borrowers, each with a bearer token and one signed loan (4 made at a time)."""
    with ThreadPoolExecutor(4) as pool:
        return list(pool.map(lambda n: borrower(base, url, n), range(count)))


def ledger_check(env: dict[str, str], folder: Path) -> str:
    out = subprocess.run(
        [str(BIN / "xiaodai"), "ledger", "check"],
        check=False,
        env=env,
        cwd=folder,
        capture_output=True,
        text=True,
    )
    last = (out.stdout.strip() or out.stderr.strip()).splitlines()
    return ("OK: " if out.returncode == 0 else "FAILED: ") + (last[-1] if last else "")


ENDPOINTS = (
    ("loans", "GET /api/loans (my loans)"),
    ("loan", "GET /api/loans/{id} (detail)"),
    ("repay", "POST /api/loans/{id}/repayments"),
    ("apply", "POST /api/applications (decide+offer)"),
)


class WaitSampler:
    """What the benchmark database's backends in a transaction wait on, from ``pg_stat_activity`` every
    ~10 ms while wrk runs (a read of the statistics view: no server setting touched): an active backend by
    its wait event (``CPU:-`` for none), one idle in its transaction as ``Client:idle in transaction`` —
    waiting for its client's next statement, holding its locks (how the audit chain's lock was found held
    by backends whose client had not sent the COMMIT yet: docs/BENCHMARKS.md, 2026-12-07)."""

    def __init__(self, database: str) -> None:
        self.database = database
        self.samples: dict[str, int] = {}
        self.polls = 0
        self.running = True
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        query = (
            "SELECT CASE WHEN state = 'active' THEN coalesce(wait_event_type, 'CPU') || ':'"
            " || coalesce(wait_event, '-') ELSE 'Client:' || state END FROM pg_stat_activity"
            " WHERE datname = %s AND state IN ('active', 'idle in transaction') AND pid <> pg_backend_pid()"
        )
        with psycopg.connect(pg_url(self.database), autocommit=True) as conn:
            while self.running:
                self.polls += 1
                for (what,) in conn.execute(query, (self.database,)).fetchall():
                    self.samples[what] = self.samples.get(what, 0) + 1
                time.sleep(0.01)

    def stop(self) -> str:
        self.running = False
        self.thread.join()
        top = sorted(self.samples.items(), key=lambda kv: -kv[1])[:6]
        means = ", ".join(f"{what} {count / max(self.polls, 1):.2f}" for what, count in top)
        return f"{self.polls} polls of pg_stat_activity, mean backends in a transaction by wait: {means}"


def autovacuum_off(database: str) -> bool:
    """True when the server runs without autovacuum (a test server's setting; PostgreSQL's default and any
    production server's is on). Then each measured phase starts after a ``VACUUM (ANALYZE)`` of the bench's
    database, what autovacuum (``autovacuum_naptime`` 1 min) would have done to the tables the previous phases
    wrote — without it the loans table carries every repayment's dead row version from round to round."""
    with psycopg.connect(pg_url(database), autocommit=True) as conn:
        row = conn.execute("SHOW autovacuum").fetchone()
    return row is not None and row[0] == "off"


def round_of_runs(
    args: argparse.Namespace, base: str, wrk_env: dict[str, str], bare_url: str, server: int
) -> dict[str, Any]:
    """One round: the two ceilings, then each xiaodai endpoint, back to back (so a burst of load elsewhere
    on the shared machine hits the ceilings and the endpoints of the same round alike)."""
    before = load_average()
    nan = float("nan")
    bare = (
        bare_ceiling(args, bare_url)
        if args.ceilings
        else {"rps": nan, "p50_ms": nan, "p99_ms": nan, "errors": 0}
    )
    pg = pgbench_ceiling(args) if args.ceilings else {"tps": nan, "latency_ms": nan, "failed": 0}
    scale = machine_scale(bare["rps"], pg["tps"])
    script = str(WRK_DIR / "xiaodai.lua")
    runs = []
    for kind, label in ENDPOINTS:
        if (args.only and kind not in args.only) or (args.endpoints and kind not in args.endpoints):
            continue
        kind_env = {**wrk_env, "WRK_KIND": kind, "WRK_RUN": uuid.uuid4().hex[:8]}
        if args.vacuum:  # the server's autovacuum is off: do what it would have done since the last phase
            with psycopg.connect(pg_url(args.vacuum), autocommit=True) as conn:
                conn.execute("VACUUM (ANALYZE)")
        admin("CHECKPOINT")  # every measured phase from the same state: no writer's dirty pages left to flush
        cpu = process_tree_cpu_seconds(server)
        sampler = WaitSampler(args.database) if args.probe or args.waits else None
        got = wrk(base, script, seconds=args.seconds, connections=args.connections, env=kind_env)
        if sampler is not None:
            got["waits"] = sampler.stop()
        got["cpu_ms"] = (process_tree_cpu_seconds(server) - cpu) * 1000 / max(got["requests"], 1)
        rate = GOAL_RATES.get(kind)
        if args.paced and rate is not None:  # the goal's own question: at its rate offered, what p99?
            # the scaled rate first: the goal's rate can be an overload here, whose aftermath (a backlog of
            # dead rows, a checkpoint due) would fall on the run after it
            for name, offered in (("paced_scaled", round(rate * scale)), ("paced", rate)):
                if name == "paced_scaled" and scale >= 1:
                    continue  # this machine is as fast as the goals' own: the goal's rate is its rate
                admin("CHECKPOINT")
                got[name] = open_loop(
                    base,
                    Path(wrk_env["WRK_USERS"]),
                    kind=kind,
                    rate=offered,
                    seconds=args.seconds,
                    run=uuid.uuid4().hex[:8],
                )
                got[name]["scale"] = scale
        runs.append((label, got))
    return {"before": before, "after": load_average(), "bare": bare, "pg": pg, "runs": runs}


def measure(args: argparse.Namespace, folder: Path) -> tuple[list[dict[str, Any]], str]:
    bare_proc, bare_url = start_bare(args, folder)
    name, url = scratch_database("xiaodai_bench_http")
    try:
        prepare(url, folder)
        args.vacuum = name if autovacuum_off(name) else None
        args.database = name  # (the wait sampler's, with --probe or --waits)
        port = free_port()
        if args.socket:  # the server (not the bench's own connections) over the Unix socket
            url = f"postgresql://postgres@/{name}?host={args.socket}"
        env = {
            **os.environ,
            "XIAODAI_DATABASE_URL": url,
            "XIAODAI_BUSINESS_DATE": "2026-01-10",
            "XIAODAI_SECRET_KEY": "bench",
            "XIAODAI_MODEL_DIR": str(folder / "models"),
        }
        if args.probe:  # benchmarks/probe/sitecustomize.py, imported by every server process
            (folder / "probe").mkdir()
            env["XIAODAI_PROBE_DIR"] = str(folder / "probe")
            env["PYTHONPATH"] = os.pathsep.join([str(PROBE), env.get("PYTHONPATH", "")])
        cmd = [str(BIN / "xiaodai"), "serve", "--workers", str(args.workers), "--port", str(port)]
        proc = start(cmd, env, folder, "xiaodai.log")
        try:
            base = f"http://127.0.0.1:{port}"
            wait_until_up(f"{base}/healthz", proc)
            users = folder / "users.txt"
            try:
                made = borrowers(base, url, args.users)
            except httpx.HTTPStatusError:  # the server's own account of it, before its folder is removed
                print((folder / "xiaodai.log").read_text(errors="replace")[-6000:], file=sys.stderr)
                raise
            users.write_text("".join(f"{t} {loan}\n" for t, loan in made))
            wrk_env = {"WRK_USERS": str(users)}
            script = str(WRK_DIR / "xiaodai.lua")
            warm = {**wrk_env, "WRK_KIND": "loans", "WRK_RUN": "warm"}
            wrk(base, script, seconds=2, connections=4, env=warm)  # warm up
            rounds = []
            for n in range(args.rounds):
                rounds.append(round_of_runs(args, base, wrk_env, bare_url, proc.pid))
                print(f"round {n + 1} of {args.rounds} done (load {rounds[-1]['after']})", file=sys.stderr)
        finally:
            stop(proc)
            if args.keep_log:
                shutil.copy(folder / "xiaodai.log", args.keep_log)
        if args.probe:
            for line in probe_summary(folder / "probe"):
                print(line, file=sys.stderr)
        return rounds, ledger_check(env, folder)
    finally:
        stop(bare_proc)
        drop_database(name)


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000 if ordered else float("nan")


def probe_summary(folder: Path) -> list[str]:
    """What the probe saw in the server processes: where the payments' time went, the slowest 1 % apart."""
    pay: list[list[float]] = []
    collections: list[list[float]] = []
    lag: list[float] = []
    for path in sorted(folder.glob("*.json")):
        data = json.loads(path.read_text())
        pay += data["pay"]
        collections += data["gc"]
        lag += [x[1] for x in data["lag"] if x[0] >= min((p[0] - p[1] for p in data["pay"]), default=0)]
    if not pay:
        return ["probe: no repayment seen"]
    # the wrk run's window (perf_counter is CLOCK_MONOTONIC: one clock for all the processes)
    first, last = min(p[0] - p[1] for p in pay), max(p[0] for p in pay)
    collections = [c for c in collections if first <= c[0] <= last]
    # each: (end, handler, queue, lock, work, loan, commit)
    handler = [p[1] for p in pay]
    cut = sorted(handler)[int(0.99 * len(handler))]
    slow = [p for p in pay if p[1] >= cut]
    lines = [f"probe: {len(pay)} repayments in the hot path"]
    parts = (("handler", 1), ("thread queue", 2), ("lock+claim", 3), ("thread work", 4), ("commit", 6))
    for name, i in parts:
        xs = [p[i] for p in pay]
        lines.append(
            f"  {name:<13} p50 {_pct(xs, 0.5):6.2f} p90 {_pct(xs, 0.9):6.2f} p99 {_pct(xs, 0.99):6.2f} "
            f"max {max(xs) * 1000:6.1f} ms"
        )
    loop = [p[1] - p[2] - p[4] for p in pay]
    lines.append(f"  {'loop (rest)':<13} p50 {_pct(loop, 0.5):6.2f} p99 {_pct(loop, 0.99):6.2f} ms")
    waited = [p[3] for p in pay if p[3] > 0.002]
    lines.append(
        f"  lock+claim over 2 ms: {len(waited) / len(pay):.1%} of payments "
        f"(their median {_pct(waited, 0.5):.1f} ms)"
    )

    def mean(i: int) -> float:
        return 1000 * sum(p[1] - p[2] - p[4] if i < 0 else p[i] for p in slow) / len(slow)

    lines.append(
        f"  slowest 1 % (handler >= {cut * 1000:.1f} ms, {len(slow)}): mean handler {mean(1):.1f} = queue "
        f"{mean(2):.1f} + work {mean(4):.1f} (of which lock+claim {mean(3):.1f}, commit {mean(6):.1f})"
        f" + loop {mean(-1):.1f} ms"
    )
    for generation in (0, 1, 2):
        pauses = [c[2] for c in collections if c[1] == generation]
        if pauses:
            lines.append(
                f"  gc gen{generation}: {len(pauses)} collections, max {max(pauses) * 1000:.1f} ms, "
                f"total {sum(pauses) * 1000:.0f} ms"
            )
    if lag:
        lines.append(
            f"  event loop late (5 ms timer): p50 {_pct(lag, 0.5):.2f} p99 {_pct(lag, 0.99):.2f} "
            f"max {max(lag) * 1000:.1f} ms; over 10 ms {sum(x > 0.01 for x in lag) / len(lag):.1%}"
        )
    return lines


def median(values: list[float]) -> float:
    return float(statistics.median(values))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--users",
        type=int,
        default=256,
        help="borrowers, one loan each (default 256: payments spread over many loans, as on a platform; "
        "--users 16 is the concentrated case, every loan with a payment in flight, queued on its row lock)",
    )
    parser.add_argument(
        "--rounds", type=int, default=3, help="rounds of (ceilings, endpoints); medians reported"
    )
    parser.add_argument(
        "--only",
        type=lambda text: {k.strip() for k in text.split(",") if k.strip()},
        default=None,
        help="endpoints to measure by kind (loans, loan, repay, apply; e.g. --only loans,loan); default all",
    )
    parser.add_argument(
        "--endpoints",
        nargs="+",
        choices=[kind for kind, _ in ENDPOINTS],
        help="measure only these endpoints (default: all four)",
    )
    parser.add_argument(
        "--probe",
        action="store_true",
        help="time each repayment's parts, collections and the event loop's lateness in the server "
        "(benchmarks/probe/sitecustomize.py) and print where the slowest 1%% of payments spent their time",
    )
    parser.add_argument(
        "--waits",
        action="store_true",
        help="sample what the database's backends in a transaction wait on during each endpoint "
        "(pg_stat_activity every ~10 ms: lock waits, backends idle in a transaction; --probe does it too)",
    )
    parser.add_argument(
        "--no-ceilings", dest="ceilings", action="store_false", help="skip bare FastAPI and pgbench"
    )
    parser.add_argument(
        "--socket",
        metavar="DIR",
        help="the server and pgbench connect to PostgreSQL over the Unix socket in DIR (e.g. "
        "/var/run/postgresql) instead of TCP to 127.0.0.1 (docs/BENCHMARKS.md: not shown to matter here)",
    )
    parser.add_argument("--keep-log", type=Path, help="copy the server's log here when it stops")
    parser.add_argument(
        "--no-paced",
        dest="paced",
        action="store_false",
        help="skip the open-loop phases (benchmarks/open_loop.py: repayments offered at 600/s and "
        "applications at 300/s, the goals' rates, and on a slower machine first at those rates scaled to it "
        "(machine_scale); latency from each request's due time)",
    )
    args = parser.parse_args()
    if args.only and not args.only <= {kind for kind, _ in ENDPOINTS}:
        parser.error(f"--only takes kinds among {', '.join(kind for kind, _ in ENDPOINTS)}")
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (apt-get install wrk)")
    folder = Path(tempfile.mkdtemp(prefix="xiaodai-http-"))
    try:
        rounds, ledger = measure(args, folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    print(
        f"python {sys.version.split()[0]} · cpus {os.cpu_count()} · wrk 2 threads, {args.connections} "
        f"connections, {args.seconds:.0f} s per endpoint · server: {args.workers} workers · PostgreSQL "
        f"({'Unix socket' if args.socket else 'TCP'}) · "
        f"{args.rounds} rounds"
    )
    header = (
        f"{'endpoint':<38} {'requests':>8} {'errors':>6} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>8} "
        f"{'/bare':>6} {'/tpcb':>6} {'cpu ms/req':>10}"
    )
    for n, r in enumerate(rounds, 1):
        bare, pg = r["bare"], r["pg"]
        print(f"\nround {n}: load average (1/5/15 min) before {r['before']} · after {r['after']}")
        print(
            f"ceiling bare FastAPI GET (uvicorn, {args.workers} workers): {bare['rps']:.0f} req/s, "
            f"p50 {bare['p50_ms']:.1f} ms, p99 {bare['p99_ms']:.1f} ms, errors {bare['errors']}"
        )
        print(
            f"ceiling pgbench TPC-B (-c 8 -j 2): {pg['tps']:.0f} tps, latency avg {pg['latency_ms']:.1f} ms, "
            f"failed {pg['failed']}"
        )
        print(header)
        for label, x in r["runs"]:
            if "waits" in x:
                print(f"{label}: {x['waits']}", file=sys.stderr)
            print(
                f"{label:<38} {x['requests']:>8} {x['errors']:>6} {x['rps']:>7.0f} {x['p50_ms']:>7.1f} "
                f"{x['p99_ms']:>8.1f} {x['rps'] / bare['rps']:>6.2f} {x['rps'] / pg['tps']:>6.2f} "
                f"{x['cpu_ms']:>10.2f}"
            )
            if "paced" in x:
                print(f"  {paced_line(x['paced'])}")
            if "paced_scaled" in x:
                print(
                    f"  scaled to this machine ({x['paced_scaled']['scale']:.2f}): "
                    f"{paced_line(x['paced_scaled'])}"
                )
    print(f"\nmedian of {len(rounds)} rounds (each ratio against the ceiling of its own round):")
    print(
        f"ceiling bare FastAPI: {median([r['bare']['rps'] for r in rounds]):.0f} req/s · pgbench TPC-B: "
        f"{median([r['pg']['tps'] for r in rounds]):.0f} tps"
    )
    print(
        f"{'endpoint':<38} {'errors':>6} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>8} {'/bare':>6} {'/tpcb':>6} "
        f"{'cpu ms/req':>10}"
    )
    for i, (label, _) in enumerate(rounds[0]["runs"]):
        xs = [r["runs"][i][1] for r in rounds]
        print(
            f"{label:<38} {sum(x['errors'] for x in xs):>6} {median([x['rps'] for x in xs]):>7.0f} "
            f"{median([x['p50_ms'] for x in xs]):>7.1f} {median([x['p99_ms'] for x in xs]):>8.1f} "
            f"{median([x['rps'] / r['bare']['rps'] for x, r in zip(xs, rounds, strict=True)]):>6.2f} "
            f"{median([x['rps'] / r['pg']['tps'] for x, r in zip(xs, rounds, strict=True)]):>6.2f} "
            f"{median([x['cpu_ms'] for x in xs]):>10.2f}"
        )
    for name, title in (
        ("paced", "at the goals' rates"),
        ("paced_scaled", "at the goals' rates scaled to this machine (GOAL_CEILINGS)"),
    ):
        paced = []
        for i, (label, _) in enumerate(rounds[0]["runs"]):
            xs = [r["runs"][i][1].get(name) for r in rounds]
            if all(xs):
                paced.append((label, xs))
        if paced:
            print(f"{title}, offered open-loop (benchmarks/open_loop.py), medians of the rounds:")
            for label, xs in paced:
                print(f"{label:<38} {paced_line(median_paced(xs))}")
    print(f"ledger check after the repayments: {ledger}")
    if args.ceilings:
        for line in goal_lines(rounds):
            print(line)


# Issue 14's goals, set when this machine's bare FastAPI endpoint answered 5,000-6,000 req/s and pgbench
# gave 3,100 TPC-B tps: (kind, req/s at least, p99 ms at most or None, the ceiling it compares with, and the
# goal as a share of that ceiling then — low and high end of the range the issue gave).
GOALS = (
    ("loans", 2000, 50.0, "bare", 2000 / 6000, 2000 / 5000),
    ("loan", 2000, 50.0, "bare", 2000 / 6000, 2000 / 5000),
    ("repay", 600, 50.0, "pg", 600 / 3100, 600 / 3100),
    ("apply", 300, None, "bare", 300 / 6000, 300 / 5000),
)
# The ceilings of the machine the goals were set on (the issue: bare FastAPI 5,000-6,000 req/s — 5,000, the
# stricter — and pgbench 3,100 tps). A round whose ceilings are lower ran on a slower machine (this one's
# speed has been seen to halve from one day to the next): the writes are ALSO offered at their goal's rate
# scaled to it, so that the goal can be judged as the share of the machine it was set as.
GOAL_CEILINGS = {"bare": 5000.0, "pg": 3100.0}


def machine_scale(bare_rps: float, pg_tps: float) -> float:
    """This round's machine against the goals': the LARGER of its two ceilings' ratios (the stricter: the
    higher rate offered), at most 1; 1 when no ceiling was measured (``--no-ceilings``)."""
    ratios = [
        x for x in (bare_rps / GOAL_CEILINGS["bare"], pg_tps / GOAL_CEILINGS["pg"]) if not math.isnan(x)
    ]
    return min(1.0, max(ratios)) if ratios else 1.0


# the writes are also offered at their goal's rate, open-loop (the reads' p99 at saturation is already far
# under 50 ms, and a Python client offering 2,000/s would take a good share of the machine's CPU)
GOAL_RATES = {kind: rate for kind, rate, *_ in GOALS if kind in ("repay", "apply")}


def median_paced(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The medians of open-loop runs, figure by figure (errors summed)."""
    keys = (
        "offered_rps",
        "answered_rps",
        "p50_ms",
        "p99_ms",
        "p999_ms",
        "max_ms",
        "client_late_p99_ms",
        "client_late_max_ms",
    )
    got: dict[str, Any] = {key: median([run[key] for run in runs]) for key in keys}
    if all("queued_p99_ms" in run for run in runs):
        got["queued_p99_ms"] = median([run["queued_p99_ms"] for run in runs])
    got["errors"] = sum(run["errors"] for run in runs)
    got["due"] = sum(run["due"] for run in runs)
    got["answered"] = sum(run["answered"] for run in runs)
    got["connections_used"] = max(run["connections_used"] for run in runs)
    got["client_cpu_s"] = median([run["client_cpu_s"] for run in runs])
    return got


def paced_line(x: dict[str, Any]) -> str:
    return (
        f"offered {x['offered_rps']:,.0f}/s (open loop): answered {x['answered']:,} of {x['due']:,}, "
        f"errors {x['errors']}, p50 {x['p50_ms']:.1f} p99 {x['p99_ms']:.1f} p99.9 {x['p999_ms']:.1f} "
        f"max {x['max_ms']:.1f} ms from the due time · {x['connections_used']} connections"
        + (f" (waited for one: p99 {x['queued_p99_ms']:.1f} ms)" if "queued_p99_ms" in x else "")
        + " · client late "
        f"p99 {x['client_late_p99_ms']:.1f} max {x.get('client_late_max_ms', float('nan')):.0f} ms, used "
        f"{x['client_cpu_s']:.1f} s CPU"
        + (f" · p99 by second {x['p99_by_second_ms']}" if "p99_by_second_ms" in x else "")
    )


def goal_lines(rounds: list[dict[str, Any]]) -> list[str]:
    """Each goal against the medians of the rounds: as set (req/s, p99) and as a share of the ceiling it
    was set against, measured in the same round (the machine's speed changes from one day to the next)."""
    lines = ["goals (issue 14), medians of the rounds:"]
    labels = dict(ENDPOINTS)
    for kind, rps_goal, p99_goal, ceiling, share_low, share_high in GOALS:
        picked = [
            (run, r) for r in rounds for label, run in r["runs"] if label == labels[kind] and run["requests"]
        ]
        if not picked:
            continue
        rps = median([run["rps"] for run, _ in picked])
        p99 = median([run["p99_ms"] for run, _ in picked])
        key = "rps" if ceiling == "bare" else "tps"
        share = median([run["rps"] / r[ceiling][key] for run, r in picked])
        wanted = f"≥ {rps_goal:,}/s" + ("" if p99_goal is None else f", p99 ≤ {p99_goal:.0f} ms")
        name = "bare FastAPI" if ceiling == "bare" else "pgbench TPC-B"
        then = f"{share_low:.2f}" if share_low == share_high else f"{share_low:.2f}-{share_high:.2f}"
        paced = [run["paced"] for run, _ in picked if run.get("paced")]
        if p99_goal is not None and len(paced) == len(picked):
            # the p99 asked for at the goal's rate: the open-loop runs offered exactly that rate, and kept
            # up with it (everything answered, no error); wrk's p99 is at saturation, shown beside it
            at = median_paced(paced)
            kept_up = at["errors"] == 0 and at["answered"] == at["due"]
            met = rps >= rps_goal and kept_up and at["p99_ms"] <= p99_goal
            measured = (
                f"{rps:>6,.0f}/s (wrk, p99 {p99:.1f} ms at saturation) · offered {rps_goal:,}/s: "
                f"p99 {at['p99_ms']:.1f} ms" + ("" if kept_up else f", {at['errors']} errors or unanswered")
            )
        else:
            met = rps >= rps_goal and (p99_goal is None or p99 <= p99_goal)
            measured = f"{rps:>6,.0f}/s p99 {p99:5.1f} ms"
        verdict = "met" if met else "NOT met"
        lines.append(
            f"  {labels[kind]:<38} {wanted:<22} {measured}: {verdict:<7}"
            f" · {share:.2f} of {name} (the goal was {then} of it)"
        )
        scaled = [run["paced_scaled"] for run, _ in picked if run.get("paced_scaled")]
        if scaled and len(scaled) == len(picked):
            lines.append("    " + scaled_line(rps_goal, p99_goal, rps, median_paced(scaled), scaled))
        elif not any(run.get("paced") for run, _ in picked):  # the reads: wrk's runs, at saturation
            scale = median([machine_scale(r["bare"]["rps"], r["pg"]["tps"]) for _, r in picked])
            if scale < 1:
                met = rps >= rps_goal * scale and (p99_goal is None or p99 <= p99_goal)
                lines.append(
                    f"    scaled to this machine ({scale:.2f} of the goals' by its ceilings): "
                    f"≥ {rps_goal * scale:,.0f}/s ({rps_goal:,} × {scale:.2f}): {rps:,.0f}/s "
                    f"p99 {p99:.1f} ms: {'met' if met else 'NOT met'}"
                )
    return lines


def scaled_line(
    rps_goal: int, p99_goal: float | None, rps: float, at: dict[str, Any], runs: list[Any]
) -> str:
    """The goal as the share of the machine it was set as: offered at its rate times this machine's scale
    (``machine_scale``, per round), judged as the goal itself (capacity, all answered, no error, p99)."""
    scale = median([run["scale"] for run in runs])
    kept_up = at["errors"] == 0 and at["answered"] == at["due"]
    met = rps >= at["offered_rps"] and kept_up and (p99_goal is None or at["p99_ms"] <= p99_goal)
    return (
        f"scaled to this machine ({scale:.2f} of the goals' by its ceilings): "
        f"offered {at['offered_rps']:,.0f}/s ({rps_goal:,} × {scale:.2f}): p99 {at['p99_ms']:.1f} ms"
        + ("" if kept_up else f", {at['errors']} errors or unanswered")
        + f": {'met' if met else 'NOT met'}"
    )


if __name__ == "__main__":
    main()
