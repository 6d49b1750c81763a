"""The outer layers of every HTTP request in ONE pure ASGI middleware: the request id
(``api.request_id``), the client address from a trusted proxy (``api.client_ip``), the latency metric
(``api.operations.observe_request``) and the security headers (``api.security_headers``).

Each of those modules keeps its rules (``TrustedProxies`` and ``SecurityHeaders`` also stay usable as
middlewares on their own). ``Edge`` applies them in the order the four separate layers had (request id
outermost, then the client address, the timer, the headers), with one call and one wrapped ``send`` per
request instead of four: on the read path every layer's frames and its ``send`` wrapper are a measurable
share of the request's CPU.

Directly inside it, ``api.hot_apply.HotApply``: a borrower's application answered without the layers and
the dependency solving it would pass untouched (anything else goes on to the app as it was).
"""

from __future__ import annotations

import time
from collections.abc import Iterable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from xiaodai.api.client_ip import TrustedProxies
from xiaodai.api.hot_apply import HotApply
from xiaodai.api.operations import observe_request
from xiaodai.api.request_id import HEADER, incoming_or_new
from xiaodai.api.security_headers import SecurityHeaders
from xiaodai.logging_setup import REQUEST_ID


class Edge:
    def __init__(self, app: ASGIApp, *, https: bool, trusted: Iterable[str]) -> None:
        self.app = HotApply(app)  # POST /api/applications (api.hot_apply); everything else: ``app``
        self.proxies = TrustedProxies(app, trusted=trusted)  # its rules (``rewrite``)
        self.headers = SecurityHeaders(app, https=https)  # its rules (``stamped``)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            self.proxies.rewrite(scope)  # a websocket's client address too
            await self.app(scope, receive, send)
            return
        request_id = incoming_or_new(scope)
        scope.setdefault("state", {})["request_id"] = request_id
        token = REQUEST_ID.set(request_id)
        try:
            self.proxies.rewrite(scope)
            started = time.perf_counter()
            status = 500
            own_id = (HEADER, request_id.encode("ascii"))

            async def stamp(message: Message) -> None:
                nonlocal status
                if message["type"] == "http.response.start":
                    status = int(message["status"])
                    headers = self.headers.stamped(message.get("headers", []))
                    message["headers"] = [*(h for h in headers if h[0].lower() != HEADER), own_id]
                await send(message)

            try:
                await self.app(scope, receive, stamp)
            finally:
                observe_request(scope, status=status, seconds=time.perf_counter() - started)
        finally:
            REQUEST_ID.reset(token)
