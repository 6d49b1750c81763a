"""Helpers of the shortcut tests (``hot_path``, ``hot_apply``): two answers the same, a table's row count."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import func, select


def count(client: TestClient, table: Any) -> int:
    with client.app.state.session_factory() as s:  # type: ignore[attr-defined]
        return int(s.execute(select(func.count()).select_from(table)).scalar_one())


def same_answer(hot: Response, full: Response) -> None:
    """The shortcut's answer is the full stack's: status, body and headers (but the request id)."""
    assert hot.status_code == full.status_code
    assert hot.content == full.content
    drop = {"x-request-id"}
    assert {k: v for k, v in hot.headers.items() if k not in drop} == {
        k: v for k, v in full.headers.items() if k not in drop
    }
    assert hot.headers["x-request-id"]  # the edge still stamps every answer
