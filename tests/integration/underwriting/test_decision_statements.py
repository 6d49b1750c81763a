"""How many statements a credit decision costs (round trips are what the decision's latency is made of on a
busy database): one read for everything the database knows, then only the writes — on SQLite and
PostgreSQL. Counted with a ``before_cursor_execute`` listener, so the figures do not depend on load."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import Engine, event, select
from sqlalchemy.orm import Session, sessionmaker

from support.models import applicant, application, write_artifact
from support.payment_books import standard_loan
from xiaodai.db.tables import BureauPullRow, DecisionRow
from xiaodai.underwriting import service


@pytest.fixture
def model_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XIAODAI_MODEL_DIR", str(tmp_path / "store"))
    return write_artifact(tmp_path / "artifact")


@contextmanager
def counted(engine: Engine) -> Iterator[list[str]]:
    statements: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        statements.append(" ".join(statement.split()))

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def test_a_decision_is_one_read_and_its_writes(
    engine: Engine, factory: sessionmaker[Session], model_dir: Path
) -> None:
    with factory() as s, s.begin():
        service.register_model(s, artifact=model_dir, activate=True)
        new, returning = applicant(s, "new@example.com"), applicant(s, "back@example.com")
    standard_loan(factory, returning, term=12, principal=5000)  # a returning borrower
    for n, user in enumerate((new, returning, new)):  # the first ones store the policy version
        with factory() as s, s.begin():
            service.decide_and_record(s, application_json=application(f"W-{n}", user, as_of="2026-06-01"))
    for n, user in enumerate((new, returning)):
        with counted(engine) as statements, factory() as s, s.begin():
            result = service.decide_and_record(
                s, application_json=application(f"C-{n}", user, as_of="2026-06-01")
            )
        assert result["outcome"] in ("approve", "refer", "decline")
        if engine.dialect.name == "postgresql":
            # the read (with the ids the credit-report pull and the decision take), then at commit the pull,
            # the decision, and both events (the pull's and the decision's) chained by the server under the
            # audit chain's lock (``audit_append``) — one statement, sent with the COMMIT
            assert statements[0].startswith("SELECT (SELECT decisions.id"), statements
            assert statements[1].startswith("WITH q0 AS (INSERT INTO bureau_pulls"), statements
            assert "q1 AS (INSERT INTO decisions" in statements[1], statements
            assert "LATERAL audit_append(" in statements[1], statements
            assert len(statements) == 2, statements
            with factory() as s:  # all of it stored
                stored = s.get(DecisionRow, result["decision_id"])
                assert stored is not None
                assert stored.outcome == result["outcome"]
                assert stored.decided_at is not None
                pull = s.execute(
                    select(BureauPullRow).where(BureauPullRow.application_id == f"C-{n}")
                ).scalar_one()
                assert json.loads(stored.features_json or "{}")["bureau_pull_id"] == pull.id
            continue
        reads = [q for q in statements if q.startswith("SELECT")]
        # one read before the writes (decision already taken? active model, platform vector, consents, pull,
        # identity), and the audit chain's head at commit
        assert len(reads) == 2, statements
        assert reads[-1].startswith("SELECT audit_events.seq"), statements
        inserts = [q.split()[2] for q in statements if q.startswith("INSERT")]  # INSERT INTO <table>
        assert inserts == ["bureau_pulls", "decisions", "audit_events"], statements
        # SQLite: BEGIN IMMEDIATE, read, 2 inserts, head, the audit insert (6)
        assert len(statements) == 6, statements


def test_the_active_model_is_read_with_every_decision(
    factory: sessionmaker[Session], model_dir: Path, tmp_path: Path
) -> None:
    """The artifact is cached per process, but which model is active is read in the decision's statement:
    an activation (here or in another process) takes effect with the next decision."""
    from xiaodai.accounts.service import sign_up
    from xiaodai.approvals import service as approvals
    from xiaodai.db.tables import UserRow

    with factory() as s, s.begin():
        service.register_model(s, artifact=model_dir, activate=True)
        service.register_model(s, artifact=write_artifact(tmp_path / "b", version="test0000model0002"))
        user = applicant(s)
        maker = sign_up(
            s, email="r@example.com", name="风控", password="pw-risk-0001", kind="staff", roles=("risk",)
        )
        checker = sign_up(
            s, email="a@example.com", name="管理", password="pw-admin-0001", kind="staff", roles=("admin",)
        )
        maker_id, checker_id = maker.id, checker.id
    with factory() as s, s.begin():
        first = service.decide_and_record(s, application_json=application("M-1", user))
    assert first["model_version"] == "test0000model0001"
    with factory() as s, s.begin():
        maker_row = s.get(UserRow, maker_id)
        assert maker_row is not None
        asked = approvals.request(
            s,
            maker=maker_row,
            operation="model_activate",
            params={"version": "test0000model0002"},
            reason="the challenger validated better",
        )
    with factory() as s, s.begin():
        checker_row = s.get(UserRow, checker_id)
        assert checker_row is not None
        approvals.approve(s, checker=checker_row, approval_id=asked["id"])
    with factory() as s, s.begin():
        second = service.decide_and_record(s, application_json=application("M-2", user))
    assert second["model_version"] == "test0000model0002"


def test_the_decision_read_as_sql_text_returns_what_sqlalchemy_returns(
    engine: Engine, factory: sessionmaker[Session], model_dir: Path
) -> None:
    """The decision's read runs as its SQL text (``db.inserts.execute_compiled``) where no type converts a
    value: the same values of the same types as the compiled statement gives, for a borrower with a loan."""
    from datetime import date

    from xiaodai.db.inserts import _compiled, execute_compiled
    from xiaodai.features.assemble import context_params

    with factory() as s, s.begin():
        service.register_model(s, artifact=model_dir, activate=True)
        user = applicant(s, "typed@example.com")
    standard_loan(factory, user, term=12, principal=5000)
    statement = service._decision_context(engine.dialect.name)
    params = context_params(user, date(2026, 6, 1), "T-1")
    with engine.connect() as c:
        plain = c.execute(statement, params).one()
        as_text = execute_compiled(c, statement, params).one()
    assert as_text._fields == plain._fields
    typed = [(name, type(value), value) for name, value in zip(plain._fields, plain, strict=True)]
    typed_text = [(name, type(value), value) for name, value in zip(as_text._fields, as_text, strict=True)]
    if engine.dialect.name == "postgresql":  # each read allocates new ids: those differ by design
        typed = [t for t in typed if not t[0].startswith("d_next_")]
        typed_text = [t for t in typed_text if not t[0].startswith("d_next_")]
        assert _compiled(statement, engine.dialect) is not None  # the text path is taken
    else:
        assert _compiled(statement, engine.dialect) is None  # SQLite converts dates: the usual path
    assert typed_text == typed
    assert any(value for name, _, value in typed if name == "p_exposure_fen")  # the loan is seen
