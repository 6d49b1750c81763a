"""Foreign keys of the debit batch's bulk writes checked set-based (``bulk_sql.references_in_bulk``): the
constraints stay, so the database refuses an orphan row from any other writer; inside a bulk write the
same check is made for the whole set before commit, and the rows referenced are locked as the per-row
triggers lock them. PostgreSQL only (SQLite has no such mode: its writes are checked as before)."""

from __future__ import annotations

from datetime import date

import psycopg
import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from support.payment_books import bind, borrower, card_number, standard_loan
from xiaodai.payments.bulk_sql import (
    OrphanReferenceError,
    check_references,
    reference_marks,
    references_in_bulk,
    references_per_row,
)
from xiaodai.payments.debit_book import INSTALLMENT_WRITTEN, LOAN_WRITTEN
from xiaodai.payments.debit_claim import claim
from xiaodai.payments.debit_policy import RetryPolicy
from xiaodai.payments.sandbox_channel import SandboxChannel

DUE = date(2026, 2, 10)
MISSING = 10**12


@pytest.fixture
def pg(engine: Engine) -> Engine:
    if engine.dialect.name != "postgresql":
        pytest.skip("set-based foreign-key checks are a PostgreSQL mode")
    return engine


def _entry(session: Session, key: str, loan_id: int | None = None) -> int:
    return int(
        session.execute(
            text(
                "INSERT INTO journal_entries (business_date, event, idempotency_key, loan_id, memo)"
                " VALUES (:d, 'test', :k, :l, '{}') RETURNING id"
            ),
            {"d": DUE, "k": key, "l": loan_id},
        ).scalar_one()
    )


def _posting(session: Session, entry_id: int) -> None:
    session.execute(
        text(
            "INSERT INTO postings (entry_id, account, loan_id, amount_fen)"
            " VALUES (:e, 'assets:cash', NULL, 0)"
        ),
        {"e": entry_id},
    )


def _role(session: Session) -> str:
    return str(session.execute(text("SHOW session_replication_role")).scalar_one())


def test_an_orphan_posting_is_refused_by_the_database_outside_a_bulk_write(pg: Engine) -> None:
    factory = sessionmaker(pg)
    with pytest.raises(IntegrityError, match="fk_postings_entry_id"), factory() as s, s.begin():
        _posting(s, MISSING)


def _bulk_write(factory: sessionmaker[Session], orphan: str) -> None:
    """One transaction: bulk mode on, a clean entry and posting, then the ``orphan`` row, then the check."""
    attempts: list[int] = []
    with factory() as s, s.begin():
        connection = s.connection()
        assert references_in_bulk(connection)  # the tests connect as a superuser
        assert _role(s) == "replica"
        marks = reference_marks(connection)
        _posting(s, _entry(s, f"fine-{orphan}"))
        if orphan == "posting":
            _posting(s, MISSING)  # no trigger refuses it now: the set-based check must
        elif orphan == "entry":
            _entry(s, "orphan", loan_id=MISSING)
        elif orphan == "attempt":
            attempts = [
                int(
                    s.execute(
                        text(
                            "INSERT INTO debit_attempts (channel_ref, loan_id, installment_id, attempt,"
                            " card_id, business_date, amount_fen, settled_fen, posted_fen, status, entry_id)"
                            " VALUES ('debit:x:0', :m, :m, 0, :m, :d, 1, 0, 0, 'failed', :m) RETURNING id"
                        ),
                        {"m": MISSING, "d": DUE},
                    ).scalar_one()
                )
            ]
        check_references(connection, marks, attempts)
        references_per_row(connection)
        assert _role(s) == "origin"
        if orphan == "after":  # checked per row again: the foreign key's trigger refuses it
            _posting(s, MISSING)


@pytest.mark.parametrize("orphan", ["posting", "entry", "attempt"])
def test_a_bulk_write_with_an_orphan_row_is_refused_and_nothing_commits(pg: Engine, orphan: str) -> None:
    factory = sessionmaker(pg)
    with pytest.raises(OrphanReferenceError):
        _bulk_write(factory, orphan)
    with factory() as s:
        assert s.execute(text("SELECT count(*) FROM journal_entries WHERE memo = '{}'")).scalar_one() == 0
        assert (
            s.execute(text("SELECT count(*) FROM postings WHERE account = 'assets:cash'")).scalar_one() == 0
        )


