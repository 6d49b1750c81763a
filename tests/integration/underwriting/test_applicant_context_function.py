"""PostgreSQL reads a decision's applicant context through ``applicant_context(...)`` (migration 0044), a
PL/pgSQL function whose plan the server keeps; its body is ``features.assemble.context_columns``' SQL. These
tests keep the two the same: the stored body is the statement's text, and both answer the same for
applicants with loans late and settled, other applications, complaints, hardship plans, blocklist entries,
an ID number on file, withdrawn and extra consents and an earlier credit-report pull. SQLite keeps the
statement (nothing to compare)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from sqlalchemy import Engine, func, select, text, update
from sqlalchemy.orm import Session, sessionmaker

from support.models import applicant, application, write_artifact
from xiaodai.db.migrate import alembic_config, upgrade
from xiaodai.db.session import make_engine
from xiaodai.db.tables import (
    ApplicationRow,
    BlocklistRow,
    ComplaintRow,
    ConsentRow,
    InstallmentRow,
    LoanEventRow,
    LoanRow,
    UserRow,
)
from xiaodai.features.assemble import context_columns, context_function, context_function_sql, context_params
from xiaodai.journey.service import record_consent
from xiaodai.privacy.keys import current_ring
from xiaodai.privacy.store import write_fields
from xiaodai.underwriting import service

START = date(2026, 1, 10)


def stored_body(engine: Engine) -> str | None:
    with engine.connect() as connection:
        source = connection.execute(
            text("SELECT prosrc FROM pg_proc WHERE proname = 'applicant_context'")
        ).scalar_one_or_none()
    if source is None:
        return None
    query = source.split("RETURN QUERY", 1)[1].rsplit(";", 1)[0]
    return " ".join(query.split())


def test_the_stored_function_is_the_context_statement(engine: Engine) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL only: SQLite reads the context with the statement itself")
    assert stored_body(engine) == " ".join(context_function_sql().split()), (
        "features.assemble.context_columns changed: write a migration that replaces applicant_context()"
    )


def test_migration_0044_creates_the_function_and_its_downgrade_drops_it(empty_url: str) -> None:
    upgrade(empty_url, "0044")
    engine = make_engine(empty_url)
    try:
        postgresql = engine.dialect.name == "postgresql"
        if postgresql:
            assert stored_body(engine) == " ".join(context_function_sql().split())
        command.downgrade(alembic_config(empty_url), "0042")
        if postgresql:
            assert stored_body(engine) is None
    finally:
        engine.dispose()


def both(session: Session, user_id: int, as_of: date, application_id: str) -> tuple[Any, Any]:
    params = context_params(user_id, as_of, application_id)
    statement = session.execute(select(*context_columns("postgresql")), params).one()
    function = context_function()
    through = session.execute(select(*function.c).select_from(function), params).one()
    return tuple(statement), tuple(through)


def test_the_function_reads_what_the_statement_reads(
    factory: sessionmaker[Session],
    new_loan: Callable[..., int],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    if factory.kw["bind"].dialect.name != "postgresql":
        pytest.skip("PostgreSQL only: SQLite reads the context with the statement itself")
    monkeypatch.setenv("XIAODAI_MODEL_DIR", str(tmp_path / "store"))
    monkeypatch.setenv("XIAODAI_KEYRING_FILE", str(tmp_path / "keyring.json"))
    monkeypatch.delenv("XIAODAI_BUREAU_FILE", raising=False)
    now = datetime(2026, 11, 20, tzinfo=UTC)
    with factory() as s, s.begin():
        service.register_model(s, artifact=write_artifact(tmp_path / "artifact"), activate=True)
        plain = applicant(s, "plain@example.com")
        late = applicant(s, "late@example.com")
        settled = applicant(s, "settled@example.com")
        listed = applicant(s, "listed@example.com")
        by_id = applicant(s, "id@example.com")
        withdrawn = applicant(s, "withdrawn@example.com")
        busy = applicant(s, "busy@example.com")
        nobody = 10_000
        write_fields(s, current_ring(), by_id, {"id_number": "11010519920101100X"})
        s.flush()
        bidx = s.execute(text("SELECT id_number_bidx FROM personal_data WHERE user_id = :u"), {"u": by_id})
        s.add(BlocklistRow(user_id=listed, reason="FRAUD", added_by="test"))
        s.add(BlocklistRow(id_number_bidx=bidx.scalar_one(), reason="IDENTITY_MISUSE", added_by="test"))
        s.add(BlocklistRow(user_id=plain, reason="OLD", added_by="test", removed_at=now))
        record_consent(s, user=s.get_one(UserRow, busy), kind="ecosystem_data")
        s.execute(update(ConsentRow).where(ConsentRow.user_id == withdrawn).values(withdrawn_at=now))
        for n in range(3):
            s.add(ApplicationRow(public_id=f"b{n}", user_id=busy, idempotency_key=f"k{n}", payload_json="{}"))
        s.add(ApplicationRow(public_id="B-NOW", user_id=busy, idempotency_key="k-now", payload_json="{}"))
        s.flush()
        s.execute(update(ApplicationRow).values(created_at=now))
        s.execute(
            update(ApplicationRow)
            .where(ApplicationRow.public_id == "b0")
            .values(created_at=now - timedelta(days=40))
        )
        for n, received in enumerate((now - timedelta(days=20), now - timedelta(days=400))):
            s.add(
                ComplaintRow(
                    public_id=f"c{n}",
                    user_id=busy,
                    channel="portal",
                    received_at=received,
                    narrative="…",
                    category="fees",
                    status="open",
                )
            )
    loans = {}
    for user in (late, settled, busy):
        loan_id = new_loan(start=START)
        with factory() as s, s.begin():
            s.execute(update(LoanRow).where(LoanRow.id == loan_id).values(borrower_id=user))
        loans[user] = loan_id
    with factory() as s, s.begin():
        first_due = s.execute(
            select(func.min(InstallmentRow.due_on)).where(InstallmentRow.loan_id == loans[late])
        ).scalar_one()
        s.execute(update(LoanRow).where(LoanRow.id == loans[late]).values(state="overdue", dpd=12))
        s.execute(update(LoanRow).where(LoanRow.id == loans[settled]).values(state="settled"))
        s.execute(  # the busy borrower paid the first instalment on time, the second late
            update(InstallmentRow)
            .where(InstallmentRow.loan_id == loans[busy], InstallmentRow.due_on == first_due)
            .values(paid_on=first_due)
        )
        s.add(LoanEventRow(loan_id=loans[busy], business_date=first_due, kind="hardship-extension"))
    with factory() as s, s.begin():  # an earlier pull for one application
        service.decide_and_record(s, application_json=application("PULLED", busy, as_of="2026-11-29"))
    compared = 0
    with factory() as s:
        for user in (plain, late, settled, listed, by_id, withdrawn, busy, nobody):
            for as_of in (START, first_due, first_due + timedelta(days=1), date(2026, 11, 29)):
                for application_id in ("PULLED", "B-NOW", "NEW"):
                    statement, function = both(s, user, as_of, application_id)
                    assert function == statement, (user, as_of, application_id)
                    compared += 1
        distinct = {both(s, user, date(2026, 11, 29), "PULLED")[0] for user in (plain, late, busy, by_id)}
    assert compared == 8 * 4 * 3
    assert len(distinct) == 4  # the applicants differ: the comparison is not of empty rows
