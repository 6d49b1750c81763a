"""Migration 0043: ``debit_in_flight`` filled from the pending attempts, the two partial "pending" indexes of
``debit_attempts`` dropped (and its fillfactor 45 on PostgreSQL); the downgrade brings the indexes back
and drops the table."""

from __future__ import annotations

from datetime import date

from alembic import command
from sqlalchemy import inspect, text

from integration.conftest import make_loan
from support.payment_books import debited_loan
from xiaodai.db.migrate import alembic_config, upgrade
from xiaodai.db.session import make_engine, session_factory
from xiaodai.payments import service
from xiaodai.payments.debit_policy import default_policy
from xiaodai.payments.sandbox_channel import SandboxChannel, Scenario
from xiaodai.privacy.keys import current_ring

PENDING_INDEXES = {"ix_debit_attempts_pending", "ix_debit_attempts_card_pending"}


def test_in_flight_is_filled_from_the_pending_attempts_and_the_downgrade_restores_the_indexes(
    empty_url: str,
) -> None:
    upgrade(empty_url)
    engine = make_engine(empty_url)
    factory = session_factory(engine)
    channel = SandboxChannel(scripted={"0004": Scenario.TIMEOUT_SUCCESS, "0001": Scenario.SUCCESS})
    for last4 in ("0004", "0001"):
        debited_loan(factory, lambda **kw: make_loan(factory, **kw), channel, last4)
    with factory() as s, s.begin():
        service.run_debits(
            s, channel=channel, ring=current_ring(), on=date(2026, 2, 10), policy=default_policy()
        )

    def state() -> tuple[set[str], list[tuple[int, int, date]], list[tuple[int, int, date]]]:
        with engine.connect() as conn:
            indexes = {i["name"] for i in inspect(conn).get_indexes("debit_attempts")}
            pending = conn.execute(
                text("SELECT id, card_id, business_date FROM debit_attempts WHERE status = 'pending'")
            ).all()
            listed = (
                conn.execute(text("SELECT attempt_id, card_id, business_date FROM debit_in_flight")).all()
                if inspect(conn).has_table("debit_in_flight")
                else []
            )
        return indexes, [tuple(r) for r in pending], [tuple(r) for r in listed]

    indexes, pending, listed = state()
    assert len(pending) == 1  # the timed-out debit; the other succeeded
    assert listed == pending
    assert not indexes & PENDING_INDEXES
    engine.dispose()
    command.downgrade(alembic_config(empty_url), "0042")
    indexes, _, listed = state()
    assert indexes >= PENDING_INDEXES
    assert listed == []
    upgrade(empty_url, "0043")
    indexes, again, listed = state()
    assert listed == again == pending
    assert not indexes & PENDING_INDEXES
    engine.dispose()
