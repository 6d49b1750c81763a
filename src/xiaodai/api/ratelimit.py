"""An in-process sliding-window rate limit per client key (here: login attempts per client IP).

One process keeps its own counts: behind several workers the effective limit is per worker, which is
enough to stop a password-guessing loop from one address; the per-account lockout in
``accounts.service`` is the rule that holds across processes because it lives in the database.
"""

from __future__ import annotations

import math
import threading
from collections import deque
from dataclasses import dataclass

from fastapi import Request

from xiaodai.api.deps import client_address


class RateLimitedError(Exception):
    status = 429

    def __init__(self, retry_after_seconds: int) -> None:
        super().__init__(
            f"too many sign-in attempts from this address: try again in {retry_after_seconds} seconds"
        )
        self.retry_after_seconds = retry_after_seconds


@dataclass(frozen=True, slots=True)
class Admission:
    allowed: bool
    retry_after_seconds: int = 0  # whole seconds until the oldest counted attempt leaves the window


class SlidingWindowLimiter:
    """At most ``limit`` attempts per key in any ``window_seconds``; a refused attempt is not counted."""

    def __init__(self, *, limit: int, window_seconds: float, max_keys: int = 100_000) -> None:
        if limit < 1 or window_seconds <= 0:
            raise ValueError("limit must be at least 1 and the window positive")
        self.limit = limit
        self.window = window_seconds
        self.max_keys = max_keys
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def admit(self, key: str, *, now: float) -> Admission:
        """Count one attempt for ``key`` at ``now`` (seconds, any monotonic origin) if the window allows."""
        with self._lock:
            hits = self._hits.get(key)
            if hits is None:
                if len(self._hits) >= self.max_keys:
                    self._forget_idle(now)
                hits = self._hits[key] = deque()
            while hits and hits[0] <= now - self.window:
                hits.popleft()
            if len(hits) >= self.limit:
                return Admission(False, max(1, math.ceil(hits[0] + self.window - now)))
            hits.append(now)
            return Admission(True)

    def _forget_idle(self, now: float) -> None:
        for key in [k for k, hits in self._hits.items() if not hits or hits[-1] <= now - self.window]:
            del self._hits[key]


def admit_login(request: Request) -> Admission:
    """Count one sign-in attempt from the request's client address (API and web form share the limit)."""
    limiter: SlidingWindowLimiter = request.app.state.login_limiter
    return limiter.admit(client_address(request), now=request.app.state.clock().timestamp())
