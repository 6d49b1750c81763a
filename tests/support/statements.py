"""Capture the SQL statements an app sends while a block runs (round-trip tests): each statement with its
white space folded to single spaces — through the engine, and on PostgreSQL the hot path's event-loop reads
(``api.async_reads``), its event-loop repayments on the driver (``api.loop_repay``) and through a session
(``api.loop_work``'s engine)."""

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

    state = client.app.state  # type: ignore[attr-defined]
    engines = [state.engine]
    if state.loop_work is not None and state.loop_work.engine is not None:  # PostgreSQL, lifespan started
        engines.append(state.loop_work.engine.sync_engine)
    # PostgreSQL: the event-loop reads and the event-loop repayments on the driver (api.loop_repay)
    pools = [pool for pool in (state.async_reads, state.payment_connections) if pool is not None]
    for engine in engines:
        event.listen(engine, "before_cursor_execute", record)
    for pool in pools:
        pool.observers.append(lambda statement: record(None, None, statement))
    try:
        yield seen
    finally:
        for engine in engines:
            event.remove(engine, "before_cursor_execute", record)
        for pool in pools:
            pool.observers.clear()
