"""The app class: FastAPI with ``api.edge.Edge`` (and the hot paths directly inside it) OUTERMOST.

FastAPI puts three layers of its own outside every middleware an app adds: Starlette's
``ServerErrorMiddleware``, its exception-telemetry layer and its application body limit, and before them
``FastAPI.__call__`` asks the OpenTelemetry API, on every request, whether a tracer, meter or logger provider
has been installed (three look-ups, each reading the environment). On the repayment and application paths
those layers and checks were ~3 % of the server's CPU, for requests they pass through untouched.

``EdgeFirst`` builds the same stack with ``Edge(HotPath(...))`` wrapped around it:

- the hot paths (``HotApply`` inside ``Edge``, ``HotPath`` inside it) answer their requests without the
  three layers; they already answer their own errors (``hot_common.AppErrors``), so an exception never
  reached ``ServerErrorMiddleware`` from them;
- every other request passes ``Edge`` and then exactly the layers it passed before, in the same order;
  ``ServerErrorMiddleware``'s last-resort 500 now goes out through ``Edge`` (request id, security headers,
  latency metric);
- an HTTP request goes straight to that stack (as ``Starlette.__call__`` sends it: ``scope["app"]``, the
  stack built once) while FastAPI's native telemetry is off; whether it is on is asked at most once a
  second (``TELEMETRY_RECHECK_SECONDS``: a provider installed while serving takes effect within a second).
  With telemetry on, or on a FastAPI without the ``_native_telemetry`` this reads, every request goes
  through ``FastAPI.__call__`` as before. Lifespan and websocket scopes always do.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

from fastapi import FastAPI
from starlette.types import ASGIApp, Receive, Scope, Send

from xiaodai.api.edge import Edge
from xiaodai.api.hot_path import HotPath

TELEMETRY_RECHECK_SECONDS = 1.0


class EdgeFirst(FastAPI):
    """``FastAPI`` whose middleware stack is ``Edge(HotPath(<FastAPI's own stack>))``; call ``edge_outermost``
    once, before the first request."""

    _edge_options: dict[str, Any] | None = None
    _telemetry_checked_at = float("-inf")
    _telemetry_on = True

    def edge_outermost(self, *, https: bool, trusted: Iterable[str]) -> None:
        """``Edge``'s settings (``api.edge.Edge``): it is built with the stack."""
        self._edge_options = {"https": https, "trusted": tuple(trusted)}
        self.middleware_stack = None  # built again, with the edge, on the next request

    def build_middleware_stack(self) -> ASGIApp:
        stack = super().build_middleware_stack()
        if self._edge_options is None:
            return stack
        return Edge(HotPath(stack), **self._edge_options)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not self._native_telemetry_on():
            if self.root_path:  # as FastAPI.__call__
                scope["root_path"] = self.root_path
            scope["app"] = self  # as Starlette.__call__
            if self.middleware_stack is None:
                self.middleware_stack = self.build_middleware_stack()
            await self.middleware_stack(scope, receive, send)
            return
        await super().__call__(scope, receive, send)

    def _native_telemetry_on(self) -> bool:
        now = time.monotonic()
        if now - self._telemetry_checked_at >= TELEMETRY_RECHECK_SECONDS:
            native = getattr(self, "_native_telemetry", None)
            self._telemetry_on = native is None or bool(native.enabled())
            self._telemetry_checked_at = now
        return self._telemetry_on
