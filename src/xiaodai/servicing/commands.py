"""Idempotent money-moving commands: a retry returns the first result and posts nothing twice."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from xiaodai.db.tables import CommandRow
from xiaodai.servicing.errors import IdempotencyConflictError, ServicingError

Result = dict[str, Any]


def fingerprint(command: str, request: dict[str, Any]) -> str:
    canonical = json.dumps(
        {"command": command, **request}, sort_keys=True, default=str, separators=(",", ":")
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


_CLAIM = {
    name: dialect.insert(CommandRow)
    .on_conflict_do_nothing(index_elements=["idempotency_key"])
    .returning(CommandRow.idempotency_key)
    for name, dialect in (("postgresql", postgresql), ("sqlite", sqlite))
}
_FIRST = select(CommandRow.command, CommandRow.fingerprint, CommandRow.result_json).where(
    CommandRow.idempotency_key == bindparam("key")
)
_RESULT = (
    update(CommandRow)
    .where(CommandRow.idempotency_key == bindparam("key"))
    .values(result_json=bindparam("result_json"))
)


def run_once(
    session: Session, *, key: str, command: str, request: dict[str, Any], action: Callable[[], Result]
) -> Result:
    """Run ``action`` once per idempotency key within the caller's transaction.

    The key is claimed *before* the action, by inserting the command row (``INSERT … ON CONFLICT DO
    NOTHING``); the action's result is written to it afterwards. A concurrent duplicate blocks on the key's
    unique index (PostgreSQL) or on the write lock (SQLite) until the first transaction ends: if that one
    committed, the duplicate finds its result and replays it; if it rolled back, the duplicate runs. A key
    already used for a different request is refused. Either way nothing posts twice.

    The command row is read and written through the session's connection (no flush): one ``INSERT`` and
    one ``UPDATE`` for a new key, one ``INSERT`` (that inserts nothing) and one ``SELECT`` for a retry.
    """
    if not key or len(key) > 200:
        raise ServicingError("an idempotency key (1–200 characters) is required")
    print_ = fingerprint(command, request)
    connection = session.connection()
    claimed = connection.execute(
        _CLAIM[connection.dialect.name],
        {"idempotency_key": key, "command": command, "fingerprint": print_, "result_json": "{}"},
    )
    if claimed.first() is None:  # the key was claimed before
        existing = connection.execute(_FIRST, {"key": key}).one_or_none()
        if existing is None:  # not expected: the conflicting row is committed and never deleted
            raise IdempotencyConflictError(f"idempotency key {key!r} is held by a request still in flight")
        if existing.fingerprint != print_ or existing.command != command:
            raise IdempotencyConflictError(
                f"idempotency key {key!r} was already used for a different {existing.command} request"
            )
        replay: Result = json.loads(existing.result_json)
        replay["replayed"] = True
        return replay
    result = action()
    connection.execute(_RESULT, {"key": key, "result_json": json.dumps(result, sort_keys=True, default=str)})
    return {**result, "replayed": False}
