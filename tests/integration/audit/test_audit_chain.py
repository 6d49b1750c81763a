"""The audit trail as stored, on SQLite and PostgreSQL: chained on commit, append-only in the database, and
``audit verify`` finds a modified, a deleted and a reordered row where it happened — after the attacker has
dropped or disabled the triggers, as anyone with database access could."""

from __future__ import annotations

import itertools
import json
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import pytest
from alembic import command
from sqlalchemy import Connection, Engine, event, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from support.databases import admin, pg_url
from xiaodai.audit import trail
from xiaodai.audit.chain import GENESIS, Entry, Kind, entry_hash
from xiaodai.db.inserts import queue_insert
from xiaodai.db.migrate import alembic_config, upgrade
from xiaodai.db.session import make_engine, session_factory
from xiaodai.db.tables import AuditEventRow, BlocklistRow


def write(factory: sessionmaker[Session], n: int, *, per_transaction: int = 2) -> None:
    for start in range(0, n, per_transaction):
        with factory() as s, s.begin():
            for k in range(start, min(n, start + per_transaction)):
                trail.record(
                    s,
                    actor=f"user:{k % 3}",
                    action="pii-view",
                    subject=f"user:{100 + k}",
                    reason="ALLOWED",
                    payload={"fields": ["phone"], "k": k},
                    version="masking-1",
                )


def rows(factory: sessionmaker[Session]) -> list[AuditEventRow]:
    with factory() as s:
        return list(s.execute(select(AuditEventRow).order_by(AuditEventRow.seq)).scalars())


def verify(factory: sessionmaker[Session], expect_head: str | None = None) -> Any:
    with factory() as s:
        return trail.verify_chain(s, expect_head=expect_head)


@contextmanager
def attacker(engine: Engine) -> Iterator[Connection]:
    """Direct database access with the append-only triggers out of the way."""
    with engine.begin() as c:
        if engine.dialect.name == "sqlite":
            c.exec_driver_sql("DROP TRIGGER IF EXISTS audit_events_no_update")
            c.exec_driver_sql("DROP TRIGGER IF EXISTS audit_events_no_delete")
        else:
            c.exec_driver_sql("ALTER TABLE audit_events DISABLE TRIGGER USER")
        yield c
        if engine.dialect.name != "sqlite":
            c.exec_driver_sql("ALTER TABLE audit_events ENABLE TRIGGER USER")


def test_events_are_chained_in_order_across_transactions(factory: sessionmaker[Session]) -> None:
    write(factory, 7, per_transaction=3)
    stored = rows(factory)
    assert [r.seq for r in stored] == list(range(1, 8))
    assert stored[0].prev_hash == GENESIS
    assert all(b.prev_hash == a.row_hash for a, b in itertools.pairwise(stored))
    assert [json.loads(r.payload)["k"] for r in stored] == list(range(7))
    assert json.loads(stored[0].payload)["version"] == "masking-1"
    report = verify(factory)
    assert report.ok, report.problem
    assert (report.checked, report.head_hash) == (7, stored[-1].row_hash)


def test_plain_constructors_chain_too_and_rollback_writes_nothing(factory: sessionmaker[Session]) -> None:
    with factory() as s, s.begin():
        s.add(AuditEventRow(actor="a", action="x", subject="s:1", reason="R", payload="{}"))
        s.flush()  # waits for the commit: not yet in the table
        assert s.execute(select(AuditEventRow)).first() is None
        assert len(trail.pending(s)) == 1
        s.add(AuditEventRow(actor="a", action="y", subject="s:1", reason="R"))
    with factory() as s, s.begin():
        trail.record(s, actor="a", action="z", subject="s:1", reason="R")
        s.flush()
        s.rollback()  # the request failed: its audit events go with it (refusals use their own transaction)
    with factory() as s, s.begin():
        trail.record(s, actor="a", action="w", subject="s:1", reason="R")
    assert [(r.seq, r.action) for r in rows(factory)] == [(1, "x"), (2, "y"), (3, "w")]
    assert verify(factory).ok


