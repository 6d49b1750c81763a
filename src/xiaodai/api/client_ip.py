"""The client's address: ``X-Forwarded-For`` is believed only from configured proxies.

``XIAODAI_TRUSTED_PROXIES`` lists addresses or networks (``10.0.0.5,10.1.0.0/16``; default none). When the
connection comes from one of them, the forwarded chain is read from the right, skipping trusted hops, and
the first untrusted address is the client; from anyone else the header is ignored. The result replaces
``scope["client"]``, so the login rate limit, the sign-in back-off, the audit trail and the access log all
see the same address.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from starlette.types import ASGIApp, Receive, Scope, Send

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def networks(entries: Iterable[str]) -> tuple[Network, ...]:
    """Parse the setting; a malformed entry is an error at start-up, not a silently open door."""
    out = []
    for entry in entries:
        try:
            out.append(ipaddress.ip_network(entry.strip(), strict=False))
        except ValueError:
            raise ValueError(f"XIAODAI_TRUSTED_PROXIES: {entry!r} is not an address or network") from None
    return tuple(out)


def _trusted(address: str, trusted: tuple[Network, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in net for net in trusted)


def client_from(peer: str, forwarded_for: str | None, trusted: tuple[Network, ...]) -> str:
    """The client address for a connection from ``peer`` carrying ``forwarded_for``."""
    if not forwarded_for or not _trusted(peer, trusted):
        return peer
    hops = [h.strip() for h in forwarded_for.split(",") if h.strip()]
    for hop in reversed(hops):
        if not _trusted(hop, trusted):
            try:
                return str(ipaddress.ip_address(hop))
            except ValueError:
                return peer  # garbage from the far side of our proxy: keep what we know
    return hops[0] if hops else peer


class TrustedProxies:
    """ASGI middleware: rewrite ``scope["client"]`` from X-Forwarded-For sent by a trusted proxy."""

    def __init__(self, app: ASGIApp, *, trusted: Iterable[str]) -> None:
        self.app = app
        self.trusted = networks(trusted)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.rewrite(scope)
        await self.app(scope, receive, send)

    def rewrite(self, scope: Scope) -> None:
        """Set ``scope["client"]`` to the address a trusted proxy forwarded for (if any)."""
        if scope["type"] in ("http", "websocket") and self.trusted and scope.get("client"):
            peer, port = scope["client"]
            forwarded = None
            for name, value in scope.get("headers", []):
                if name == b"x-forwarded-for":
                    # several headers are one list, in order
                    text = value.decode("latin-1")
                    forwarded = text if forwarded is None else f"{forwarded},{text}"
            client = client_from(peer, forwarded, self.trusted)
            if client != peer:
                scope["client"] = (client, port)
