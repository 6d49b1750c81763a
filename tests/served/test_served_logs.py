"""The real ``xiaodai serve`` process writes a usable log: one JSON object per line, every request's
access line present with its request id, no "--- Logging error ---", no traceback, no personal data."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx

from support.served import serve

PHONE = "13812345678"
ID_NUMBER = "11010519491231002X"


def test_served_log_has_access_lines_and_no_logging_errors(tmp_path: Path) -> None:
    with serve(tmp_path) as served:
        answers = []
        with httpx.Client(base_url=served.base_url) as http:
            answers.append(http.get("/login"))
            answers.append(http.get(f"/api/auth/me?phone={PHONE}&id={ID_NUMBER}"))  # 401, PII in the URL
            answers.append(http.get("/no-such-page", headers={"X-Request-ID": "proxy-given-id-0001"}))
            answers.append(http.post("/api/auth/token", json={"email": "a@b.cn", "password": "x" * 12}))
    log = served.log_text()  # after SIGTERM: the log's writer thread has written what it had queued
    assert [a.status_code for a in answers] == [200, 401, 404, 401]
    ids = [a.headers["X-Request-ID"] for a in answers]
    assert ids[2] == "proxy-given-id-0001"  # a sane incoming id is kept
    assert len(set(ids)) == 4

    assert "Logging error" not in log
    assert "Traceback" not in log
    assert PHONE not in log
    assert ID_NUMBER not in log
    lines = [json.loads(line) for line in log.splitlines() if line.strip()]  # every line is JSON
    access = [e for e in lines if e["logger"] == "uvicorn.access" and e["request_id"] in ids]
    assert len(access) == 4  # (the start-up probe's line is there too, with its own id)
    assert [e["request_id"] for e in access] == ids
    assert [e["status"] for e in access] == [200, 401, 404, 401]
    assert [e["method"] for e in access] == ["GET", "GET", "GET", "POST"]
    assert "[PHONE#" in access[1]["path"]  # redacted, not dropped
    assert "[ID#" in access[1]["path"]
    started = [e["message"] for e in lines if e["logger"] == "uvicorn.error"]
    assert any("Application startup complete" in m for m in started)


def test_two_workers_ready_metrics_and_graceful_shutdown(tmp_path: Path) -> None:
    with serve(tmp_path, "--workers", "2") as served:
        deadline = time.monotonic() + 90
        while served.log_text().count("Application startup complete") < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
        with httpx.Client(base_url=served.base_url) as http:
            ready = http.get("/readyz")
            assert ready.status_code == 200, ready.text
            for _ in range(10):
                assert http.get("/healthz").status_code == 200
            scraped = http.get("/metrics").text
        process = served.process
        pids = {
            json.loads(line)["message"]
            for line in served.log_text().splitlines()
            if "Started server process" in line
        }
    assert process.returncode == 0, "SIGTERM: a clean exit"
    assert len(pids) == 2, pids  # two worker processes, neither restarted
    assert "died" not in served.log_text()
    # both workers' counts in one scrape (multiprocess mode): 10 + the start-up probe + readyz
    count = [
        float(line.split()[-1])
        for line in scraped.splitlines()
        if line.startswith("xiaodai_http_request_duration_seconds_count") and 'route="/healthz"' in line
    ]
    assert sum(count) >= 10
    log = served.log_text()
    assert "Logging error" not in log
    assert "Traceback" not in log
    assert "Finished server process" in log or "Shutting down" in log
