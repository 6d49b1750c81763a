"""Bad amounts and dates on the command line: exit 2 with one error line, never a traceback, nothing
posted. Both databases."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from xiaodai.db.session import make_engine
from xiaodai.db.tables import JournalEntryRow

CREATE = ["loan", "create", "--principal", "10000", "--term", "12", "--method", "equal-installment"]
CREATE += ["--annual-rate", "0.15", "--start", "2026-01-10", "--json"]
BAD = ["１２", "1_0", "1,000", "1e2", "+1", "-1", "", "NaN", "1.234", "1" * 30, "1e308", "10000000.01"]


def _entries(db_url: str) -> int:
    engine = make_engine(db_url)
    try:
        with Session(engine) as s:
            return int(s.execute(select(func.count()).select_from(JournalEntryRow)).scalar_one())
    finally:
        engine.dispose()


@pytest.fixture
def loan(cli: Any) -> str:
    loan_id = str(cli(*CREATE)["id"])
    cli("loan", "disburse", loan_id, "--on", "2026-01-10", "--idempotency-key", "d-1", "--json")
    return loan_id


def test_bad_amounts_exit_2_and_post_nothing(cli: Any, loan: str, db_url: str) -> None:
    before = _entries(db_url)
    for n, amount in enumerate(BAD):
        for command in ("repay", "prepay"):
            refused = cli(
                "loan",
                command,
                loan,
                "--amount",
                amount,
                "--on",
                "2026-02-10",
                "--idempotency-key",
                f"k{n}",
                code=2,
            )
            assert refused.stderr.startswith("xiaodai: error: --amount"), (command, amount, refused.stderr)
            assert "Traceback" not in refused.stderr + refused.stdout
    assert _entries(db_url) == before
    paid = cli(
        "loan", "repay", loan, "--amount", "0.01", "--on", "2026-02-10", "--idempotency-key", "ok", "--json"
    )
    assert paid["amount"] == "0.01"


@pytest.mark.parametrize("on", ["20260210", "2026-W07-2", "2026-2-10", "2026-02-30", ""])
def test_bad_dates_exit_2(cli: Any, loan: str, db_url: str, on: str) -> None:
    before = _entries(db_url)
    refused = cli("loan", "repay", loan, "--amount", "1", "--on", on, "--idempotency-key", "d", code=2)
    assert "--on" in refused.stderr
    assert _entries(db_url) == before


def test_a_posting_is_never_dated_after_the_business_date(
    cli: Any, loan: str, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = _entries(db_url)
    far = cli("loan", "repay", loan, "--amount", "1", "--on", "2099-12-31", "--idempotency-key", "f", code=2)
    assert "after today's business date" in far.stderr
    monkeypatch.setenv("XIAODAI_BUSINESS_DATE", "2026-02-09")
    for command in (["repay", "--amount", "1"], ["prepay"], ["refund", "--amount", "1"]):
        refused = cli(
            "loan", command[0], loan, *command[1:], "--on", "2026-02-10", "--idempotency-key", "x", code=2
        )
        assert "after today's business date 2026-02-09" in refused.stderr
    assert _entries(db_url) == before
    on_the_day = [
        "loan",
        "repay",
        loan,
        "--amount",
        "1",
        "--on",
        "2026-02-09",
        "--idempotency-key",
        "d",
        "--json",
    ]
    assert cli(*on_the_day)["amount"] == "1.00"
    quote = cli("loan", "prepay-quote", loan, "--on", "2026-03-10", "--json")  # a quote may look ahead
    assert quote["on"] == "2026-03-10"
