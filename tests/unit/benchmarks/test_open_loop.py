"""``benchmarks/open_loop.py`` against a tiny local HTTP server: requests started at the rate asked whatever
the server does, and a request that waits for a stalled server is timed from its due time (no coordinated
omission: wrk would have sent nothing during the stall and timed nothing)."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from support.scripts import benchmark_script

ROOT = Path(__file__).resolve().parents[3]
SCRIPT = ROOT / "benchmarks" / "open_loop.py"


def module() -> Any:
    return benchmark_script("open_loop")


class Server:
    """Answers every request after ``delay`` seconds; from ``stall_at`` (seconds after the first request)
    for ``stall`` seconds it answers nothing (as a server in a long pause)."""

    def __init__(self, delay: float, stall_at: float | None = None, stall: float = 0.0) -> None:
        self.delay, self.stall_at, self.stall = delay, stall_at, stall
        self.first: float | None = None
        self.paths: list[str] = []
        self.port = 0
        self.ready = threading.Event()
        self.loop = asyncio.new_event_loop()

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n")[1:]:
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":")[1])
                if length:
                    await reader.readexactly(length)
                now = time.perf_counter()
                self.first = self.first or now
                self.paths.append(head.split(b" ")[1].decode())
                wait = self.delay
                if self.stall_at is not None:
                    stall_ends = self.first + self.stall_at + self.stall
                    if self.first + self.stall_at <= now < stall_ends:
                        wait += stall_ends - now
                await asyncio.sleep(wait)
                body = b'{"ok":true}'
                writer.write(b"HTTP/1.1 201 Created\r\ncontent-length: %d\r\n\r\n%s" % (len(body), body))
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    def run(self) -> None:
        asyncio.set_event_loop(self.loop)
        server = self.loop.run_until_complete(asyncio.start_server(self.handle, "127.0.0.1", 0))
        self.port = server.sockets[0].getsockname()[1]
        self.ready.set()
        self.loop.run_forever()


@pytest.fixture
def serve() -> Iterator[Any]:
    started: list[Server] = []

    def start(**kw: Any) -> Server:
        server = Server(**kw)
        threading.Thread(target=server.run, daemon=True).start()
        server.ready.wait(5)
        started.append(server)
        return server

    yield start
    for server in started:
        server.loop.call_soon_threadsafe(server.loop.stop)


def run(server: Server, tmp_path: Path, rate: float, seconds: float, kind: str = "repay") -> dict[str, Any]:
    users = tmp_path / "users.txt"
    users.write_text("tok-a 11\ntok-b 12\n")
    out = subprocess.run(
        [
            sys.executable,
            str(SCRIPT),
            "--url",
            f"http://127.0.0.1:{server.port}",
            "--users",
            str(users),
            "--kind",
            kind,
            "--rate",
            str(rate),
            "--seconds",
            str(seconds),
            "--run",
            "t",
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    line = next(x for x in out.splitlines() if x.startswith("OPEN_LOOP "))
    return dict(json.loads(line[len("OPEN_LOOP ") :]))


def test_requests_start_at_the_rate_and_are_timed_from_their_due_time(serve: Any, tmp_path: Path) -> None:
    steady = run(serve(delay=0.02), tmp_path, rate=100, seconds=2)
    assert steady["due"] == steady["answered"] == 200
    assert steady["errors"] == 0
    assert 95 <= steady["offered_rps"] <= 105
    assert 18 <= steady["p50_ms"] <= 60  # the server's 20 ms and the client's slack
    stalled_server = serve(delay=0.02, stall_at=0.5, stall=0.4)
    stalled = run(stalled_server, tmp_path, rate=100, seconds=2)
    assert stalled["answered"] == 200  # the client kept offering during the stall: nothing was skipped
    # ~40 requests were due during the 400 ms stall: each is timed from its due time, so the slowest
    # waited ~400 ms and more than 1 % of them waited over 200 ms (a closed loop would have sent 1 and
    # timed 1 request in the stall per connection)
    assert stalled["max_ms"] >= 350
    assert stalled["p99_ms"] >= 200
    assert stalled["connections_used"] > 1  # the requests due in the stall waited on more connections
    assert stalled_server.paths[0] == "/api/loans/11/repayments"


def test_the_requests_are_the_wrk_scripts() -> None:
    loaded = module()
    repay = loaded.request_bytes("repay", "h:1", "tok", "7", "run-o-3")
    assert repay.startswith(b"POST /api/loans/7/repayments HTTP/1.1\r\n")
    assert b"Authorization: Bearer tok\r\n" in repay
    assert b"Idempotency-Key: run-o-3\r\n" in repay
    assert repay.endswith(b'\r\n\r\n{"amount":"1.00"}')
    apply = loaded.request_bytes("apply", "h:1", "tok", "7", "k")
    assert b"POST /api/applications HTTP/1.1" in apply
    assert b'"consent_credit_check":true' in apply
    assert loaded.request_bytes("loans", "h:1", "tok", "7", "k").startswith(b"GET /api/loans HTTP/1.1")