def test_the_database_refuses_update_and_delete(factory: sessionmaker[Session], engine: Engine) -> None:
    write(factory, 2)
    statements = ["UPDATE audit_events SET reason = 'X'", "DELETE FROM audit_events"]
    if engine.dialect.name == "postgresql":
        statements.append("TRUNCATE audit_events")
    for statement in statements:
        with pytest.raises(DBAPIError, match="append-only"), factory() as s, s.begin():
            s.execute(text(statement))
    with pytest.raises(trail.AuditError, match="append-only"), factory() as s, s.begin():
        s.execute(select(AuditEventRow)).scalars().first().reason = "X"  # type: ignore[union-attr]
    assert verify(factory).ok


def test_modified_row(factory: sessionmaker[Session], engine: Engine) -> None:
    write(factory, 5)
    target = rows(factory)[2]
    with attacker(engine) as c:
        c.execute(text("UPDATE audit_events SET actor = 'user:0' WHERE seq = 3"))
    problem = verify(factory).problem
    assert (problem.kind, problem.seq, problem.id) == (Kind.MODIFIED, 3, target.id)


def test_deleted_row_in_the_middle(factory: sessionmaker[Session], engine: Engine) -> None:
    write(factory, 5)
    after = rows(factory)[3]
    with attacker(engine) as c:
        c.execute(text("DELETE FROM audit_events WHERE seq = 3"))
    report = verify(factory)
    assert (report.problem.kind, report.problem.seq, report.problem.id) == (Kind.DELETED, 3, after.id)
    assert report.head_seq == 2


def test_deleted_tail_is_caught_with_the_recorded_head(
    factory: sessionmaker[Session], engine: Engine
) -> None:
    write(factory, 5)
    head = verify(factory).head_hash
    with attacker(engine) as c:
        c.execute(text("DELETE FROM audit_events WHERE seq >= 4"))
    assert verify(factory).ok  # a shorter chain is still a chain ...
    problem = verify(factory, expect_head=head).problem  # ... but the recorded head is gone
    assert (problem.kind, problem.seq, problem.id) == (Kind.DELETED, 4, None)


def test_reordered_row(factory: sessionmaker[Session], engine: Engine) -> None:
    write(factory, 5)
    moved = rows(factory)[2]
    with attacker(engine) as c:
        c.execute(text("UPDATE audit_events SET seq = -seq WHERE seq IN (2, 3)"))
        c.execute(text("UPDATE audit_events SET seq = 3 WHERE seq = -2"))
        c.execute(text("UPDATE audit_events SET seq = 2 WHERE seq = -3"))
    problem = verify(factory).problem
    assert (problem.kind, problem.seq, problem.id) == (Kind.REORDERED, 2, moved.id)


def test_unique_seq_refuses_a_fork(factory: sessionmaker[Session], engine: Engine) -> None:
    write(factory, 2)
    head = rows(factory)[-1]
    with pytest.raises(IntegrityError), engine.begin() as c:
        c.execute(
            text(
                "INSERT INTO audit_events (seq, occurred_at, actor, action, subject, reason, payload, "
                "prev_hash, row_hash) VALUES (2, CURRENT_TIMESTAMP, 'a', 'x', 's', 'R', '{}', :p, :h)"
            ),
            {"p": head.prev_hash, "h": "f" * 64},
        )


def test_a_large_transaction_is_chained_in_batches(factory: sessionmaker[Session]) -> None:
    """More rows than one insert takes (PostgreSQL: 1,000 rows a statement, under its parameter limit)."""
    write(factory, 2)
    write(factory, 2_500, per_transaction=2_500)
    stored = rows(factory)
    assert [r.seq for r in stored] == list(range(1, 2_503))
    assert [json.loads(r.payload)["k"] for r in stored[2:]] == list(range(2_500))  # in recording order
    report = verify(factory)
    assert report.ok, report.problem
    assert report.checked == 2_502


