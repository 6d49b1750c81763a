"""Refuse NUL characters (U+0000) anywhere in a request's text, before any handler runs.

No field of xiaodai has a use for NUL, and PostgreSQL cannot store it in text (it raises on the insert or
even on a lookup), so an unchecked NUL became a 500 on one backend and silent junk on the other. This
middleware checks the path, the query string and JSON or URL-encoded form bodies, and answers 422 (JSON
under /api, plain bilingual text elsewhere) naming where the NUL was found.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

NUL = "\x00"
MESSAGE = "text must not contain NUL (U+0000) characters"
CHECKED_BODIES = ("application/json", "application/x-www-form-urlencoded")


def nul_in_json(value: Any) -> str | None:
    """Where a NUL occurs in decoded JSON (``body.a.0``), or None. Iterative: nesting depth is unbounded."""
    stack: list[tuple[str, Any]] = [("body", value)]
    while stack:
        where, item = stack.pop()
        if isinstance(item, str):
            if NUL in item:
                return where
        elif isinstance(item, dict):
            for key, child in item.items():
                if NUL in key:
                    return f"{where} (a key)"
                stack.append((f"{where}.{key}", child))
        elif isinstance(item, list):
            stack.extend((f"{where}.{i}", child) for i, child in enumerate(item))
    return None


def nul_in_pairs(pairs: list[tuple[str, str]], where: str) -> str | None:
    for key, value in pairs:
        if NUL in key or NUL in value:
            return f"{where}.{key.replace(NUL, '?')}"
    return None


def nul_in_body(body: bytes, content_type: str) -> str | None:
    text = body.decode("utf-8", errors="replace")
    if content_type.startswith("application/json"):
        try:
            return nul_in_json(json.loads(text))
        except (ValueError, RecursionError):
            return None  # not JSON: the handler's own validation answers
    return nul_in_pairs(parse_qsl(text, keep_blank_values=True), "form")


def _refusal(path: str, where: str) -> Response:
    if path.startswith("/api"):
        return JSONResponse({"error": "invalid_request", "message": f"{where}: {MESSAGE}"}, status_code=422)
    return PlainTextResponse(
        f"请求中含有不允许的空字符（NUL）：{where}\n"
        f"The request contains a NUL character, which is not allowed: {where}\n",
        status_code=422,
    )


class NulGuard:
    """ASGI middleware; the body it reads is replayed unchanged to the application."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = str(scope.get("path", ""))
        query = bytes(scope.get("query_string", b"")).decode("latin-1")
        where = "path" if NUL in path else nul_in_pairs(parse_qsl(query, keep_blank_values=True), "query")
        headers = dict(scope.get("headers") or [])
        content_type = headers.get(b"content-type", b"").decode("latin-1").lower()
        downstream = receive
        if where is None and content_type.startswith(CHECKED_BODIES):
            chunks: list[bytes] = []
            while True:
                message = await receive()
                if message["type"] != "http.request":  # the client went away: nobody to answer
                    return
                chunks.append(message.get("body", b""))
                if not message.get("more_body", False):
                    break
            body = b"".join(chunks)
            where = nul_in_body(body, content_type)
            downstream = replay_body(body, receive)
        if where is not None:
            await _refusal(path, where)(scope, receive, send)
            return
        await self.app(scope, downstream, send)


def replay_body(body: bytes, receive: Receive) -> Receive:
    """The already-read body once, then the client's own messages (a disconnect, eventually)."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
