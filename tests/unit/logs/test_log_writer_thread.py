"""The served process's log is written by a thread of its own (``logging_setup.configure(writer_thread=
True)``): every line still reaches the file, in order, with the request id of the request that logged it,
and what is queued at exit is written (``flush`` at ``atexit``). Run in a child process: logging is
configured once per process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

CHILD = r"""
import logging, sys, threading
from xiaodai import logging_setup
from xiaodai.logging_setup import REQUEST_ID, configure

configure(default_level="INFO", writer_thread=True)
written_by = set()
for handler in logging_setup._WRITER["handlers"]:
    original = handler.emit
    def emit(record, original=original):
        written_by.add(threading.current_thread().name)
        original(record)
    handler.emit = emit
flushes = []
for handler in logging_setup._WRITER["handlers"]:
    stream_flush = handler.stream.flush
    def counted(stream_flush=stream_flush):
        flushes.append(threading.current_thread().name)
        stream_flush()
    handler.stream.flush = counted
access = logging.getLogger("uvicorn.access")
for n in range(int(sys.argv[1])):
    REQUEST_ID.set(f"req-{n}")
    access.info('%s - "%s %s HTTP/%s" %d', "127.0.0.1:5000", "GET", f"/api/loans/{n}", "1.1", 200)
mutable = {"phone": "13812345678"}
logging.getLogger("xiaodai.test").warning("state %s", mutable)  # not a plain value: rendered at once
mutable["phone"] = "changed"
if sys.argv[2] == "running":  # no flush: the writer, asleep between drains, still writes within moments
    import os, time
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and "state" not in open(os.environ["XIAODAI_LOG_FILE"]).read():
        time.sleep(0.01)
    print("seen" if time.monotonic() < deadline else "not seen", flush=True)
    os._exit(0)  # no atexit flush: only what the writer wrote by itself is in the file
if sys.argv[2] == "flush-now":
    logging_setup.flush()
    print(sorted(written_by), len(flushes), flush=True)
    logging.getLogger("xiaodai.test").warning("after flush")  # written directly from now on
"""


def run_child(tmp_path: Path, count: int, mode: str) -> tuple[list[dict[str, object]], str]:
    log = tmp_path / "server.log"
    env = {**os.environ, "XIAODAI_LOG_FILE": str(log), "XIAODAI_LOG_LEVEL": "INFO"}
    env.pop("XIAODAI_LOG_FORMAT", None)
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(count), mode], env=env, capture_output=True, text=True, check=True
    )
    assert "Logging error" not in done.stderr
    return [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()], done.stdout


def test_every_queued_line_is_written_at_exit_in_order_with_its_request_id(tmp_path: Path) -> None:
    lines, _ = run_child(tmp_path, 3000, "exit")
    access = [e for e in lines if e["logger"] == "uvicorn.access"]
    assert len(access) == 3000  # none lost: the process exited right after logging them
    assert [e["path"] for e in access] == [f"/api/loans/{n}" for n in range(3000)]
    assert [e["request_id"] for e in access] == [f"req-{n}" for n in range(3000)]
    assert {e["status"] for e in access} == {200}
    state = [e for e in lines if e["logger"] == "xiaodai.test"]
    assert len(state) == 1
    assert "changed" not in str(state[0]["message"])  # rendered when logged, not when written
    assert "13812345678" not in str(state[0]["message"])  # and redacted


def test_lines_are_written_by_the_writer_thread_and_directly_after_flush(tmp_path: Path) -> None:
    lines, out = run_child(tmp_path, 10, "flush-now")
    assert "MainThread" not in out  # the queue's thread wrote every line before the flush
    assert [e["message"] for e in lines][-1] == "after flush"
    assert len([e for e in lines if e["logger"] == "uvicorn.access"]) == 10


def test_the_writer_flushes_its_streams_once_per_drain_not_once_per_line(tmp_path: Path) -> None:
    lines, out = run_child(tmp_path, 3000, "flush-now")
    flushes = int(out.split()[-1])  # of the two streams (standard error and the file), writer and flush()
    assert 2 <= flushes < 3000 // 5, flushes  # per line it would be 2 x 3,001
    assert len([e for e in lines if e["logger"] == "uvicorn.access"]) == 3000


def test_lines_are_written_while_the_process_runs_without_a_flush(tmp_path: Path) -> None:
    lines, out = run_child(tmp_path, 200, "running")
    assert out.strip() == "seen"
    assert len([e for e in lines if e["logger"] == "uvicorn.access"]) == 200  # the earlier lines too
