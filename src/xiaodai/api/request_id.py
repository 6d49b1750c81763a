"""Every HTTP request gets an id: a sane incoming ``X-Request-ID`` (a proxy's) is kept, otherwise a fresh
one is made. It is answered in the ``X-Request-ID`` response header and carried by every log line written
while the request is served (``logging_setup.REQUEST_ID``), the access line included. ``api.edge`` applies
it, outermost, so the id covers the whole request."""

from __future__ import annotations

import os
import re

from starlette.types import Scope

HEADER = b"x-request-id"
SANE = re.compile(rb"^[A-Za-z0-9._:-]{8,64}$")  # anything else (log injection, huge values) is replaced


def incoming_or_new(scope: Scope) -> str:
    for name, value in scope.get("headers", []):
        if name == HEADER and SANE.match(value):
            return bytes(value).decode("ascii")
    return new_id()


def new_id() -> str:
    """A random (version 4) UUID's 32 hex digits, as ``uuid.uuid4().hex`` makes them, built from the 16
    random bytes directly: ``uuid.UUID``'s constructor and its checks cost ten times the random bytes, on
    every request."""
    raw = bytearray(os.urandom(16))
    raw[6] = (raw[6] & 0x0F) | 0x40  # version 4
    raw[8] = (raw[8] & 0x3F) | 0x80  # the RFC 4122 variant
    return raw.hex()
