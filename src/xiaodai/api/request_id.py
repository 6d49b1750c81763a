"""Every HTTP request gets an id: a sane incoming ``X-Request-ID`` (a proxy's) is kept, otherwise a fresh
one is made. It is answered in the ``X-Request-ID`` response header and carried by every log line written
while the request is served (``logging_setup.REQUEST_ID``), the access line included."""

from __future__ import annotations

import re
import uuid

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from xiaodai.logging_setup import REQUEST_ID

HEADER = b"x-request-id"
SANE = re.compile(rb"^[A-Za-z0-9._:-]{8,64}$")  # anything else (log injection, huge values) is replaced


def incoming_or_new(scope: Scope) -> str:
    for name, value in scope.get("headers", []):
        if name == HEADER and SANE.match(value):
            return bytes(value).decode("ascii")
    return uuid.uuid4().hex


class RequestId:
    """ASGI middleware; add it last (outermost) so the id covers the whole request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = incoming_or_new(scope)
        scope.setdefault("state", {})["request_id"] = request_id
        token = REQUEST_ID.set(request_id)

        async def stamp(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != HEADER]
                message["headers"] = [*headers, (HEADER, request_id.encode("ascii"))]
            await send(message)

        try:
            await self.app(scope, receive, stamp)
        finally:
            REQUEST_ID.reset(token)
