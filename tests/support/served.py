"""The real server process: ``xiaodai db upgrade`` then ``xiaodai serve`` on a free port, a fresh SQLite
database, its log written to a file the test can read."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

XIAODAI = str(Path(sys.executable).with_name("xiaodai"))


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Served:
    base_url: str
    log_path: Path
    process: subprocess.Popen[bytes]
    env: dict[str, str]

    def log_text(self) -> str:
        return self.log_path.read_text(encoding="utf-8") if self.log_path.exists() else ""


def server_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    for name in ("XIAODAI_LOG_LEVEL", "XIAODAI_LOG_FORMAT", "XIAODAI_BUSINESS_DATE"):
        env.pop(name, None)
    env.update(
        XIAODAI_DATABASE_URL=f"sqlite:///{tmp_path / 'served.db'}",
        XIAODAI_SECRET_KEY="served-test-secret-key",
        XIAODAI_LOG_FILE=str(tmp_path / "server.log"),
        XIAODAI_MODEL_DIR=str(tmp_path / "models"),
        **extra,
    )
    return env


@contextmanager
def serve(tmp_path: Path, *args: str, **extra_env: str) -> Iterator[Served]:
    """Start the server (upgrading its database first) and stop it with SIGTERM at the end."""
    env = server_env(tmp_path, **extra_env)
    subprocess.run([XIAODAI, "db", "upgrade"], env=env, check=True, capture_output=True, cwd=tmp_path)
    port = free_port()
    stderr = (tmp_path / "server.stderr").open("wb")
    process = subprocess.Popen(
        [XIAODAI, "serve", "--port", str(port), *args], env=env, cwd=tmp_path, stderr=stderr
    )
    base = f"http://127.0.0.1:{port}"
    served = Served(base, Path(env["XIAODAI_LOG_FILE"]), process, env)
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"server exited {process.returncode}: {served.log_text()[-2000:]}")
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code in (200, 404):
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("server did not start within 60 s")
            time.sleep(0.1)
        yield served
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        stderr.close()
