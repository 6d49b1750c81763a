"""The loan, eod and ledger commands end to end, on both databases: JSON contracts and exit codes."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import text

from xiaodai.db.session import make_engine

CREATE = [
    "loan",
    "create",
    "--principal",
    "10000",
    "--term",
    "12",
    "--method",
    "equal-installment",
    "--annual-rate",
    "0.15",
    "--start",
    "2026-01-10",
    "--json",
]


def test_loan_journey(cli: Any) -> None:
    loan = cli(*CREATE)
    loan_id = str(loan["id"])
    cli("loan", "disburse", loan_id, "--on", "2026-01-10", "--idempotency-key", "d-1", "--json")
    paid = cli(
        "loan",
        "repay",
        loan_id,
        "--amount",
        "902.58",
        "--on",
        "2026-02-10",
        "--idempotency-key",
        "r-1",
        "--json",
    )
    assert paid["overpayment"] == "0.00"
    again = cli(
        "loan",
        "repay",
        loan_id,
        "--amount",
        "902.58",
        "--on",
        "2026-02-10",
        "--idempotency-key",
        "r-1",
        "--json",
    )
    assert again["replayed"] is True
    assert again["entry_id"] == paid["entry_id"]
    eod = cli("eod", "--date", "2026-04-20", "--max-days", "100", "--json")
    assert eod["days"][-1]["date"] == "2026-04-20"
    shown = cli("loan", "show", loan_id, "--as-of", "2026-04-20", "--json")
    assert shown["state"] == "overdue"
    assert shown["days_past_due"] == 41
    assert shown["bucket"] == "M2"
    assert [r["status"] for r in shown["schedule"][:4]] == ["paid", "overdue", "overdue", "scheduled"]
    assert shown["schedule"][1]["days_past_due"] == 41
    quote = cli("loan", "prepay-quote", loan_id, "--on", "2026-04-25", "--json")
    assert Decimal(quote["total"]) > Decimal("9000")
    settled = cli("loan", "prepay", loan_id, "--on", "2026-04-25", "--idempotency-key", "p-1", "--json")
    assert settled["state"] == "settled"
    assert settled["paid"] == quote["total"]
    check = cli("ledger", "check", "--json")
    assert check["ok"] is True


def test_bad_input_and_refusals(cli: Any) -> None:
    loan_id = str(cli(*CREATE)["id"])
    cli("loan", "repay", loan_id, "--amount", "-5", "--on", "2026-02-10", "--idempotency-key", "x", code=2)
    cli("loan", "repay", loan_id, "--amount", "5", "--on", "not-a-date", "--idempotency-key", "x", code=2)
    cli("loan", "repay", loan_id, "--amount", "5", "--on", "2026-02-10", "--idempotency-key", "x", code=2)
    cli("loan", "disburse", "999", "--on", "2026-01-10", "--idempotency-key", "y", code=2)
    cli("loan", "create", *CREATE[2:-1], "--annual-rate", "0.30", code=1)  # over the 24% cap: no loan
    cli("loan", "disburse", loan_id, "--on", "2026-01-10", "--idempotency-key", "d")
    cli(
        "loan", "disburse", loan_id, "--on", "2026-01-10", "--idempotency-key", "d2", code=2
    )  # already active


def test_ledger_check_fails_on_a_tampered_balance(cli: Any, db_url: str) -> None:
    loan_id = str(cli(*CREATE)["id"])
    cli("loan", "disburse", loan_id, "--on", "2026-01-10", "--idempotency-key", "d")
    engine = make_engine(db_url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE loans SET principal_outstanding_fen = principal_outstanding_fen - 1"))
    engine.dispose()
    result = cli("ledger", "check", code=1)
    assert "principal_outstanding_fen" in result.stderr
