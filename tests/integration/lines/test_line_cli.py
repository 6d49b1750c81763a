"""``xiaodai line grant|show|draw|freeze`` in-process on both databases: --json output, exit 2 on bad input
with nothing written, and ``ledger check`` clean (commitments included)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from integration.lines.conftest import TODAY
from xiaodai.db.tables import CreditLineEventRow, LoanRow


def test_line_commands(
    cli: Any,
    factory: sessionmaker[Session],
    approved: Callable[[str], tuple[int, str]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("XIAODAI_BUSINESS_DATE", TODAY.isoformat())
    user_id, app_id = approved("cli@example.com")
    bad = cli("line", "grant", "--borrower", str(user_id), "--application", "nope", code=2)
    assert bad.stderr.startswith("xiaodai: error: application not found")
    line = cli("line", "grant", "--borrower", str(user_id), "--application", app_id, "--json")
    assert line["state"] == "active"
    assert line["available"] == line["limit"]
    shown = cli("line", "show", "--borrower", str(user_id), "--json")
    assert shown["events"][0]["reason"] == "LINE_GRANTED"
    drawn = cli("line", "draw", "--borrower", str(user_id), "--amount", "2000", "--term", "6", "--json")
    assert drawn["principal"] == "2000.00"
    assert drawn["kfs_headline"]["apr_percent"]
    daily = cli("line", "draw", "--borrower", str(user_id), "--amount", "500", "--daily", "--json")
    assert daily["plan"] == "daily"
    assert drawn["disbursement"]["status"] == daily["disbursement"]["status"] == "succeeded"  # paid out
    assert cli("debit", "payouts", "--json") == []  # none waiting for the channel
    # the same draw again (the same default key: a replay, nothing drawn twice), as a person reads it
    told = cli("line", "draw", "--borrower", str(user_id), "--amount", "500", "--daily", "--lang", "en")
    assert "paid out: 500.00 → account:" in told.stdout
    for args in (
        ("--amount", "abc", "--term", "6"),
        ("--amount", "1000"),
        ("--amount", "1000", "--term", "6", "--daily"),
        ("--amount", "99999", "--term", "6"),
        ("--amount", "1000", "--term", "48"),
    ):
        refused = cli("line", "draw", "--borrower", str(user_id), *args, code=2)
        assert refused.stderr.startswith("xiaodai: error:"), refused.stderr
    after = cli("line", "show", "--borrower", str(user_id), "--json")
    assert after["outstanding_principal"] == "2500.00"
    limit = float(after["limit"])
    assert float(after["available"]) == pytest.approx(limit - 2500)
    cli("line", "freeze", "--line", str(line["line_id"]), "--reason", "bad reason", code=2)
    frozen = cli(
        "line", "freeze", "--line", str(line["line_id"]), "--reason", "LINE_FREEZE_REQUESTED", "--json"
    )
    assert frozen["state"] == "frozen"
    cli("line", "draw", "--borrower", str(user_id), "--amount", "1000", "--term", "6", code=2)
    cli("line", "close", "--line", str(line["line_id"]), "--reason", "LINE_CLOSE", code=2)  # outstanding
    check = cli("ledger", "check", "--json")
    assert check["ok"], check
    assert check["trial_balance_fen"]["memo:commitments:undrawn"] == round((limit - 2500) * 100)
    with factory() as s:
        assert s.execute(select(func.count()).select_from(LoanRow)).scalar_one() == 2
        assert s.execute(select(func.count()).select_from(CreditLineEventRow)).scalar_one() == 2


def test_periodic_review_with_a_fresh_credit_report(
    cli: Any,
    factory: sessionmaker[Session],
    approved: Callable[[str], tuple[int, str]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``line review --due`` reviews the lines whose last review is 90 days old, pulling a fresh credit
    report under the borrower's consent; a line reviewed recently is left alone."""
    from datetime import timedelta

    from xiaodai.db.tables import BureauPullRow, LineNoticeRow

    monkeypatch.setenv("XIAODAI_BUSINESS_DATE", TODAY.isoformat())
    user_id, app_id = approved("review@example.com")
    line = cli("line", "grant", "--borrower", str(user_id), "--application", app_id, "--json")
    cli("line", "review", code=2)
    assert cli("line", "review", "--due", "--json")["reviewed"] == 0  # granted today: not due
    later = TODAY + timedelta(days=95)
    monkeypatch.setenv("XIAODAI_BUSINESS_DATE", later.isoformat())
    result = cli("line", "review", "--due", "--json")
    assert result["reviewed"] == 1
    (review,) = result["results"]
    assert review["line_id"] == line["line_id"]
    assert review["action"] in ("keep", "offer_increase", "decrease", "freeze")
    with factory() as s:
        pulls = s.execute(
            select(BureauPullRow.application_id).where(BureauPullRow.user_id == user_id)
        ).scalars()
        assert f"line-review:{line['line_id']}:{later.isoformat()}" in set(pulls)
        notices = s.execute(select(func.count()).select_from(LineNoticeRow)).scalar_one()
        assert notices == (1 if review["action"] == "keep" else 2)  # a change is never silent
    assert cli("line", "review", "--due", "--json")["reviewed"] == 0  # reviewed today
    assert cli("ledger", "check", "--json")["ok"]