def test_concurrent_writers_keep_one_chain(factory: sessionmaker[Session]) -> None:
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            for k in range(50):
                with factory() as s, s.begin():
                    trail.record(s, actor=f"worker:{n}", action="pii-view", subject=f"user:{k}", reason="OK")
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    stored = rows(factory)
    assert [r.seq for r in stored] == list(range(1, 201))
    report = verify(factory)
    assert report.ok, report.problem
    assert report.checked == 200


def waiting_for_the_chain_lock(watch: Connection, writer: threading.Thread) -> int:
    """How many backends of this database wait for an advisory lock, polled (up to ~5 s) until one does."""
    waiting = 0
    for _ in range(500):
        waiting = watch.execute(
            text(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
                " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
            )
        ).scalar_one()
        watch.rollback()
        if waiting:
            break
        writer.join(0.01)
    return int(waiting)


def test_an_open_transaction_does_not_hold_up_other_writers(
    db_url: str, factory: sessionmaker[Session]
) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("SQLite serialises every writer at BEGIN anyway")
    with factory() as slow:
        slow.begin()
        trail.record(slow, actor="campaign", action="contact-decision", subject="loan:1", reason="ALLOWED")
        slow.flush()
        with factory() as quick, quick.begin():
            quick.execute(text("SET LOCAL lock_timeout = '2s'"))
            trail.record(quick, actor="user:1", action="pii-view", subject="user:1", reason="ALLOWED")
        slow.commit()
    assert [r.actor for r in rows(factory)] == ["user:1", "campaign"]
    assert verify(factory).ok


def test_a_writer_that_waited_for_the_chain_lock_chains_after_the_one_it_waited_for(
    db_url: str, factory: sessionmaker[Session], engine: Engine
) -> None:
    """The lock and the head are one statement (``audit_chain_head``): the head must still be read with a
    snapshot taken after the lock was granted. Writer B blocks on the lock while A holds it; A then commits
    a row; B must chain after A's row (a head read with a snapshot from before the wait would give B the
    same ``seq`` as A, and B's insert would fail on the unique ``seq``)."""
    if not db_url.startswith("postgresql"):
        pytest.skip("SQLite serialises every writer at BEGIN")
    write(factory, 2)
    outcome: list[BaseException | None] = []

    def writer_b() -> None:
        try:
            with factory() as s, s.begin():
                trail.record(s, actor="b", action="pii-view", subject="user:2", reason="ALLOWED")
            outcome.append(None)
        except BaseException as exc:  # reported below
            outcome.append(exc)

    with factory() as a:
        a.begin()
        trail.record(a, actor="a", action="pii-view", subject="user:1", reason="ALLOWED")
        a.execute(text("SELECT * FROM audit_chain_head(:key)"), {"key": trail.LOCK_KEY})  # A holds the lock
        b = threading.Thread(target=writer_b)
        b.start()
        with engine.connect() as watch:
            assert waiting_for_the_chain_lock(watch, b) == 1
        a.commit()
    b.join(30)
    assert outcome == [None]
    assert [(r.seq, r.actor) for r in rows(factory)][2:] == [(3, "a"), (4, "b")]
    assert verify(factory).ok


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_migration_chains_existing_rows(backend: str, tmp_path: Any) -> None:
    if backend == "sqlite":
        url, drop = f"sqlite:///{tmp_path / 'm.db'}", None
    else:
        name = f"xiaodai_m_{uuid.uuid4().hex[:10]}"
        admin(f'CREATE DATABASE "{name}"')
        url, drop = pg_url(name), name
    try:
        upgrade(url, "0010")
        engine = make_engine(url)
        with engine.begin() as c:
            for k in range(3):
                c.execute(
                    text(
                        "INSERT INTO audit_events (actor, action, subject, reason, payload) "
                        "VALUES ('system', 'charge', :s, 'OK', '{}')"
                    ),
                    {"s": f"loan:{k}"},
                )
        upgrade(url)
        factory = session_factory(engine)
        write(factory, 2)
        stored = rows(factory)
        assert [(r.seq, r.subject) for r in stored[:3]] == [(1, "loan:0"), (2, "loan:1"), (3, "loan:2")]
        assert verify(factory).ok
        assert verify(factory).checked == 5
        engine.dispose()
    finally:
        if drop:
            admin(f'DROP DATABASE IF EXISTS "{drop}" WITH (FORCE)')


