"""The real ``xiaodai serve`` process answers through ``api.one_write`` (an answer's small writes joined into
one): keep-alive, pipelined requests, large and streamed bodies (a static file: 64 KiB chunks), a reader too
slow for the socket's buffer (flow control), ``Connection: close`` and a request that is not HTTP."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import httpx
import swagger_ui

from support.served import serve
from xiaodai.api.one_write import LIMIT

BUNDLE = Path(swagger_ui.__file__).parent / "static" / "swagger-ui-bundle.js"  # ~1.4 MB, streamed


def read_answer(stream: socket.SocketIO | object) -> tuple[bytes, dict[bytes, bytes], bytes]:
    """One HTTP/1.1 answer from a socket's file: its status line, headers and body (by Content-Length)."""
    status = stream.readline()  # type: ignore[attr-defined]
    headers: dict[bytes, bytes] = {}
    while (line := stream.readline()) not in (b"\r\n", b""):  # type: ignore[attr-defined]
        name, _, value = line.partition(b":")
        headers[name.strip().lower()] = value.strip()
    body = stream.read(int(headers[b"content-length"]))  # type: ignore[attr-defined]
    return status.rstrip(), headers, body


def connect(base_url: str, *, receive_buffer: int | None = None) -> socket.socket:
    host, port = base_url.removeprefix("http://").split(":")
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if receive_buffer is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
    sock.settimeout(30)
    sock.connect((host, int(port)))
    return sock


def test_keep_alive_pipelining_large_and_streamed_bodies_and_a_slow_reader(tmp_path: Path) -> None:
    bundle = BUNDLE.read_bytes()
    with serve(tmp_path) as served:
        with httpx.Client(base_url=served.base_url) as http:
            spec = http.get("/openapi.json")
            assert spec.status_code == 200
            assert len(spec.content) > LIMIT  # a body larger than what is kept: handed over at once
            assert spec.json()["openapi"]
            streamed = http.get(f"/docs-assets/{BUNDLE.name}")
            assert streamed.content == bundle

        with connect(served.base_url) as sock, sock.makefile("rb") as stream:
            # three requests in one packet, answered in order on the same connection, then more after
            health, spec_request = (
                b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n",
                b"GET /openapi.json HTTP/1.1\r\n",
            )
            sock.sendall(health * 2 + spec_request + b"Host: t\r\n\r\n")
            answers = [read_answer(stream) for _ in range(3)]
            assert [a[0] for a in answers] == [b"HTTP/1.1 200 OK"] * 3
            assert answers[0][2] == answers[1][2]
            assert answers[2][2] == spec.content
            for _ in range(20):  # keep-alive: one connection, one answer after the other
                sock.sendall(health)
                assert read_answer(stream)[2] == answers[0][2]
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
            status, headers, _ = read_answer(stream)
            assert (status, headers[b"connection"]) == (b"HTTP/1.1 200 OK", b"close")
            assert stream.read() == b""  # closed by the server after the whole answer

        # a reader slower than the socket's buffers: the server is told to pause writing, then resumes
        with connect(served.base_url, receive_buffer=4096) as sock, sock.makefile("rb") as stream:
            request = f"GET /docs-assets/{BUNDLE.name} HTTP/1.1\r\nHost: t\r\n\r\n".encode()
            sock.sendall(request * 2)
            time.sleep(1.0)
            first, second = read_answer(stream), read_answer(stream)
            assert first[2] == bundle
            assert second[2] == bundle
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
            assert read_answer(stream)[0] == b"HTTP/1.1 200 OK"

        with connect(served.base_url) as sock, sock.makefile("rb") as stream:
            sock.sendall(b"NOT HTTP AT ALL\r\n\r\n")
            assert stream.readline().startswith(b"HTTP/1.1 400")
            assert stream.read().endswith(b"Invalid HTTP request received.")  # then closed

        with httpx.Client(base_url=served.base_url) as http:  # the server is still well
            assert http.get("/healthz").status_code == 200
    assert "Traceback" not in served.log_text()
