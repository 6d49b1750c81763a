"""An open-loop HTTP load generator: requests STARTED at a fixed rate whatever the server does, each one's
latency counted from the moment it was due, not from when a connection was free to send it.

    .venv/bin/python benchmarks/open_loop.py --url http://127.0.0.1:8000 --users users.txt --kind repay \
                                             --rate 600 --seconds 10 [--connections 64] [--run nonce]

Why beside wrk: wrk is a closed loop — each of its connections sends its next request when the previous
answer arrives — so at saturation its p99 is set by the connection count (Little's law: 16 connections at
800 answers/s wait ~20 ms on average whatever the server's own latency), and a server that stalls is sent
fewer requests while it stalls (coordinated omission: the requests that would have waited are never timed).
A goal like "600 payments/s with p99 ≤ 50 ms" is a question about a server OFFERED 600 a second: this
client offers exactly that (request ``i`` is due at ``start + i / rate``), and a request that finds every
connection busy waits in the client's queue with its clock running (as wrk2 counts it). If the server
cannot keep up, the queue and the latencies grow without bound, and the figures say so.

The requests are ``benchmarks/wrk/xiaodai.lua``'s, built the same way: ``users.txt`` holds one
``<bearer token> <loan id>`` per line, walked round-robin; repayments (1.00 CNY) and applications carry an
``Idempotency-Key`` unique to the run and the request. HTTP/1.1 keep-alive over at most ``--connections``
connections (opened on demand); an answer must carry ``Content-Length`` (chunked answers count as errors).

It prints one line, ``OPEN_LOOP {json}``: requests due and answered, errors (non-2xx, socket, timeouts),
the rate offered and the rate answered, p50/p90/p99/p99.9/max latency in ms from the due time, how late
the client itself queued its requests (its own scheduling slack: a client starved of CPU — or a machine
that paused — inflates latencies, and this says by how much), how long requests then waited for a free
connection (all ``--connections`` busy: the server is behind), its own CPU seconds (it shares the machine
with the server) and the p99 of each second of the run.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import resource
import time
from collections import deque
from pathlib import Path
from typing import Any

try:  # the server's own event loop (uvicorn[standard]); the standard loop otherwise
    import uvloop
except ImportError:  # pragma: no cover - uvloop is installed with the app
    uvloop = None  # type: ignore[assignment]

APPLY = (
    b'{"applicant":{"age":34,"monthly_income":"9000","monthly_debt_payments":"500",'
    b'"employment_type":"employed","employment_tenure_years":8,"housing":"owner","dependants":1,'
    b'"purpose":"consumption"},"request":{"amount":"10000","term":12},"consent_credit_check":true}'
)
REPAY = b'{"amount":"1.00"}'
KINDS = ("loans", "loan", "repay", "apply")


def read_users(path: Path) -> list[tuple[str, str]]:
    users = []
    for line in path.read_text().splitlines():
        parts = line.split()
        if len(parts) == 2:
            users.append((parts[0], parts[1]))
    if not users:
        raise SystemExit(f"{path}: no '<token> <loan id>' lines")
    return users


def request_bytes(kind: str, host: str, token: str, loan: str, key: str) -> bytes:
    """The request wrk's script would send for ``kind`` (see the module docstring)."""
    head = [f"Host: {host}", f"Authorization: Bearer {token}"]
    if kind == "loans":
        return _http("GET", "/api/loans", head, b"")
    if kind == "loan":
        return _http("GET", f"/api/loans/{loan}", head, b"")
    head += ["Content-Type: application/json", f"Idempotency-Key: {key}"]
    if kind == "repay":
        return _http("POST", f"/api/loans/{loan}/repayments", head, REPAY)
    if kind == "apply":
        return _http("POST", "/api/applications", head, APPLY)
    raise ValueError(f"unknown kind {kind!r}")


def _http(method: str, path: str, head: list[str], body: bytes) -> bytes:
    if body:
        head = [*head, f"Content-Length: {len(body)}"]
    return (f"{method} {path} HTTP/1.1\r\n" + "".join(f"{h}\r\n" for h in head) + "\r\n").encode() + body


class BadAnswerError(Exception):
    """An answer this client cannot frame (no Content-Length): counted as an error, connection dropped."""


