"""A request's sessions end with a commit unless committing could do nothing (``deps._nothing_to_commit``):
what the request wrote, and the audit rows waiting for the commit, are always committed; a session that took
no connection, or only the autocommit reader's, is closed without the commit's machinery."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text

from support.journey import borrower
from xiaodai.api import deps
from xiaodai.db.tables import AuditEventRow


def test_what_needs_a_commit_is_told_apart(client: TestClient) -> None:
    state = client.app.state  # type: ignore[attr-defined]
    with state.session_factory() as untouched:
        untouched.begin()  # as a dependency's session is, with nothing done in it
        assert deps._nothing_to_commit(untouched)
    with state.session_factory() as read:
        read.execute(text("SELECT 1"))  # a transaction on a connection: it is committed
        assert not deps._nothing_to_commit(read)
    with state.session_factory() as writing:
        writing.begin()
        writing.add(
            AuditEventRow(occurred_at=datetime.now(tz=UTC), actor="t", action="a", subject="s", reason="r")
        )
        assert not deps._nothing_to_commit(writing)
    with state.session_factory() as waiting:
        waiting.begin()
        waiting.info["something"] = "held for the commit"
        assert not deps._nothing_to_commit(waiting)
    with state.read_session_factory() as reader:
        reader.execute(text("SELECT 1"))
        autocommit = state.read_session_factory is not state.session_factory
        assert deps._nothing_to_commit(reader) is autocommit  # SQLite's reader is the ordinary session


def test_an_audit_row_flushed_before_the_end_is_committed(client: TestClient) -> None:
    state = client.app.state  # type: ignore[attr-defined]
    session = state.session_factory()
    token = deps.REQUEST_SESSIONS.set((session,))
    try:
        session.add(
            AuditEventRow(occurred_at=datetime.now(tz=UTC), actor="t", action="a", subject="kept", reason="r")
        )
        session.flush()  # the audit chain holds the row back until the commit (in session.info)
        assert not deps._nothing_to_commit(session)
        deps.finish_sessions(commit=True)
    finally:
        deps.REQUEST_SESSIONS.reset(token)
    with state.session_factory() as check:
        kept = check.execute(select(func.count()).where(AuditEventRow.subject == "kept")).scalar_one()
    assert kept == 1


@pytest.mark.parametrize("path", ["/api/loans", "/api/auth/me"])
def test_reads_answered_from_the_token_memory_still_answer(client: TestClient, path: str) -> None:
    me = borrower(client, f"fin{path.count('/')}@example.com")
    first = client.get(path, headers=me)
    again = client.get(path, headers=me)  # the token remembered: the request's session takes no connection
    assert first.status_code == again.status_code == 200
    assert again.json() == first.json()
