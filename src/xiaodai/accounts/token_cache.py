"""A short-lived, in-process memory of bearer token -> user, so that an authenticated request usually needs
no database round trip to know who is asking.

Revocation safety:
- in the process that revokes (logout, revoke-all, account lock, erasure): at once. ``forget_token`` and
  ``forget_user`` drop the entries and bar the token or user from being remembered again for one ``ttl``
  (a request that read the row just before the revocation committed cannot put it back);
- in the other worker processes: within ``ttl`` (``TTL_SECONDS``, 2 s), the longest an entry lives; after
  that the token is looked up in the database again;
- on PostgreSQL a served process also LISTENs for the database's notice of every committed change to a user
  or a token (``accounts.auth_notices``, migration 0048), whichever process made it, and forgets that
  user's tokens when it arrives (milliseconds after the commit). While it listens (``listening``), a token
  looked up AFTER the listening began (``put(looked_up_at=...)``: the tick taken before the query) is
  remembered for ``long_ttl`` (``LONG_TTL_SECONDS``); any other for ``ttl``. When the listening stops (its
  connection lost) everything remembered is dropped and only ``ttl`` applies until it listens again: a
  notice sent while nobody listened is never needed by an entry older than ``ttl``.
Token expiry and an account lock already remembered are checked on every hit against the request's clock.
Only the token's SHA-256 is kept, never the token.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

TTL_SECONDS = 2.0
LONG_TTL_SECONDS = 60.0  # while the process hears every change (accounts.auth_notices)
MAX_ENTRIES = 20_000


@dataclass(frozen=True, slots=True)
class Remembered:
    user_id: int
    user_columns: dict[str, Any]  # the user row's column values when the token was looked up
    token_expires_at: datetime
    until: float  # monotonic seconds


class TokenCache:
    def __init__(
        self,
        *,
        ttl: float = TTL_SECONDS,
        max_entries: int = MAX_ENTRIES,
        ticks: Callable[[], float] = time.monotonic,
    ) -> None:
        if ttl <= 0 or max_entries < 1:
            raise ValueError("ttl must be positive and max_entries at least 1")
        self.ttl = ttl
        self.max_entries = max_entries
        self.ticks = ticks
        self._entries: dict[str, Remembered] = {}
        self._barred_tokens: dict[str, float] = {}
        self._barred_users: dict[int, float] = {}
        self._lock = threading.Lock()
        self._long_since: float | None = None  # when the listening began (ticks); None: not listening
        self._long_ttl = ttl

    def ticks_now(self) -> float:
        """The tick a look-up takes before its query (``put(looked_up_at=...)``)."""
        return self.ticks()

    def listening(self, since: float | None, *, long_ttl: float = LONG_TTL_SECONDS) -> None:
        """Changes are heard from ``since`` on (a tick taken once the LISTEN took effect); None: no longer
        heard, and everything remembered is dropped."""
        with self._lock:
            self._long_since, self._long_ttl = since, max(long_ttl, self.ttl)
            if since is None:
                self._entries.clear()

    def get(self, token_sha256: str) -> Remembered | None:
        entry = self._entries.get(token_sha256)
        if entry is None:
            return None
        if self.ticks() >= entry.until:
            with self._lock:
                if self._entries.get(token_sha256) is entry:
                    del self._entries[token_sha256]
            return None
        return entry

    def put(
        self,
        token_sha256: str,
        *,
        user_id: int,
        user_columns: dict[str, Any],
        token_expires_at: datetime,
        looked_up_at: float | None = None,
    ) -> bool:
        """Remember a lookup unless the token or its user was revoked within the last ``ttl``; for
        ``long_ttl`` if it was looked up (``looked_up_at``, before its query) while changes were heard."""
        now = self.ticks()
        with self._lock:
            barred = max(self._barred_tokens.get(token_sha256, -1.0), self._barred_users.get(user_id, -1.0))
            if barred > now:
                return False
            if len(self._entries) >= self.max_entries:
                self._entries.clear()  # rare; every entry is at most long_ttl old anyway
            since = self._long_since
            heard = since is not None and looked_up_at is not None and looked_up_at >= since
            entry = Remembered(
                user_id, dict(user_columns), token_expires_at, now + (self._long_ttl if heard else self.ttl)
            )
            self._entries[token_sha256] = entry
            return True

    def forget_token(self, token_sha256: str) -> None:
        now = self.ticks()
        with self._lock:
            self._entries.pop(token_sha256, None)
            self._prune(now)
            self._barred_tokens[token_sha256] = now + self.ttl

    def forget_user(self, user_id: int) -> None:
        now = self.ticks()
        with self._lock:
            for key in [k for k, e in self._entries.items() if e.user_id == user_id]:
                del self._entries[key]
            self._prune(now)
            self._barred_users[user_id] = now + self.ttl

    def forget_all(self) -> None:
        """Drop every entry (the bars stay)."""
        with self._lock:
            self._entries.clear()

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._barred_tokens.clear()
            self._barred_users.clear()

    def _prune(self, now: float) -> None:
        if len(self._barred_tokens) > 1_000:
            for token in [k for k, until in self._barred_tokens.items() if until <= now]:
                del self._barred_tokens[token]
        if len(self._barred_users) > 1_000:
            for user in [k for k, until in self._barred_users.items() if until <= now]:
                del self._barred_users[user]


TOKENS = TokenCache()  # the process's cache (each uvicorn worker has its own)
