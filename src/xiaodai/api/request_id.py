"""Every HTTP request gets an id: a sane incoming ``X-Request-ID`` (a proxy's) is kept, otherwise a fresh
one is made. It is answered in the ``X-Request-ID`` response header and carried by every log line written
while the request is served (``logging_setup.REQUEST_ID``), the access line included. ``api.edge`` applies
it, outermost, so the id covers the whole request."""

from __future__ import annotations

import re
import uuid

from starlette.types import Scope

HEADER = b"x-request-id"
SANE = re.compile(rb"^[A-Za-z0-9._:-]{8,64}$")  # anything else (log injection, huge values) is replaced


def incoming_or_new(scope: Scope) -> str:
    for name, value in scope.get("headers", []):
        if name == HEADER and SANE.match(value):
            return bytes(value).decode("ascii")
    return uuid.uuid4().hex