async def read_answer(reader: asyncio.StreamReader) -> tuple[int, bool]:
    """(status, keep-alive) of one HTTP/1.1 answer, its body read and dropped."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split(b" ", 2)[1])
    length: int | None = None
    keep = True
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value.strip())
        elif name == b"connection" and value.strip().lower() == b"close":
            keep = False
        elif name == b"transfer-encoding":
            raise BadAnswerError("chunked answer")
    if length is None:
        raise BadAnswerError("no content-length")
    if length:
        await reader.readexactly(length)
    return status, keep


class Run:
    def __init__(self, args: argparse.Namespace, users: list[tuple[str, str]]) -> None:
        self.args = args
        self.users = users
        self.host, self.port = _host_port(args.url)
        # (request number, due time, queued at) waiting for a connection
        self.due: deque[tuple[int, float, float]] = deque()
        self.wake = asyncio.Event()
        self.latencies: list[float] = []
        self.late: list[float] = []  # how long after its due time the client queued each request (its slack)
        self.queued: list[float] = []  # how long each request then waited for a free connection
        self.timeline: list[tuple[float, float]] = []  # (due time from the start, latency) of each answer
        self.errors = 0
        self.non_2xx = 0
        self.open = 0  # connections open or opening
        self.most_open = 0
        self.idle = 0
        self.done = False
        self.start = 0.0

    def request(self, n: int) -> bytes:
        token, loan = self.users[n % len(self.users)]
        return request_bytes(
            self.args.kind, f"{self.host}:{self.port}", token, loan, f"{self.args.run}-o-{n}"
        )

    async def connection(self) -> None:
        """One keep-alive connection: takes due requests in order until the run ends."""
        reader = writer = None
        try:
            while True:
                if not self.due:
                    if self.done:
                        return
                    self.idle += 1
                    self.wake.clear()
                    await self.wake.wait()
                    self.idle -= 1
                    continue
                n, due, queued_at = self.due.popleft()
                sent = time.perf_counter()
                self.queued.append(sent - queued_at)
                try:
                    if writer is None:
                        reader, writer = await asyncio.open_connection(self.host, self.port)
                    assert reader is not None
                    writer.write(self.request(n))
                    status, keep = await asyncio.wait_for(read_answer(reader), self.args.timeout)
                except (TimeoutError, OSError, asyncio.IncompleteReadError, BadAnswerError, ValueError):
                    self.errors += 1
                    if writer is not None:
                        writer.close()
                    reader = writer = None
                    continue
                latency = time.perf_counter() - due
                self.latencies.append(latency)
                self.timeline.append((due - self.start, latency))
                if not 200 <= status < 300:
                    self.non_2xx += 1
                if not keep:
                    writer.close()
                    reader = writer = None
        finally:
            self.open -= 1
            if writer is not None:
                writer.close()

    async def main(self) -> dict[str, Any]:
        rate, seconds = self.args.rate, self.args.seconds
        total = int(rate * seconds)
        tasks: list[asyncio.Task[None]] = []
        start = self.start = time.perf_counter() + 0.05
        for n in range(total):
            due = start + n / rate
            pause = due - time.perf_counter()
            if pause > 0.001:
                await asyncio.sleep(pause)
            now = time.perf_counter()
            self.late.append(now - due)
            self.due.append((n, due, now))
            if self.idle:
                self.wake.set()
            if len(self.due) > self.idle and self.open < self.args.connections:  # one more, up to the cap
                self.open += 1
                self.most_open = max(self.most_open, self.open)
                tasks.append(asyncio.create_task(self.connection()))
        offered_for = time.perf_counter() - start
        self.done = True
        self.wake.set()
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(asyncio.gather(*tasks), self.args.timeout + seconds)
        ended = time.perf_counter() - start
        return summary(self, total, offered_for, ended)


def summary(run: Run, total: int, offered_for: float, ended: float) -> dict[str, Any]:
    xs = sorted(run.latencies)
    late = sorted(run.late)

    def pct(values: list[float], q: float) -> float:
        return round(values[min(len(values) - 1, int(q * len(values)))] * 1000, 2) if values else float("nan")

    cpu = resource.getrusage(resource.RUSAGE_SELF)
    return {
        "due": total,
        "answered": len(xs),
        "errors": run.errors + run.non_2xx + (total - len(xs) - run.errors),
        "non_2xx": run.non_2xx,
        "offered_rps": round(total / offered_for, 1),
        "answered_rps": round(len(xs) / ended, 1),
        "p50_ms": pct(xs, 0.5),
        "p90_ms": pct(xs, 0.9),
        "p99_ms": pct(xs, 0.99),
        "p999_ms": pct(xs, 0.999),
        "max_ms": round(xs[-1] * 1000, 2) if xs else float("nan"),
        "client_late_p99_ms": pct(late, 0.99),
        "client_late_max_ms": round(late[-1] * 1000, 2) if late else float("nan"),
        "queued_p99_ms": pct(sorted(run.queued), 0.99),
        "p99_by_second_ms": by_second(run.timeline),
        "connections_used": run.most_open,
        "client_cpu_s": round(cpu.ru_utime + cpu.ru_stime, 2),
    }


def by_second(timeline: list[tuple[float, float]]) -> list[float]:
    """The p99 latency (ms) of the requests due in each second of the run: where a tail came from (a pause
    of the machine, a checkpoint) shows as one bad second, a server that cannot keep up as a climb."""
    seconds: dict[int, list[float]] = {}
    for due, latency in timeline:
        seconds.setdefault(int(due), []).append(latency)
    out = []
    for second in sorted(seconds):
        xs = sorted(seconds[second])
        out.append(round(xs[min(len(xs) - 1, int(0.99 * len(xs)))] * 1000, 1))
    return out


def _host_port(url: str) -> tuple[str, int]:
    if not url.startswith("http://"):
        raise SystemExit("--url: http://host:port only")
    netloc = url[len("http://") :].split("/", 1)[0]
    host, _, port = netloc.partition(":")
    return host, int(port or 80)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True, help="http://host:port of the server")
    parser.add_argument("--users", type=Path, required=True, help="'<token> <loan id>' per line")
    parser.add_argument("--kind", choices=KINDS, required=True)
    parser.add_argument("--rate", type=float, required=True, help="requests started per second")
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--connections", type=int, default=64, help="at most this many, opened on demand")
    parser.add_argument("--timeout", type=float, default=10, help="seconds an answer may take")
    parser.add_argument("--run", default="open", help="nonce in the Idempotency-Keys")
    args = parser.parse_args()
    if args.rate <= 0 or args.seconds <= 0 or args.connections < 1:
        parser.error("--rate, --seconds and --connections must be positive")
    run = Run(args, read_users(args.users))
    result = uvloop.run(run.main()) if uvloop is not None else asyncio.run(run.main())
    print("OPEN_LOOP " + json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
