"""An app on a fresh database (both backends) with the test model active, and signed-up borrowers."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event
from sqlalchemy.orm import Session

from support.failing_commit import Armed
from support.models import write_artifact
from xiaodai.accounts.token_cache import TOKENS
from xiaodai.api.app import create_app
from xiaodai.api.settings import Settings
from xiaodai.db.session import make_engine, session_factory
from xiaodai.underwriting import service as underwriting

TODAY = date(2026, 1, 10)


@pytest.fixture
def tokens_remembered_long(monkeypatch: pytest.MonkeyPatch) -> None:
    """Bearer tokens remembered for 10 minutes instead of 2 s (accounts.token_cache): for tests that tell a
    remembered token's request apart (statement counts, the hot path), where a step slowed by a loaded
    machine would otherwise find the token forgotten."""
    monkeypatch.setattr(TOKENS, "ttl", 600.0)


@pytest.fixture
def failing_commit(client: TestClient, db_url: str) -> Iterator[Armed]:
    """While the flag is set, every commit fails (as a lost connection or a constraint checked at commit):
    a session's commit raises before it is sent, and on PostgreSQL a COMMIT after a journal entry was
    written is refused by the database itself (a deferred constraint)."""
    armed = Armed(db_url)

    def boom(_session: Session) -> None:
        if armed.on:
            raise RuntimeError("commit failed (test)")

    event.listen(Session, "before_commit", boom)
    yield armed
    event.remove(Session, "before_commit", boom)
    if armed.engine is not None:
        armed.engine.dispose()


@pytest.fixture
def client(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    monkeypatch.setenv("XIAODAI_MODEL_DIR", str(tmp_path / "models"))
    engine = make_engine(db_url)
    with session_factory(engine)() as s, s.begin():
        underwriting.register_model(s, artifact=write_artifact(tmp_path / "artifact"), activate=True)
    engine.dispose()
    app = create_app(Settings(database_url=db_url, secret_key="test-secret-key", business_date=TODAY))
    with TestClient(app) as test_client:
        yield test_client
    app.state.engine.dispose()
