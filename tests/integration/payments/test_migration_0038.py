"""Migration 0038 schedules the payout status query (job ``payout_query``) and indexes the payouts by the
date they were sent; the downgrade removes both (SQLite and PostgreSQL)."""

from __future__ import annotations

from alembic import command
from sqlalchemy import inspect, text

from xiaodai.db.migrate import alembic_config, upgrade
from xiaodai.db.session import make_engine


def shape(url: str) -> tuple[list[tuple[str, str, str]], set[str]]:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            jobs = [
                (str(n), str(h), str(at))
                for n, h, at in connection.execute(
                    text(
                        "SELECT name, handler, run_at_local FROM job_definitions WHERE name = 'payout_query'"
                    )
                )
            ]
        indexes = {str(i["name"]) for i in inspect(engine).get_indexes("disbursements")}
        return jobs, indexes
    finally:
        engine.dispose()


def test_upgrade_schedules_the_payout_query_and_downgrade_removes_it(empty_url: str) -> None:
    upgrade(empty_url, "0036")
    jobs, indexes = shape(empty_url)
    assert jobs == []
    assert "ix_disbursements_business_date" not in indexes
    upgrade(empty_url, "0038")
    jobs, indexes = shape(empty_url)
    assert jobs == [("payout_query", "payments.query_payouts", "08:00")]
    assert "ix_disbursements_business_date" in indexes
    command.downgrade(alembic_config(empty_url), "0036")
    assert shape(empty_url) == ([], indexes - {"ix_disbursements_business_date"})
