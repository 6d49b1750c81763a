"""The audit hash chain (pure): how a record is hashed and how a chain is checked.

Each record's hash covers its position (``seq``), its time, actor, action, subject, reason, payload text and
the hash of the record before it, so that editing, deleting or moving any record breaks the chain at that
point. The hash is SHA-256 over canonical JSON (sorted keys, no spaces, UTF-8); times are normalised to UTC
ISO 8601 with microseconds, and a time without an offset is read as UTC (SQLite returns naive datetimes).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

GENESIS = "0" * 64
REORDER_WINDOW = 1000  # how far from its place a moved record is looked for when diagnosing a break


@dataclass(frozen=True, slots=True)
class Entry:
    """The hashed fields of one audit record (``id`` is the storage id, not hashed)."""

    seq: int
    occurred_at: datetime
    actor: str
    action: str
    subject: str
    reason: str
    payload: str
    prev_hash: str
    row_hash: str = ""
    id: int | None = None


def utc_text(at: datetime) -> str:
    """``2026-03-10T01:02:03.000004+00:00`` for any aware time; a naive time is taken to be UTC."""
    aware = at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
    return aware.isoformat(timespec="microseconds")


def canonical(entry: Entry, *, seq: int | None = None) -> bytes:
    fields = {
        "seq": entry.seq if seq is None else seq,
        "occurred_at": utc_text(entry.occurred_at),
        "actor": entry.actor,
        "action": entry.action,
        "subject": entry.subject,
        "reason": entry.reason,
        "payload": entry.payload,
        "prev_hash": entry.prev_hash,
    }
    return json.dumps(fields, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def entry_hash(entry: Entry, *, seq: int | None = None) -> str:
    return hashlib.sha256(canonical(entry, seq=seq)).hexdigest()


class Kind(StrEnum):
    MODIFIED = "modified"
    DELETED = "deleted"
    REORDERED = "reordered"


@dataclass(frozen=True, slots=True)
class Problem:
    kind: Kind
    seq: int  # the position in the chain where the problem shows
    id: int | None  # the stored record found there (None: nothing left, e.g. a truncated tail)
    message: str

    def to_json(self) -> dict[str, object]:
        return {"kind": str(self.kind), "seq": self.seq, "id": self.id, "message": self.message}


@dataclass(frozen=True, slots=True)
class Report:
    checked: int
    head_seq: int
    head_hash: str
    problem: Problem | None

    @property
    def ok(self) -> bool:
        return self.problem is None

    def to_json(self) -> dict[str, object]:
        return {
            "ok": self.ok,
            "checked": self.checked,
            "head": {"seq": self.head_seq, "hash": self.head_hash},
            "problem": None if self.problem is None else self.problem.to_json(),
        }


def _moved_from(entry: Entry) -> int | None:
    """The position this record was hashed at, if it verifies at another nearby position."""
    low = max(1, entry.seq - REORDER_WINDOW)
    for seq in range(low, entry.seq + REORDER_WINDOW + 1):
        if seq != entry.seq and entry_hash(entry, seq=seq) == entry.row_hash:
            return seq
    return None


def _diagnose(
    entry: Entry, seq: int, prev: tuple[int | None, str], find: Callable[[str], Entry | None]
) -> Problem:
    """Why ``entry`` does not fit at position ``seq`` after the record ``prev`` (id, hash)."""
    prev_id, prev_hash = prev
    where = f"seq {seq} (id {entry.id})"
    follows = find(entry.prev_hash) if entry.prev_hash != GENESIS else None
    moved = follows is not None and follows.id != prev_id
    moved = moved or (entry.prev_hash == GENESIS and seq != 1)
    if entry.seq < seq:
        return Problem(Kind.REORDERED, seq, entry.id, f"seq {entry.seq} repeats or goes backwards at {where}")
    if entry.seq > seq:
        if moved:
            return Problem(
                Kind.REORDERED,
                seq,
                entry.id,
                f"seq {seq} is not in its place: id {entry.id} (seq {entry.seq}) follows "
                f"{_describe(follows)} in the chain",
            )
        gap = f"seq {seq}" if entry.seq == seq + 1 else f"seq {seq}–{entry.seq - 1}"
        return Problem(Kind.DELETED, seq, entry.id, f"{gap} missing: the chain resumes at seq {entry.seq}")
    if entry.prev_hash == prev_hash:
        return Problem(Kind.MODIFIED, seq, entry.id, f"{where} was modified: its hash does not match")
    if moved:
        return Problem(
            Kind.REORDERED,
            seq,
            entry.id,
            f"{where} was moved: it follows {_describe(follows)}, not the record at seq {seq - 1}",
        )
    original = _moved_from(entry)
    if original is not None and original > seq:
        return Problem(
            Kind.DELETED,
            seq,
            entry.id,
            f"{where} was written as seq {original}: records before it were deleted and the rest renumbered",
        )
    if original is not None:
        return Problem(Kind.REORDERED, seq, entry.id, f"{where} was written as seq {original}")
    if entry_hash(entry) != entry.row_hash:
        return Problem(Kind.MODIFIED, seq, entry.id, f"{where} was modified: its hash does not match")
    return Problem(
        Kind.DELETED,
        seq,
        entry.id,
        f"the record {where} follows (hash {entry.prev_hash[:12]}…) is missing: deleted, or seq {seq - 1} "
        "was rewritten",
    )


def _describe(entry: Entry | None) -> str:
    return "the start of the chain" if entry is None else f"id {entry.id} (seq {entry.seq})"


def verify(
    entries: Iterable[Entry],
    *,
    find: Callable[[str], Entry | None],
    expect_head: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> Report:
    """Walk ``entries`` in seq order and report the first break.

    ``find(hash)`` returns the stored record with that ``row_hash`` (only called to tell a moved record from
    a deleted one). ``expect_head`` is a hash recorded earlier (``audit verify`` prints the head): it must
    still be in the chain, or its tail was cut off.
    """
    seq, prev_id, prev_hash, last_id = 0, None, GENESIS, None
    seen_head = expect_head is None
    for entry in entries:
        expected = seq + 1
        if entry.seq != expected or entry.prev_hash != prev_hash or entry_hash(entry) != entry.row_hash:
            problem = _diagnose(entry, expected, (prev_id, prev_hash), find)
            return Report(seq, seq, prev_hash, problem)
        if last_id is not None and entry.id is not None and entry.id <= last_id:
            problem = Problem(
                Kind.REORDERED,
                expected,
                entry.id,
                f"seq {expected} (id {entry.id}) was stored before seq {seq} (id {last_id})",
            )
            return Report(seq, seq, prev_hash, problem)
        seq, prev_id, prev_hash, last_id = expected, entry.id, entry.row_hash, entry.id
        seen_head = seen_head or entry.row_hash == expect_head
        if progress is not None:
            progress(seq)
    if not seen_head:
        problem = Problem(
            Kind.DELETED,
            seq + 1,
            None,
            f"the expected head {expect_head} is not in the chain (it ends at seq {seq}): records at its "
            "tail were deleted",
        )
        return Report(seq, seq, prev_hash, problem)
    return Report(seq, seq, prev_hash, None)
