"""The audit hash chain (pure): the canonical form, time normalisation, and what ``verify`` reports for each
kind of tampering."""

from __future__ import annotations

import dataclasses
import hashlib
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from xiaodai.audit.chain import GENESIS, Entry, Kind, Report, entry_hash, utc_text, verify

AT = datetime(2026, 3, 10, 1, 2, 3, 4, tzinfo=UTC)


def entry(seq: int = 1, prev: str = GENESIS, **fields: object) -> Entry:
    base: dict[str, object] = {
        "occurred_at": AT,
        "actor": "user:7",
        "action": "pii-view",
        "subject": "user:42",
        "reason": "ALLOWED",
        "payload": '{"fields": ["phone"]}',
    }
    base.update(fields)
    return Entry(seq=seq, prev_hash=prev, **base)  # type: ignore[arg-type]


def test_hash_is_sha256_of_the_documented_canonical_json() -> None:
    text = (
        '{"action":"pii-view","actor":"user:7","occurred_at":"2026-03-10T01:02:03.000004+00:00",'
        '"payload":"{\\"fields\\": [\\"phone\\"]}","prev_hash":"' + "0" * 64 + '","reason":"ALLOWED",'
        '"seq":1,"subject":"user:42"}'
    )
    assert entry_hash(entry()) == hashlib.sha256(text.encode()).hexdigest()


def test_times_are_normalised_to_utc_with_microseconds() -> None:
    shanghai = timezone(timedelta(hours=8))
    assert utc_text(datetime(2026, 3, 10, 9, 0, tzinfo=shanghai)) == "2026-03-10T01:00:00.000000+00:00"
    naive = AT.replace(tzinfo=None)  # what SQLite gives back
    assert entry_hash(entry(occurred_at=naive)) == entry_hash(entry())
    assert entry_hash(entry(occurred_at=AT.astimezone(shanghai))) == entry_hash(entry())


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("seq", 2),
        ("occurred_at", AT + timedelta(microseconds=1)),
        ("actor", "user:8"),
        ("action", "pii-unmask"),
        ("subject", "user:43"),
        ("reason", "BREAK_GLASS"),
        ("payload", '{"fields": ["id_number"]}'),
        ("prev_hash", "1" * 64),
    ],
)
def test_every_hashed_field_changes_the_hash(field: str, value: object) -> None:
    assert entry_hash(dataclasses.replace(entry(), **{field: value})) != entry_hash(entry())


def test_storage_id_is_not_hashed() -> None:
    assert entry_hash(dataclasses.replace(entry(), id=99)) == entry_hash(entry())


def chain(n: int) -> list[Entry]:
    out: list[Entry] = []
    prev = GENESIS
    for seq in range(1, n + 1):
        raw = entry(seq, prev, payload=f'{{"n": {seq}}}', occurred_at=AT + timedelta(seconds=seq))
        done = dataclasses.replace(raw, row_hash=entry_hash(raw), id=seq * 10)
        out.append(done)
        prev = done.row_hash
    return out


def check(entries: list[Entry], expect_head: str | None = None) -> Report:
    by_hash = {e.row_hash: e for e in entries}
    return verify(
        sorted(entries, key=lambda e: (e.seq, e.id or 0)), find=by_hash.get, expect_head=expect_head
    )


def renumber(e: Entry, seq: int) -> Entry:
    return dataclasses.replace(e, seq=seq)


def test_intact_chain_and_empty_chain() -> None:
    entries = chain(5)
    report = check(entries, expect_head=entries[2].row_hash)
    assert report.ok
    assert (report.checked, report.head_seq, report.head_hash) == (5, 5, entries[-1].row_hash)
    assert check([]).ok
    assert check([]).head_hash == GENESIS


def test_modified_row() -> None:
    entries = chain(5)
    entries[2] = dataclasses.replace(entries[2], payload='{"n": 99}')
    problem = check(entries).problem
    assert problem is not None
    assert (problem.kind, problem.seq, problem.id) == (Kind.MODIFIED, 3, 30)


