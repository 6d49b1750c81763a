"""Idempotent money-moving commands: a retry returns the first result and posts nothing twice."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from xiaodai.db.driver import DriverStatement
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
    check_key(key)
    print_ = fingerprint(command, request)
    if not claim(session, key=key, command=command, fingerprint=print_):  # the key was claimed before
        return replay(session, key=key, command=command, fingerprint=print_)
    return run_claimed(session, key=key, action=action)


def check_key(key: str) -> None:
    if not key or len(key) > 200:
        raise ServicingError("an idempotency key (1–200 characters) is required")


def claim(session: Session, *, key: str, command: str, fingerprint: str) -> bool:
    """Insert the command row for ``key`` (its result still to come); False when the key was claimed
    before (after waiting for a transaction still holding it: see ``run_once``)."""
    connection = session.connection()
    claimed = connection.execute(
        _CLAIM[connection.dialect.name],
        {"idempotency_key": key, "command": command, "fingerprint": fingerprint, "result_json": "{}"},
    )
    return claimed.first() is not None


def replay(session: Session, *, key: str, command: str, fingerprint: str) -> Result:
    """The first result stored under ``key``, marked ``replayed`` (a retry of the same request), for a key
    that this transaction found claimed; a key used for a different request is refused."""
    existing = session.connection().execute(_FIRST, {"key": key}).one_or_none()
    stored = None if existing is None else (existing.command, existing.fingerprint, existing.result_json)
    return replayed(stored, key=key, command=command, fingerprint=fingerprint)


def replayed(existing: tuple[str, str, str] | None, *, key: str, command: str, fingerprint: str) -> Result:
    """``replay``'s rule on the stored row ``(command, fingerprint, result_json)`` read for ``key`` (None:
    no row): the first result marked ``replayed``, or ``IdempotencyConflictError``."""
    if existing is None:  # not expected: the conflicting row is committed and never deleted
        raise IdempotencyConflictError(f"idempotency key {key!r} is held by a request still in flight")
    stored_command, stored_print, result_json = existing
    if stored_print != fingerprint or stored_command != command:
        raise IdempotencyConflictError(
            f"idempotency key {key!r} was already used for a different {stored_command} request"
        )
    result: Result = json.loads(result_json)
    result["replayed"] = True
    return result


# what ``replay`` reads (``replayed``'s row), for a caller on the driver's own connection (PostgreSQL)
FIRST_RESULT = DriverStatement(_FIRST)


def run_claimed(session: Session, *, key: str, action: Callable[[], Result]) -> Result:
    """Run ``action`` for a key this transaction has just claimed and store its result under the key
    (unless the action's own statement stored it: ``result_with_last_entry``)."""
    written: set[str] = session.info.setdefault(_WRITTEN, set())
    written.discard(key)
    try:
        result = action()
        stored = key in written
    finally:
        written.discard(key)
    if not stored:
        session.connection().execute(_RESULT, {"key": key, "result_json": _as_json(result)})
    return {**result, "replayed": False}


# PostgreSQL: a ``WITH`` item that claims a key as ``run_once`` does, for each row of the item ``source``
# of the same statement (none: nothing claimed). ``EXISTS (SELECT FROM claim)`` tells whether it did.
CLAIM_ITEM = (
    "claim AS (INSERT INTO commands (idempotency_key, command, fingerprint, result_json)"
    " SELECT :claim_key, :claim_command, :claim_fingerprint, '{{}}' FROM {source}"
    " ON CONFLICT (idempotency_key) DO NOTHING RETURNING idempotency_key)"
)


def claim_params(*, key: str, command: str, fingerprint: str) -> dict[str, str]:
    """The parameters of ``CLAIM_ITEM``."""
    return {"claim_key": key, "claim_command": command, "claim_fingerprint": fingerprint}


def _as_json(result: Result) -> str:
    """The stored result, its keys in the answer's own order: a replay answers byte for byte as the first
    answer did, ``replayed`` apart (results stored sorted by earlier versions replay JSON-equal)."""
    return json.dumps(result, default=str)


_WRITTEN = "xiaodai.commands.result_written"  # session.info: keys whose result the action's statement wrote
ENTRY_ID_MARK = "@entry_id@"
_RESULT_ITEM = (
    ", command_result AS (UPDATE commands SET result_json = replace(:command_result, :entry_id_mark,"
    " (SELECT max(id) FROM entry)::text) WHERE idempotency_key = :command_key)"
)


def result_with_last_entry(session: Session, key: str, result: Result) -> tuple[str, dict[str, Any]]:
    """For a command on PostgreSQL whose journal is written by one ``ledger.insert_entries`` statement: a
    ``WITH`` item for that statement that writes the command's result, its ``entry_id`` being the id of the
    statement's last entry, so ``run_once`` has no ``UPDATE`` left to send (one round trip fewer). The stored
    text is exactly what ``run_once`` would write (``result`` with the real id, in the answer's key order)."""
    session.info.setdefault(_WRITTEN, set()).add(key)
    return result_item(key, result)


def result_item(key: str, result: Result) -> tuple[str, dict[str, Any]]:
    """``result_with_last_entry``'s ``WITH`` item and parameters, for a caller that stores the result with
    no session (``api.loop_repay``)."""
    template = _as_json({**result, "entry_id": ENTRY_ID_MARK})
    return _RESULT_ITEM, {
        "command_result": template,
        "entry_id_mark": json.dumps(ENTRY_ID_MARK),
        "command_key": key,
    }
