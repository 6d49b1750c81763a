"""``access_line.AccessLine``: uvicorn's access line queued as values and formatted by the writer thread is
the line the logging path writes (redaction and request id included), and anything the fast path does not
cover — text lines, a handler or filter added, another call shape — goes through ``logging`` as before.
Run in child processes: logging is configured once per process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

CHILD = r"""
import json, logging, sys
from xiaodai import logging_setup
from xiaodai.access_line import ACCESS
from xiaodai.logging_setup import REQUEST_ID, configure

configure(default_level="INFO", writer_thread=True)
access = logging.getLogger("uvicorn.access")
cases = json.loads(sys.stdin.read())
mode = sys.argv[1]
if mode == "extra-handler":  # an operator's handler on the access logger: the logging path is taken
    access.addHandler(logging.StreamHandler(open(sys.argv[2], "w")))
queued = []
real_queue = logging_setup.access_queue
def counting_queue(logger):
    put = real_queue(logger)
    if put is None:
        return None
    def counted(entry):
        queued.append(type(entry).__name__)
        put(entry)
    return counted
logging_setup.access_queue = counting_queue
fast = []
for n, (client, path, status, request_id) in enumerate(cases):
    REQUEST_ID.set(request_id)
    if logging_setup.access_queue(access) is not None:
        fast.append(n)
    ACCESS.info('%s - "%s %s HTTP/%s" %d', client, "POST", path, "1.1", status)  # queued as values
    access.info('%s - "%s %s HTTP/%s" %d', client, "POST", path, "1.1", status)  # through logging
ACCESS.info("%s custom %s", "a", "b")  # another shape: through logging
logging_setup.flush()
print(json.dumps([fast, queued]))
"""


def run(
    tmp_path: Path, cases: list[tuple[str, str, int, str]], mode: str = "json"
) -> tuple[list[str], list[int]]:
    log = tmp_path / "server.log"
    env = {**os.environ, "XIAODAI_LOG_FILE": str(log), "XIAODAI_LOG_LEVEL": "INFO"}
    env.pop("XIAODAI_LOG_FORMAT", None)
    if mode == "text":
        env["XIAODAI_LOG_FORMAT"] = "text"
    done = subprocess.run(
        [sys.executable, "-c", CHILD, mode, str(tmp_path / "extra.log")],
        input=json.dumps(cases),
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert "Logging error" not in done.stderr
    fast, queued = json.loads(done.stdout)
    assert queued == ["AccessEntry"] * len(fast)  # each line the fast path took was queued as values
    return log.read_text(encoding="utf-8").rstrip("\n").split("\n"), fast


def _without_ts(line: str) -> dict[str, object]:
    entry = json.loads(line)
    assert len(str(entry.pop("ts"))) == len("2026-12-06T21:15:08.123+00:00")
    return entry


CASES = [
    ("127.0.0.1:5000", "/api/loans/7/repayments", 201, "req-1"),
    ("10.0.0.9:41234", "/api/complaints?email=zhang.san@example.com", 200, "req-2"),  # PII in the path
    ("13812345678", "/api/borrowers/110101199003077777/x", 404, "-"),  # PII in client and path
    ('"quoted" \\ client', "/路径/中文?q=一", 500, "abc"),
]


def test_queued_access_lines_are_the_lines_the_logging_path_writes(tmp_path: Path) -> None:
    lines, fast = run(tmp_path, [list(c) for c in CASES])  # type: ignore[misc]
    assert fast == list(range(len(CASES)))  # every access line took the fast path
    access = [line for line in lines if '"uvicorn.access"' in line]
    assert len(access) == 2 * len(CASES) + 1
    for n in range(len(CASES)):
        assert _without_ts(access[2 * n]) == _without_ts(access[2 * n + 1])
    text = "\n".join(lines)
    for secret in ("zhang.san@example.com", "13812345678", "110101199003077777"):
        assert secret not in text
    assert json.loads(access[0])["request_id"] == "req-1"
    assert json.loads(access[0])["status"] == 201
    assert json.loads(access[-1])["message"] == "a custom b"


@settings(max_examples=15, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.text(max_size=30),
            st.text(max_size=60),
            st.integers(min_value=100, max_value=599),
            st.text(alphabet="abcdef0123456789-", min_size=1, max_size=32),
        ),
        min_size=1,
        max_size=5,
    )
)
def test_generated_access_lines_match(cases: list[tuple[str, str, int, str]]) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        lines, _ = run(Path(folder), [list(c) for c in cases])  # type: ignore[misc]
    access = [line for line in lines if '"uvicorn.access"' in line][:-1]
    assert len(access) == 2 * len(cases)
    for n in range(len(cases)):
        assert _without_ts(access[2 * n]) == _without_ts(access[2 * n + 1])


def test_text_lines_and_added_handlers_take_the_logging_path(tmp_path: Path) -> None:
    lines, fast = run(tmp_path, [list(CASES[1])], mode="text")  # type: ignore[misc]
    assert fast == []
    access = [line for line in lines if "uvicorn.access" in line]
    assert len(access) == 3
    assert access[0].split(" INFO ", 1)[1] == access[1].split(" INFO ", 1)[1]
    assert "zhang.san@example.com" not in "\n".join(lines)
    lines, fast = run(tmp_path, [list(CASES[0])], mode="extra-handler")  # type: ignore[misc]
    assert fast == []
    assert len((tmp_path / "extra.log").read_text().splitlines()) == 3  # the operator's handler saw each
