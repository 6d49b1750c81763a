"""``api.edge_first.EdgeFirst``: ``Edge`` and the hot paths outermost, outside FastAPI's own layers; FastAPI's
telemetry path taken whenever its native telemetry is on (asked at most once a second)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from starlette.middleware.errors import ServerErrorMiddleware

from xiaodai.api import edge_first
from xiaodai.api.edge import Edge
from xiaodai.api.hot_apply import HotApply
from xiaodai.api.hot_path import HotPath


def test_the_edge_and_the_hot_paths_wrap_fastapis_own_layers(client: TestClient) -> None:
    assert client.get("/healthz").status_code == 200
    stack: Any = client.app.middleware_stack  # type: ignore[attr-defined]
    assert isinstance(stack, Edge)
    assert isinstance(stack.app, HotApply)
    assert isinstance(stack.app.app, HotPath)
    assert isinstance(stack.app.app.app, ServerErrorMiddleware)  # then FastAPI's stack, as it builds it


def test_fastapis_last_resort_500_goes_out_through_the_edge(client: TestClient) -> None:
    app: Any = client.app

    async def broken(scope: Any, receive: Any, send: Any) -> None:
        raise RuntimeError("boom")

    error_layer = app.middleware_stack.app.app.app
    assert isinstance(error_layer, ServerErrorMiddleware)
    error_layer.app = broken  # an exception that escaped every handler inside
    safe = TestClient(app, raise_server_exceptions=False)
    answer = safe.get("/healthz", headers={"X-Request-ID": "edge-first-500"})
    assert answer.status_code == 500
    assert answer.headers["x-request-id"] == "edge-first-500"
    assert answer.headers["x-content-type-options"] == "nosniff"


class _Ticks:
    """Stands in for the ``time`` module in ``api.edge_first``: ``monotonic`` reads the test's clock."""

    def __init__(self, clock: list[float]) -> None:
        self.clock = clock

    def monotonic(self) -> float:
        return self.clock[0]


class _Telemetry:
    def __init__(self, on: bool) -> None:
        self.on = on
        self.asked = 0

    def enabled(self) -> bool:
        self.asked += 1
        return self.on

    async def __call__(self, *, app: Any, scope: Any, receive: Any, send: Any, legacy_otel: Any) -> None:
        await app(scope, receive, send)  # FastAPI's telemetry wrapper, without the spans


def test_with_native_telemetry_on_every_request_takes_fastapis_path(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    app: Any = client.app
    through_fastapi: list[str] = []
    original = FastAPI.__call__

    async def spied(self: FastAPI, scope: Any, receive: Any, send: Any) -> None:
        through_fastapi.append(scope["type"])
        await original(self, scope, receive, send)

    monkeypatch.setattr(FastAPI, "__call__", spied)
    clock = [1000.0]
    monkeypatch.setattr(edge_first, "time", _Ticks(clock))
    telemetry = _Telemetry(on=False)
    monkeypatch.setattr(app, "_native_telemetry", telemetry)
    app._telemetry_checked_at = float("-inf")

    assert client.get("/healthz").status_code == 200
    assert through_fastapi == []  # off: straight to the stack
    assert telemetry.asked == 1
    assert client.get("/healthz").status_code == 200
    assert telemetry.asked == 1  # asked again only after a second

    telemetry.on = True  # a provider installed while serving
    clock[0] += 0.5
    assert client.get("/healthz").status_code == 200
    assert through_fastapi == []  # not yet asked
    clock[0] += 0.5
    assert client.get("/healthz").status_code == 200
    assert through_fastapi == ["http"]  # asked again: on (FastAPI asks too, on its own path)
    assert client.get("/healthz").status_code == 200
    assert through_fastapi == ["http", "http"]


def test_a_fastapi_without_native_telemetry_keeps_its_own_path(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    app: Any = client.app
    monkeypatch.delattr(app, "_native_telemetry", raising=False)
    app._telemetry_checked_at = float("-inf")
    assert app._native_telemetry_on() is True
