"""``xiaodai card bind|verify|list``, ``xiaodai debit run``, ``xiaodai reconcile`` end to end."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from support.payment_books import borrower, card_number
from xiaodai.db.tables import LoanRow


def test_bind_debit_reconcile(
    factory: sessionmaker[Session],
    new_loan: Callable[..., int],
    cli: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("XIAODAI_BUSINESS_DATE", "2026-02-10")
    who = borrower(factory)
    loan_id = new_loan()
    with factory() as s, s.begin():
        row = s.get(LoanRow, loan_id)
        assert row is not None
        row.borrower_id = who
    number = card_number("5555")
    started = cli("card", "bind", "--borrower", str(who), "--number", number, "--json")
    assert started["status"] == "pending"
    assert number not in str(started)
    bad = cli("card", "verify", "--card", str(started["card_id"]), "--code", "x", code=2)
    assert "CARD_CODE_WRONG" in bad.stderr or "wrong" in bad.stderr
    code = started["sandbox_code"]
    assert (
        cli("card", "verify", "--card", str(started["card_id"]), "--code", code, "--json")["default"] is True
    )
    listed = cli("card", "list", "--borrower", str(who), "--json")
    assert [c["masked"] for c in listed] == [number[:6] + "******5555"]
    refused = cli("card", "bind", "--borrower", str(who), "--number", "6222020000000000", code=2)
    assert "CARD_LUHN" in refused.stderr

    settlement = tmp_path / "settlement.csv"
    ran = cli("debit", "run", "--date", "2026-02-10", "--settlement-out", str(settlement), "--json")
    assert len(ran["debits"]) == 1
    assert cli("debit", "run", "--date", "2026-02-11", "--json", code=2) is not None  # after business date
    report = cli("reconcile", str(settlement), "--date", "2026-02-10", "--json")
    status = ran["debits"][0]["status"]
    if status == "pending":
        assert report["confirmed"] == [ran["debits"][0]["channel_ref"]]
    assert report["breaks"] == []
    again = cli("reconcile", str(settlement), "--date", "2026-02-10", "--json")
    assert again["suspense_posted_fen"] == 0
    table = cli("reconcile", str(settlement), "--date", "2026-02-10", "--lang", "en")
    assert "Suspense posted: 0.00" in table.stdout

    broken = tmp_path / "broken.csv"
    broken.write_text("channel_ref,settled_on,status,amount\nx,2026-02-10,succeeded,1.5\n")
    failed = cli("reconcile", str(broken), "--date", "2026-02-10", code=2)
    assert "line 2" in failed.stderr
    assert (
        "cannot read" in cli("reconcile", str(tmp_path / "none.csv"), "--date", "2026-02-10", code=2).stderr
    )
