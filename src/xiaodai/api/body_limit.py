"""Refuse request bodies above a size (413) before any handler, parser or other middleware reads them.

No request of xiaodai needs more than a few KiB (the largest is an application form); 64 KiB leaves room.
A declared ``Content-Length`` above the limit is refused at once; a body sent without one (chunked) is read
up to the limit, refused if it goes past it, and otherwise replayed unchanged to the application.
"""

from __future__ import annotations

from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

MAX_BODY_BYTES = 64 * 1024


def _refusal(path: str, limit: int, status: int = 413) -> Response:
    if status == 400:
        message = "the Content-Length header is not a number"
    else:
        message = f"the request body is larger than {limit // 1024} KiB"
    if path.startswith("/api"):
        code = "payload_too_large" if status == 413 else "invalid_request"
        return JSONResponse({"error": code, "message": message}, status_code=status)
    return PlainTextResponse(f"请求内容过大或无效 / {message}\n", status_code=status)


class BodyLimit:
    """ASGI middleware: at most ``max_bytes`` of request body."""

    def __init__(self, app: ASGIApp, max_bytes: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = str(scope.get("path", ""))
        declared = next((v for k, v in scope.get("headers", ()) if k == b"content-length"), None)
        if declared is not None:
            if not declared.isdigit():
                await _refusal(path, self.max_bytes, 400)(scope, receive, send)
                return
            if int(declared) > self.max_bytes:
                await _refusal(path, self.max_bytes)(scope, receive, send)
                return
            await self.app(scope, receive, send)  # the server delivers no more than it declared
            return
        chunked = any(k == b"transfer-encoding" for k, _ in scope.get("headers", ()))
        if not chunked:
            await self.app(scope, receive, send)
            return
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away
            body += message.get("body", b"")
            if len(body) > self.max_bytes:
                await _refusal(path, self.max_bytes)(scope, receive, send)
                return
            if not message.get("more_body", False):
                break
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": bytes(body), "more_body": False}
            return await receive()

        await self.app(scope, replay, send)
