"""Security headers on every response (a pure ASGI middleware: no per-request task or body streaming, as
Starlette's ``BaseHTTPMiddleware`` would add)."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
)
HSTS = (b"strict-transport-security", b"max-age=31536000; includeSubDomains")


def header_list(*, https: bool) -> list[tuple[bytes, bytes]]:
    fixed = [
        (b"content-security-policy", CSP.encode()),
        (b"x-frame-options", b"DENY"),
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"same-origin"),
    ]
    return [*fixed, HSTS] if https else fixed


OWN_POLICY = b"content-security-policy"  # a page may set its own (the local Swagger UI at /docs does)


class SecurityHeaders:
    """Sets the headers of ``header_list``, replacing any the handler set — except a Content-Security-Policy
    the handler chose for its page, which is kept."""

    def __init__(self, app: ASGIApp, *, https: bool) -> None:
        self.app = app
        self.headers = header_list(https=https)
        self.names = {name for name, _ in self.headers}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def stamp(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = self.stamped(message.get("headers", []))
            await send(message)

        await self.app(scope, receive, stamp)

    def stamped(self, given: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
        """A response's headers with ours set (see the class)."""
        own = any(k.lower() == OWN_POLICY for k, _ in given)
        kept = [(k, v) for k, v in given if k.lower() not in self.names or k.lower() == OWN_POLICY]
        added = [(k, v) for k, v in self.headers if not (own and k == OWN_POLICY)]
        return [*kept, *added]