def test_cli_verify_and_list(cli: Any, factory: sessionmaker[Session], engine: Engine) -> None:
    assert cli("audit", "verify", "--json")["checked"] == 0
    write(factory, 4)
    intact = cli("audit", "verify", "--json")
    assert intact["ok"] is True
    head = intact["head"]["hash"]
    assert f"head seq 4 {head}" in cli("audit", "verify").stdout
    cli("audit", "verify", "--expect-head", head)
    cli("audit", "verify", "--expect-head", "nothex", code=2)
    listed = cli("audit", "list", "--subject", "user:101", "--json")
    assert [(e["seq"], e["payload"]["k"]) for e in listed] == [(2, 1)]
    assert [e["seq"] for e in cli("audit", "list", "--action", "pii-view", "--limit", "2", "--json")] == [
        4,
        3,
    ]
    assert "pii-view" in cli("audit", "list").stdout
    with attacker(engine) as c:
        c.execute(text("DELETE FROM audit_events WHERE seq = 4"))
    cli("audit", "verify")  # the cut tail alone looks like a shorter chain
    broken = json.loads(cli("audit", "verify", "--expect-head", head, "--json", code=1).stdout)
    assert broken["ok"] is False
    assert broken["problem"]["kind"] == "deleted"
    with attacker(engine) as c:
        c.execute(text("UPDATE audit_events SET payload = '{}' WHERE seq = 2"))
    result = cli("audit", "verify", code=1)
    assert "BROKEN at seq 2" in result.stderr
    assert "modified" in result.stderr


def _statements(engine: Engine) -> tuple[list[str], Any]:
    seen: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        seen.append(" ".join(statement.split()))

    return seen, count


def test_writers_of_two_processes_take_turns_in_one_statement_each(db_url: str) -> None:
    """PostgreSQL: each audited commit is ONE statement (``audit_append``: the lock, the head read under it,
    the hashes, the insert), sent with the COMMIT — whichever process moved the head last. Two engines (two
    processes) take turns; the chain verifies."""
    if not db_url.startswith("postgresql"):
        pytest.skip("SQLite reads the head under its write lock")
    first, second = make_engine(db_url), make_engine(db_url)
    try:
        a, b = session_factory(first), session_factory(second)
        seen, count = _statements(first)
        event.listen(first, "before_cursor_execute", count)
        try:
            for k in range(6):
                for factory in (a, b):
                    with factory() as s, s.begin():
                        trail.record(s, actor=f"p{k}", action="pii-view", subject="user:1", reason="ALLOWED")
                        trail.record(s, actor=f"q{k}", action="pii-view", subject="user:2", reason="ALLOWED")
        finally:
            event.remove(first, "before_cursor_execute", count)
        assert len(seen) == 6, seen  # one per transaction of the first engine
        assert all("FROM audit_append(" in q for q in seen), seen
        stored = rows(a)
        assert [r.seq for r in stored] == list(range(1, 25))
        assert [r.actor for r in stored][:4] == ["p0", "q0", "p0", "q0"]
        assert verify(a).ok
    finally:
        first.dispose()
        second.dispose()