def test_modified_row_with_its_hash_recomputed_breaks_the_next_link() -> None:
    entries = chain(5)
    forged = dataclasses.replace(entries[2], payload='{"n": 99}')
    entries[2] = dataclasses.replace(forged, row_hash=entry_hash(forged))
    problem = check(entries).problem
    assert problem is not None
    assert (problem.kind, problem.seq, problem.id) == (Kind.DELETED, 4, 40)
    assert "seq 3 was rewritten" in problem.message


def test_deleted_rows_in_the_middle() -> None:
    entries = chain(6)
    del entries[2:4]
    problem = check(entries).problem
    assert problem is not None
    assert (problem.kind, problem.seq, problem.id) == (Kind.DELETED, 3, 50)
    assert "seq 3–4 missing" in problem.message


def test_deleted_row_with_the_rest_renumbered() -> None:
    entries = chain(5)
    entries = entries[:2] + [renumber(e, e.seq - 1) for e in entries[3:]]
    problem = check(entries).problem
    assert problem is not None
    assert (problem.kind, problem.seq, problem.id) == (Kind.DELETED, 3, 40)


def test_deleted_tail_needs_the_recorded_head() -> None:
    entries = chain(5)
    head = entries[-1].row_hash
    assert check(entries[:3]).ok  # a cut tail leaves a valid shorter chain ...
    problem = check(entries[:3], expect_head=head).problem  # ... which the recorded head exposes
    assert problem is not None
    assert (problem.kind, problem.seq, problem.id) == (Kind.DELETED, 4, None)


def test_reordered_rows() -> None:
    entries = chain(5)
    entries[1], entries[2] = renumber(entries[1], 3), renumber(entries[2], 2)
    problem = check(entries).problem
    assert problem is not None
    assert (problem.kind, problem.seq, problem.id) == (Kind.REORDERED, 2, 30)


def test_row_moved_to_the_end() -> None:
    entries = chain(5)
    entries[1] = renumber(entries[1], 6)
    problem = check(entries).problem
    assert problem is not None
    assert (problem.kind, problem.seq, problem.id) == (Kind.REORDERED, 2, 30)


def test_rows_stored_out_of_order() -> None:
    entries = chain(4)
    entries[1], entries[2] = (dataclasses.replace(entries[1], id=30), dataclasses.replace(entries[2], id=20))
    problem = check(entries).problem
    assert problem is not None
    assert (problem.kind, problem.seq) == (Kind.REORDERED, 3)


@given(
    n=st.integers(2, 25),
    data=st.data(),
    attack=st.sampled_from(["modify", "delete", "swap", "truncate"]),
)
def test_any_single_tampering_is_caught_where_it_happened(n: int, data: st.DataObject, attack: str) -> None:
    entries = chain(n)
    head = entries[-1].row_hash
    i = data.draw(st.integers(0, n - 2))
    expected = {"modify": Kind.MODIFIED, "delete": Kind.DELETED, "swap": Kind.REORDERED}
    if attack == "modify":
        field = data.draw(st.sampled_from(["actor", "action", "subject", "reason", "payload"]))
        entries[i] = dataclasses.replace(entries[i], **{field: "x"})
    elif attack == "delete":
        del entries[i]
    elif attack == "swap":
        entries[i], entries[i + 1] = renumber(entries[i], i + 2), renumber(entries[i + 1], i + 1)
    else:
        entries = entries[: i + 1]
    report = check(entries, expect_head=head)
    where = i + 2 if attack == "truncate" else i + 1  # the first position that is not what was written
    assert report.problem is not None
    assert report.problem.kind == expected.get(attack, Kind.DELETED)
    assert report.problem.seq == where
    assert report.head_seq == where - 1  # everything before it still verifies
