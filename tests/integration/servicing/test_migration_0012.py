"""Migration 0012: the ``penalty``, ``delinquency`` and ``write-off-candidates`` steps of end of day become
``overdue`` without re-running a closed day, a half-closed day is refused, and the indexes are the new ones
(both databases)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import inspect, text

from xiaodai.db.migrate import upgrade
from xiaodai.db.session import make_engine
from xiaodai.servicing.eod import completed_steps, days_to_run, last_completed_day

OLD_STEPS = ("bill", "apply-overpayment", "penalty", "delinquency", "write-off-candidates", "promises")


def _mark(url: str, day: date, steps: tuple[str, ...]) -> None:
    engine = make_engine(url)
    with engine.begin() as conn:
        for step in steps:
            conn.execute(
                text("INSERT INTO eod_steps (business_date, step, rows_affected) VALUES (:d, :s, 7)"),
                {"d": day, "s": step},
            )
    engine.dispose()


def test_closed_days_stay_closed(empty_url: str) -> None:
    upgrade(empty_url, "0011")
    _mark(empty_url, date(2026, 3, 1), OLD_STEPS)
    _mark(empty_url, date(2026, 3, 2), OLD_STEPS)
    _mark(empty_url, date(2026, 3, 3), ("bill", "apply-overpayment"))  # crashed before the penalty step
    upgrade(empty_url)
    engine = make_engine(empty_url)
    try:
        assert last_completed_day(engine) == date(2026, 3, 2)
        assert "overdue" in completed_steps(engine, date(2026, 3, 2))
        assert "overdue" not in completed_steps(engine, date(2026, 3, 3))
        assert days_to_run(engine, date(2026, 3, 4)) == [date(2026, 3, 3), date(2026, 3, 4)]
        names = {
            table: {ix["name"] for ix in inspect(engine).get_indexes(table)}
            for table in ("loans", "installments")
        }
        assert "ix_loans_overpayment" in names["loans"]
        assert "ix_installments_unbilled" in names["installments"]
        assert not {"ix_installments_due", "ix_installments_loan"} & names["installments"]
    finally:
        engine.dispose()


def test_a_half_closed_day_is_refused(empty_url: str) -> None:
    upgrade(empty_url, "0011")
    _mark(empty_url, date(2026, 3, 1), ("bill", "apply-overpayment", "penalty"))  # crash after penalty
    _mark(empty_url, date(2026, 3, 2), OLD_STEPS[:4])  # crash before write-off candidates
    with pytest.raises(RuntimeError, match="half done for 2026-03-01, 2026-03-02"):
        upgrade(empty_url)


def test_downgrade_and_upgrade_again(empty_url: str) -> None:
    from alembic import command

    from xiaodai.db.migrate import alembic_config

    upgrade(empty_url, "0011")
    _mark(empty_url, date(2026, 3, 1), OLD_STEPS)
    upgrade(empty_url)
    command.downgrade(alembic_config(empty_url), "0011")
    engine = make_engine(empty_url)
    try:
        with engine.connect() as conn:
            steps = {r[0] for r in conn.execute(text("SELECT step FROM eod_steps"))}
        assert steps == set(OLD_STEPS)
        names = {ix["name"] for ix in inspect(engine).get_indexes("installments")}
        assert {"ix_installments_due", "ix_installments_loan"} <= names
        assert "ix_installments_unbilled" not in names
    finally:
        engine.dispose()
    upgrade(empty_url)
    engine = make_engine(empty_url)
    try:
        assert last_completed_day(engine) == date(2026, 3, 1)
    finally:
        engine.dispose()
