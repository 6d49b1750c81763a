"""``xiaodai eod --date`` is bounded: ISO dates only, never past today's business date without
``--allow-future``, at most ``--max-days`` (31) dates in one run; a refusal is exit 2 and closes nothing."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from xiaodai.db.session import make_engine
from xiaodai.db.tables import EodStepRow

CREATE = ["loan", "create", "--principal", "10000", "--term", "12", "--method", "equal-installment"]
CREATE += ["--annual-rate", "0.15", "--start", "2026-01-10", "--json"]


def _closed_steps(db_url: str) -> int:
    engine = make_engine(db_url)
    try:
        with Session(engine) as s:
            return int(s.execute(select(func.count()).select_from(EodStepRow)).scalar_one())
    finally:
        engine.dispose()


@pytest.fixture
def loan(cli: Any, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("XIAODAI_BUSINESS_DATE", "2026-03-01")
    loan_id = str(cli(*CREATE)["id"])
    cli("loan", "disburse", loan_id, "--on", "2026-01-10", "--idempotency-key", "d-1", "--json")
    return loan_id


@pytest.mark.parametrize("text", ["20260120", "2026-W03-2", "2026-1-20", "9999-99-99", "２０２６-01-20", ""])
def test_only_iso_dates(cli: Any, loan: str, db_url: str, text: str) -> None:
    refused = cli("eod", "--date", text, code=2)
    assert "YYYY-MM-DD" in refused.stderr or "calendar day" in refused.stderr
    assert _closed_steps(db_url) == 0


def test_never_past_the_business_date_without_asking(cli: Any, loan: str, db_url: str) -> None:
    refused = cli("eod", "--date", "2026-03-02", "--max-days", "100", code=2)
    assert "after today's business date 2026-03-01" in refused.stderr
    assert cli("eod", "--date", "9999-12-31", code=2)
    assert _closed_steps(db_url) == 0
    simulated = cli("eod", "--date", "2026-03-02", "--max-days", "100", "--allow-future", "--json")
    assert simulated["days"][-1]["date"] == "2026-03-02"


def test_a_long_catch_up_must_be_asked_for(cli: Any, loan: str, db_url: str) -> None:
    refused = cli("eod", "--date", "2026-02-11", code=2)  # 2026-01-11 .. 2026-02-11: 32 dates
    assert "would close 32 business dates" in refused.stderr
    assert "--max-days 32" in refused.stderr
    assert _closed_steps(db_url) == 0
    at_limit = cli("eod", "--date", "2026-02-10", "--json")  # 31 dates: allowed without asking
    assert len(at_limit["days"]) == 31
    assert len(cli("eod", "--date", "2026-03-01", "--json")["days"]) == 19
    assert cli("eod", "--date", "2026-03-01", "--max-days", "0", code=2)