def test_a_clean_bulk_write_passes_and_later_statements_are_checked_per_row_again(pg: Engine) -> None:
    factory = sessionmaker(pg)
    _bulk_write(factory, "none")
    with factory() as s:
        assert s.execute(text("SELECT count(*) FROM journal_entries WHERE memo = '{}'")).scalar_one() == 1
    with pytest.raises(IntegrityError, match="fk_postings_entry_id"):
        _bulk_write(factory, "after")


def test_no_bulk_mode_when_a_written_table_has_a_trigger_of_its_own(pg: Engine) -> None:
    """Replica mode would skip a table's own trigger too (an audit or append-only guard): then the per-row
    checks stay."""
    with pg.begin() as conn:
        conn.execute(
            text(
                "CREATE FUNCTION test_noop() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$"
            )
        )
        conn.execute(
            text(
                "CREATE TRIGGER test_noop BEFORE INSERT ON postings FOR EACH ROW EXECUTE FUNCTION test_noop()"
            )
        )
    factory = sessionmaker(pg)
    with factory() as s, s.begin():
        assert not references_in_bulk(s.connection())
        assert _role(s) == "origin"


def test_the_batch_updates_no_key_column_of_loans_and_instalments(pg: Engine) -> None:
    """The booking updates loans and instalments with their triggers off: none of the columns it writes is
    a foreign or referenced key (their checks would be needed then)."""
    with pg.connect() as conn:
        keys = set(
            conn.execute(
                text(
                    "SELECT c.conrelid::regclass::text || '.' || a.attname FROM pg_constraint c"
                    " JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = ANY(c.conkey)"
                    " WHERE c.contype IN ('f', 'p', 'u')"
                    " AND c.conrelid::regclass::text IN ('loans', 'installments')"
                    " UNION SELECT c.confrelid::regclass::text || '.' || a.attname FROM pg_constraint c"
                    " JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = ANY(c.confkey)"
                    " WHERE c.contype = 'f' AND c.confrelid::regclass::text IN ('loans', 'installments')"
                )
            ).scalars()
        )
    assert "loans.id" in keys
    assert "installments.loan_id" in keys
    written = {f"loans.{c}" for c in LOAN_WRITTEN} | {f"installments.{c}" for c in INSTALLMENT_WRITTEN}
    assert not written & keys


def test_the_claim_locks_the_rows_its_attempts_reference_until_it_commits(
    pg: Engine, factory: sessionmaker[Session], db_url: str
) -> None:
    """As each foreign key's trigger would: the instalment, loan and card of a claimed attempt are locked
    FOR KEY SHARE — another transaction cannot delete them or change their key meanwhile."""
    channel = SandboxChannel(seed=3)
    who = borrower(factory)
    card = bind(factory, channel, who, card_number("0042"))
    loan = standard_loan(factory, who)
    raw = db_url.replace("+psycopg", "")
    with factory() as s, s.begin():
        counts = claim(s, on=DUE, policy=RetryPolicy((0, 1, 3)))
        assert counts["claimed"] == 1
        assert _role(s) == "origin"  # per-row checks again for the rest of the transaction
        installment = s.execute(text("SELECT installment_id FROM debit_attempts")).scalar_one()
        with psycopg.connect(raw, autocommit=True) as other:
            for table, key in (("loans", loan), ("payment_cards", card), ("installments", installment)):
                with pytest.raises(psycopg.errors.LockNotAvailable):
                    other.execute(f"SELECT 1 FROM {table} WHERE id = %s FOR UPDATE NOWAIT", (key,))
                # a lock that does not touch the key is compatible, as with the trigger's
                other.execute(f"SELECT 1 FROM {table} WHERE id = %s FOR NO KEY UPDATE NOWAIT", (key,))
