"""The scheduler reviews credit lines without a person: the ``line_review`` job (migration 0029) reviews a
line granted 90+ days ago once; its re-run the same day reviews nothing (both backends)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from integration.lines.conftest import TODAY, user
from xiaodai.db.tables import CreditLineRow, JobDefinitionRow
from xiaodai.jobs import runner
from xiaodai.lines import service as lines

CN = ZoneInfo("Asia/Shanghai")


def test_the_line_review_job_reviews_due_lines_once(
    factory: sessionmaker[Session], engine: Engine, approved: Callable[[str], tuple[int, str]]
) -> None:
    user_id, app_id = approved("review@example.com")
    with factory() as s, s.begin():
        lines.grant_line(s, user=user(s, user_id), application_id=app_id, on=TODAY, actor="test")
        definition = s.get(JobDefinitionRow, "line_review")
        assert definition is not None, "migration 0029 schedules the review"
        assert definition.handler == "lines.review_due"
        s.query(JobDefinitionRow).where(JobDefinitionRow.name != "line_review").update({"enabled": False})
    day = TODAY + timedelta(days=91)
    at = datetime.combine(day, datetime.min.time(), tzinfo=CN) + timedelta(hours=7, minutes=5)
    results = runner.tick(engine, worker="w", clock=lambda: at)
    assert results, "the job ran"
    assert all(r.outcome == "succeeded" for r in results), [(r.outcome, r.summary) for r in results]
    assert sum(int((r.summary or {})["reviewed"]) for r in results) == 1
    with factory() as s:
        line = s.execute(select(CreditLineRow).where(CreditLineRow.borrower_id == user_id)).scalar_one()
        assert line.reviewed_on is not None
        assert line.reviewed_on >= day - timedelta(days=1)
    again = runner.tick(engine, worker="w", clock=lambda: at + timedelta(hours=1))
    assert sum(int((r.summary or {}).get("reviewed", 0)) for r in again) == 0
