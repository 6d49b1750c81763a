"""Signed-in web sessions expire: after ``idle`` without a request and ``absolute`` after sign-in.

The signed session cookie carries ``issued_at`` and ``seen_at`` (UTC epoch seconds). An expired session is
emptied (only the language choice survives) before any handler sees it, so it is simply logged out: a
page request is sent to the login form, an /api request goes on unauthenticated (bearer tokens are
not sessions and are unaffected).
"""

from __future__ import annotations

from collections.abc import Callable, MutableMapping
from datetime import datetime, timedelta
from typing import Any

from starlette.responses import RedirectResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

LOGIN_AFTER_EXPIRY = "/login?expired=1"


def expired(session: MutableMapping[str, Any], *, now: float, idle: timedelta, absolute: timedelta) -> bool:
    """Whether a signed-in session has run out. One without timestamps predates them and is expired."""
    issued, seen = session.get("issued_at"), session.get("seen_at")
    if not isinstance(issued, int | float) or not isinstance(seen, int | float):
        return True
    return now - seen > idle.total_seconds() or now - issued > absolute.total_seconds()


class SessionExpiry:
    """ASGI middleware; it must sit inside ``SessionMiddleware`` (added before it)."""

    def __init__(
        self, app: ASGIApp, *, clock: Callable[[], datetime], idle: timedelta, absolute: timedelta
    ) -> None:
        self.app = app
        self.clock = clock
        self.idle = idle
        self.absolute = absolute

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or "session" not in scope:
            await self.app(scope, receive, send)
            return
        session: MutableMapping[str, Any] = scope["session"]
        now = self.clock().timestamp()
        if session.get("user_id") is not None:
            if expired(session, now=now, idle=self.idle, absolute=self.absolute):
                lang = session.get("lang")
                session.clear()
                if lang:
                    session["lang"] = lang
                if not str(scope.get("path", "")).startswith("/api"):
                    await RedirectResponse(LOGIN_AFTER_EXPIRY, status_code=303)(scope, receive, send)
                    return
            else:
                session["seen_at"] = now

        async def stamp(message: Message) -> None:
            # A session that became signed in during this request (login clears the session first)
            # starts its clocks now.
            if message["type"] == "http.response.start" and session.get("user_id") is not None:
                session.setdefault("issued_at", now)
                session.setdefault("seen_at", now)
            await send(message)

        await self.app(scope, receive, stamp)
