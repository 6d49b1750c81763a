"""Capture the SQL statements an app sends while a block runs (round-trip tests): each statement with its
white space folded to single spaces — through the engine, and on PostgreSQL the hot path's event-loop reads
(``api.async_reads``)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from fastapi.testclient import TestClient
from sqlalchemy import event


@contextmanager
def statements(client: TestClient) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        seen.append(" ".join(statement.split()))

    engine = client.app.state.engine  # type: ignore[attr-defined]
    reads = client.app.state.async_reads  # type: ignore[attr-defined]  # PostgreSQL: the event-loop reads
    event.listen(engine, "before_cursor_execute", record)
    if reads is not None:
        reads.observers.append(lambda statement: record(None, None, statement))
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)
        if reads is not None:
            reads.observers.clear()
