"""Idempotent money-moving commands: a retry returns the first result and posts nothing twice."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from xiaodai.db.tables import CommandRow
from xiaodai.servicing.errors import IdempotencyConflictError, ServicingError

Result = dict[str, Any]


def fingerprint(command: str, request: dict[str, Any]) -> str:
    canonical = json.dumps(
        {"command": command, **request}, sort_keys=True, default=str, separators=(",", ":")
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def run_once(
    session: Session, *, key: str, command: str, request: dict[str, Any], action: Callable[[], Result]
) -> Result:
    """Run ``action`` once per idempotency key within the caller's transaction.

    The command row is inserted *before* the action: a concurrent duplicate blocks on the key's unique
    index (PostgreSQL) or on the write lock (SQLite) and then finds the first result, or fails with an
    integrity error that the caller reports as a refused duplicate. Either way nothing posts twice.
    """
    if not key or len(key) > 200:
        raise ServicingError("an idempotency key (1–200 characters) is required")
    print_ = fingerprint(command, request)
    existing = session.execute(
        select(CommandRow).where(CommandRow.idempotency_key == key)
    ).scalar_one_or_none()
    if existing is not None:
        if existing.fingerprint != print_ or existing.command != command:
            raise IdempotencyConflictError(
                f"idempotency key {key!r} was already used for a different {existing.command} request"
            )
        replay: Result = json.loads(existing.result_json)
        replay["replayed"] = True
        return replay
    row = CommandRow(idempotency_key=key, command=command, fingerprint=print_, result_json="{}")
    session.add(row)
    session.flush()
    result = action()
    row.result_json = json.dumps(result, sort_keys=True, default=str)
    session.flush()
    return {**result, "replayed": False}