def test_the_rows_in_memory_carry_what_was_stored(factory: sessionmaker[Session]) -> None:
    """After the commit, the recorded events (``PendingEvent`` or ``AuditEventRow``) hold the id, seq and
    hashes of their stored rows, on both backends (PostgreSQL: as the server computed them)."""
    write(factory, 1)
    with factory() as s, s.begin():
        pending = trail.record(s, actor="a", action="pii-view", subject="user:1", reason="ALLOWED")
        added = AuditEventRow(actor="b", action="pii-view", subject="user:2", reason="ALLOWED", payload="{}")
        s.add(added)
    stored = {r.seq: r for r in rows(factory)}
    for event_row in (pending, added):
        row = stored[event_row.seq]
        assert (event_row.id, event_row.prev_hash, event_row.row_hash) == (
            row.id,
            row.prev_hash,
            row.row_hash,
        )
    assert [pending.seq, added.seq] == [2, 3]
    assert verify(factory).ok


def test_a_failed_append_commits_nothing(factory: sessionmaker[Session], engine: Engine) -> None:
    """The append and the COMMIT go together (PostgreSQL): when the append fails (here an action longer than
    its column), the transaction is rolled back whole — its other rows are not committed, the chain is as
    it was — and the next writer chains after the stored head."""
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite does not enforce the column's length (and chains in the client)")
    write(factory, 2)

    def failing() -> None:
        with factory() as s, s.begin():
            s.add(
                AuditEventRow(actor="x", action="pii-view", subject="user:7", reason="ALLOWED", payload="{}")
            )
            trail.record(s, actor="x", action="a" * 61, subject="user:8", reason="ALLOWED")

    with pytest.raises(DBAPIError, match="too long"):
        failing()
    write(factory, 1)
    stored = rows(factory)
    assert [(r.seq, r.subject) for r in stored] == [(1, "user:100"), (2, "user:101"), (3, "user:100")]
    assert verify(factory).ok
    with engine.connect() as c:  # no lock left behind
        locks = (
            c.execute(text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'"))
            if (engine.dialect.name == "postgresql")
            else None
        )
        assert locks is None or locks.scalar_one() == 0


APPEND = (
    "SELECT a.id, a.seq, a.prev_hash, a.row_hash FROM audit_append(:key, :genesis, "
    "CAST(:at AS timestamptz[]), CAST(:actor AS varchar[]), CAST(:action AS varchar[]), "
    "CAST(:subject AS varchar[]), CAST(:reason AS varchar[]), CAST(:payload AS text[])) AS a ORDER BY a.seq"
)


def appended(connection: Connection, events: list[dict[str, Any]]) -> Any:
    """``audit_append`` called directly with ``events`` (occurred_at, actor, action, subject, reason,
    payload)."""
    return connection.execute(
        text(APPEND),
        {
            "key": trail.LOCK_KEY,
            "genesis": GENESIS,
            "at": [e["occurred_at"] for e in events],
            **{
                name: [e[name] for e in events]
                for name in ("actor", "action", "subject", "reason", "payload")
            },
        },
    ).all()


def event_values(n: int, **changed: Any) -> dict[str, Any]:
    return {
        "occurred_at": datetime(2026, 6, 1, 8, 0, n, 123, tzinfo=UTC),
        "actor": "direct",
        "action": "pii-view",
        "subject": f"user:{n}",
        "reason": "ALLOWED",
        "payload": "{}",
        **changed,
    }


def test_the_append_function_chains_as_audit_chain_hashes(engine: Engine) -> None:
    """``audit_append`` (migration 0047): on an empty chain the first row follows (0, genesis); each row's
    hash is ``audit.chain.entry_hash`` of its fields; the rows follow the stored head, in the order given;
    the chain lock is held to the end of the transaction."""
    if engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL only: SQLite chains in the client under its write lock")
    with engine.begin() as c:
        first = appended(c, [event_values(1), event_values(2, payload='{"k": "\u4e2d"}')])
        second = appended(c, [event_values(3, reason="ALLOWED", actor="user:9")])
        got = [(seq, prev, row_hash) for _, seq, prev, row_hash in [*first, *second]]
        expected, prev = [], GENESIS
        for seq, values in enumerate(
            [event_values(1), event_values(2, payload='{"k": "\u4e2d"}'), event_values(3, actor="user:9")],
            start=1,
        ):
            row_hash = entry_hash(Entry(seq=seq, prev_hash=prev, **values))
            expected.append((seq, prev, row_hash))
            prev = row_hash
        assert got == expected
        assert first[0][0] < first[1][0] < second[0][0]
        locks = c.execute(
            text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()")
        ).scalar_one()
        assert locks == 1  # the chain lock, held to the end of the transaction
    assert verify(session_factory(engine)).ok


def test_migration_0047_replaces_the_append_function_and_its_downgrade_restores_it(empty_url: str) -> None:
    upgrade(empty_url, "0047")
    engine = make_engine(empty_url)
    try:
        postgresql = engine.dialect.name == "postgresql"
        count = "SELECT count(*) FROM pg_proc WHERE proname = :name"

        def functions() -> tuple[int, int]:
            with engine.connect() as c:
                return tuple(  # type: ignore[return-value]
                    c.execute(text(count), {"name": name}).scalar_one()
                    for name in ("audit_append", "audit_append_if_head")
                )

        if postgresql:
            assert functions() == (1, 0)
        command.downgrade(alembic_config(empty_url), "0046")
        if postgresql:
            assert functions() == (0, 1)
        command.upgrade(alembic_config(empty_url), "0047")
        if postgresql:
            assert functions() == (1, 0)
    finally:
        engine.dispose()


def test_migration_0046_creates_the_append_function_and_its_downgrade_drops_it(empty_url: str) -> None:
    upgrade(empty_url, "0046")
    engine = make_engine(empty_url)
    try:
        postgresql = engine.dialect.name == "postgresql"
        exists = text("SELECT count(*) FROM pg_proc WHERE proname = 'audit_append_if_head'")
        if postgresql:
            with engine.connect() as c:
                assert c.execute(exists).scalar_one() == 1
        command.downgrade(alembic_config(empty_url), "0044")
        if postgresql:
            with engine.connect() as c:
                assert c.execute(exists).scalar_one() == 0
    finally:
        engine.dispose()


def test_queued_rows_are_written_before_the_chain_lock_is_taken(
    db_url: str, factory: sessionmaker[Session], engine: Engine
) -> None:
    """PostgreSQL: the rows queued with ``db.inserts.queue_insert`` go in the audit append's statement, and
    are written BEFORE the function takes the chain lock (so the lock is not held while they are). While a
    writer waits for the chain lock, its queued row is already inserted: another insert of the same key
    waits for the writer's transaction (here: times out)."""
    if not db_url.startswith("postgresql"):
        pytest.skip("SQLite writes queued rows one statement each, under its write lock")
    outcome: list[BaseException | None] = []
    blocked = {"id": 987_654, "user_id": None, "id_number_bidx": "x" * 64, "reason": "FRAUD", "added_by": "t"}

    def writer() -> None:
        try:
            with factory() as s, s.begin():
                trail.record(s, actor="w", action="blocklist-add", subject="blocklist:987654", reason="FRAUD")
                queue_insert(s, BlocklistRow, {**blocked, "removed_at": None})
            outcome.append(None)
        except BaseException as exc:  # reported below
            outcome.append(exc)

    with engine.connect() as holder, engine.connect() as watch:
        holder.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": trail.LOCK_KEY})
        thread = threading.Thread(target=writer)
        thread.start()
        assert waiting_for_the_chain_lock(watch, thread) == 1
        watch.execute(text("SET lock_timeout = '300ms'"))
        with pytest.raises(DBAPIError, match="lock timeout"):
            watch.execute(
                text("INSERT INTO blocklist (id, reason, added_by) VALUES (:id, 'OTHER', 'other')"),
                {"id": blocked["id"]},
            )
        watch.rollback()
        holder.rollback()  # the chain lock released: the writer goes on and commits
    thread.join(30)
    assert outcome == [None]
    with factory() as s:
        assert s.get(BlocklistRow, blocked["id"]) is not None
    assert verify(factory).ok
