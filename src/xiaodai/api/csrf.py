"""Cross-site request forgery on the JSON API: a write (POST, PUT, PATCH, DELETE under /api) that relies on
the signed-in session cookie must come from our own origin.

Accepted: an ``Origin`` header (or, when a browser sends none, a ``Referer``) naming this site — the
request's own ``Host`` under the scheme the app is served with, or an origin listed in
``XIAODAI_ALLOWED_ORIGINS`` — or an ``X-CSRF-Token`` header equal to the session's CSRF token (double
submit, the token the web forms carry). Refused with 403 otherwise, a missing Origin and Referer included.
Requests with a bearer token carry no ambient authority and are exempt, and so are requests whose session
signs no one in and the sign-in and sign-up endpoints (which never read the cookie). The web forms are
protected separately, by their per-session token (``web.routes``).
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterable
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Receive, Scope, Send

UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
NO_AMBIENT_AUTHORITY = frozenset({"/api/auth/token", "/api/auth/signup"})  # they never read the cookie
REFUSED = {
    "error": "csrf",
    "message": "cross-origin write refused: a signed-in browser session may only write from this site "
    "(Origin/Referer of this site, or the X-CSRF-Token header); API clients use a bearer token",
}


def origin_of(url: str) -> str | None:
    parts = urlsplit(url)
    if not parts.scheme or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}".lower()


def same_site(headers: dict[str, str], *, scheme: str, allowed: frozenset[str]) -> bool:
    host = headers.get("host", "").lower()
    own = {f"{scheme}://{host}"} | allowed if host else set(allowed)
    origin = headers.get("origin")
    if origin is not None:
        return origin.lower() in own  # "null" (sandboxed frames, some redirects) is never ours
    referer = headers.get("referer")
    return referer is not None and origin_of(referer) in own


class CsrfGuard:
    """ASGI middleware; must sit inside ``SessionMiddleware`` (added before it) to see the session."""

    def __init__(self, app: ASGIApp, *, https: bool, allowed_origins: Iterable[str] = ()) -> None:
        self.app = app
        self.scheme = "https" if https else "http"
        self.allowed = frozenset(o.strip().rstrip("/").lower() for o in allowed_origins if o.strip())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and self._refuse(scope):
            body = json.dumps(REFUSED).encode()
            await send(
                {
                    "type": "http.response.start",
                    "status": 403,
                    "headers": [
                        (b"content-type", b"application/json"),
                        (b"content-length", str(len(body)).encode()),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": body})
            return
        await self.app(scope, receive, send)

    def _refuse(self, scope: Scope) -> bool:
        path = str(scope.get("path", ""))
        if scope.get("method") not in UNSAFE or not path.startswith("/api") or path in NO_AMBIENT_AUTHORITY:
            return False
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        if headers.get("authorization", "").lower().startswith("bearer "):
            return False
        session = scope.get("session") or {}
        if not session.get("user_id"):
            return False  # nothing ambient to abuse: the request is as anonymous as any other
        token = headers.get("x-csrf-token", "")
        if token and secrets.compare_digest(token, str(session.get("csrf", ""))):
            return False
        return not same_site(headers, scheme=self.scheme, allowed=self.allowed)
