"""PostgreSQL's ``audit_append`` (migration 0047) hashes a record exactly as ``audit.chain.entry_hash`` does,
for any text the columns hold and any time zone: otherwise ``audit verify`` would report a chain written
by the server as tampered with. Generated text covers what JSON escapes (quotes, backslashes, every control
character but NUL, which PostgreSQL text cannot hold), characters beyond the BMP, and the limits of each
column."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, text

from xiaodai.audit import trail
from xiaodai.audit.chain import GENESIS, Entry, entry_hash

APPEND = (
    "SELECT a.seq, a.prev_hash, a.row_hash FROM audit_append(:key, :genesis, "
    "CAST(:at AS timestamptz[]), CAST(:actor AS varchar[]), CAST(:action AS varchar[]), "
    "CAST(:subject AS varchar[]), CAST(:reason AS varchar[]), CAST(:payload AS text[])) AS a ORDER BY a.seq"
)

_CHARACTERS = st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00")
_SPECIAL = st.sampled_from(
    ['"', "\\", "\b", "\f", "\n", "\r", "\t", "\x01", "\x1f", "\x7f", "\u2028", "中", "😀"]
)


def _text(limit: int) -> st.SearchStrategy[str]:
    return st.lists(st.one_of(_CHARACTERS, _SPECIAL), max_size=limit).map("".join)


_ZONES = st.builds(
    lambda minutes: timezone(timedelta(minutes=minutes)), st.integers(min_value=-14 * 60, max_value=14 * 60)
)
_RECORD = st.fixed_dictionaries(
    {
        "occurred_at": st.datetimes(  # hypothesis takes naive bounds and adds the zone
            min_value=datetime(1900, 1, 2),  # noqa: DTZ001
            max_value=datetime(9000, 1, 1),  # noqa: DTZ001
            timezones=_ZONES,
        ),
        "actor": _text(100),
        "action": _text(60),
        "subject": _text(100),
        "reason": _text(60),
        "payload": _text(300),
    }
)
_ODD = {
    "occurred_at": datetime(1999, 12, 31, 23, 59, 59, 999999, tzinfo=timezone(timedelta(hours=-5))),
    "actor": 'a"b\\c\n\t\x01\x1f',
    "action": "\u2028\u2029\x7f",
    "subject": "借款人:张三 😀",
    "reason": "",
    "payload": '{"k": "\\u4e2d", "n": null}',
}


@pytest.fixture
def postgresql(engine: Engine) -> Engine:
    if engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL only: SQLite chains in the client")
    return engine


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(records=st.lists(_RECORD, min_size=1, max_size=4))
@example(records=[_ODD, {**_ODD, "occurred_at": datetime(2026, 1, 1, tzinfo=UTC), "reason": "中" * 60}])
def test_the_server_hashes_as_audit_chain_does(postgresql: Engine, records: list[dict[str, Any]]) -> None:
    with postgresql.connect() as c:
        head = c.execute(text("SELECT seq, row_hash FROM audit_events ORDER BY seq DESC LIMIT 1")).first()
        seq, prev = (0, GENESIS) if head is None else (int(head[0]), str(head[1]))
        got = c.execute(
            text(APPEND),
            {
                "key": trail.LOCK_KEY,
                "genesis": GENESIS,
                "at": [r["occurred_at"] for r in records],
                **{k: [r[k] for r in records] for k in ("actor", "action", "subject", "reason", "payload")},
            },
        ).all()
        c.rollback()
    expected = []
    for record in records:
        seq += 1
        row_hash = entry_hash(Entry(seq=seq, prev_hash=prev, **record))
        expected.append((seq, prev, row_hash))
        prev = row_hash
    assert [tuple(row) for row in got] == expected
