"""A served process hears every committed change to a user or an API token (PostgreSQL LISTEN/NOTIFY) and
forgets that user's remembered tokens at once, so it may remember tokens longer (``accounts.token_cache``).

Migration 0048's triggers send ``NOTIFY xiaodai_auth, '<user id>'`` for every committed UPDATE (that changes
something) or DELETE of a ``users`` or ``api_tokens`` row, whichever process or person made it.
``AuthNotices`` is one daemon thread per server process holding one connection of its own (autocommit) that
LISTENs on that channel:

- once the LISTEN has taken effect it tells the cache (``TokenCache.listening(since)``): tokens looked up from
  then on are remembered for ``LONG_TTL_SECONDS``; a notice makes the cache forget the user's tokens and bar
  them for the short TTL (a look-up that read the row before the change cannot put it back);
- it waits for notices ``HEALTH_SECONDS`` at a time, then checks the connection with ``SELECT 1``; the
  connection has TCP keep-alives and a user timeout, so a dead link is found within seconds;
- when the connection is lost (or the LISTEN fails) the cache is told at once (``listening(None)``: all that
  was remembered is dropped, the short TTL applies) and the thread connects again after ``RETRY_SECONDS``;
  a notice sent while nobody listened is never needed: nothing remembered is older than the short TTL then.

Started by ``api.app.served_app`` (the served process on PostgreSQL) and stopped at shutdown; a process that
does not run it (tests' in-process apps, SQLite, the CLI) keeps the short TTL.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from typing import Any

import psycopg

from xiaodai.accounts.token_cache import TOKENS, TokenCache

CHANNEL = "xiaodai_auth"  # migration 0048
HEALTH_SECONDS = 5.0
RETRY_SECONDS = 1.0
# a dead peer is noticed within seconds, not after the kernel's two-hour keep-alive default
CONNECT_OPTIONS: dict[str, Any] = {
    "keepalives": 1,
    "keepalives_idle": 5,
    "keepalives_interval": 2,
    "keepalives_count": 2,
    "tcp_user_timeout": 5000,
    "connect_timeout": 5,
    "application_name": "xiaodai-auth-notices",  # as pg_stat_activity shows it
}

log = logging.getLogger(__name__)


class AuthNotices:
    def __init__(
        self,
        conninfo: str,
        *,
        cache: TokenCache = TOKENS,
        health_seconds: float = HEALTH_SECONDS,
        retry_seconds: float = RETRY_SECONDS,
    ) -> None:
        self.conninfo = conninfo
        self.cache = cache
        self.health_seconds = health_seconds
        self.retry_seconds = retry_seconds
        self.heard = 0  # notices acted on (tests, metrics)
        self._stop = threading.Event()
        self._listening = threading.Event()
        self._connection: psycopg.Connection[Any] | None = None
        self._thread = threading.Thread(target=self._run, name="xiaodai-auth-notices", daemon=True)

    def start(self) -> AuthNotices:
        self._thread.start()
        return self

    def stop(self, timeout: float = 1.0) -> None:
        self._stop.set()
        connection = self._connection
        if connection is not None:
            # wakes the wait for notices; closed already or the server away: the thread ends when it wakes
            with contextlib.suppress(Exception):
                connection.cancel_safe(timeout=timeout)
        self._thread.join(timeout)

    def wait_listening(self, timeout: float) -> bool:
        """True once the LISTEN has taken effect (and the cache was told)."""
        return self._listening.wait(timeout)

    @property
    def listening(self) -> bool:
        return self._listening.is_set()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._listen()
            except Exception as exc:  # connection lost, server restarting, LISTEN refused
                if not self._stop.is_set():
                    log.warning("auth notices: not listening (%s): short token memory", type(exc).__name__)
            finally:
                self._listening.clear()
                self.cache.listening(None)  # what was remembered for long is dropped now
                self._connection = None
            self._stop.wait(self.retry_seconds)

    def _listen(self) -> None:
        with psycopg.connect(self.conninfo, autocommit=True, **CONNECT_OPTIONS) as connection:
            self._connection = connection
            connection.execute(f"LISTEN {CHANNEL}")
            self.cache.listening(self.cache.ticks_now())  # heard from now on
            self._listening.set()
            while not self._stop.is_set():
                for notice in connection.notifies(timeout=self.health_seconds):
                    self._heard(notice.payload)
                    if self._stop.is_set():
                        return
                connection.execute("SELECT 1")  # the link is alive (else: raises, and we stop listening)

    def _heard(self, payload: str) -> None:
        try:
            user_id = int(payload)
        except ValueError:  # not ours: forget every token rather than guess
            self.cache.forget_all()
            return
        self.cache.forget_user(user_id)
        self.heard += 1
