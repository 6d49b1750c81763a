"""Lifecycle, disbursement, repayment allocation, idempotency — on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from xiaodai.db.tables import JournalEntryRow, LoanRow, PostingRow
from xiaodai.ledger import service as ledger
from xiaodai.servicing import service
from xiaodai.servicing.errors import IdempotencyConflictError, ServicingError
from xiaodai.servicing.lifecycle import IllegalTransitionError
from xiaodai.servicing.views import loan_view


def entries(factory: sessionmaker[Session]) -> int:
    with factory() as s:
        return s.execute(select(func.count()).select_from(JournalEntryRow)).scalar_one()


def check_ledger(factory: sessionmaker[Session]) -> None:
    with factory() as s:
        assert ledger.check(s) == []


def test_disbursement_posts_net_and_fee_income(
    factory: sessionmaker[Session], new_loan: Callable[..., int]
) -> None:
    loan_id = new_loan(upfront="300")
    with factory() as s:
        balances = ledger.trial_balance(s)
        loan = s.get(LoanRow, loan_id)
        assert loan is not None
        assert loan.state == "active"
        assert loan.principal_outstanding_fen == 1_000_000
    assert balances == {
        "assets:cash:settlement": -970_000,
        "assets:loans:principal": 1_000_000,
        "income:fees": -30_000,
    }
    check_ledger(factory)


def test_illegal_transitions_are_refused(
    factory: sessionmaker[Session], new_loan: Callable[..., int]
) -> None:
    loan_id = new_loan()
    with pytest.raises(IllegalTransitionError, match="cannot become cancelled"), factory() as s, s.begin():
        service.cancel(s, loan_id=loan_id, on=date(2026, 1, 11))
    with pytest.raises(IllegalTransitionError), factory() as s, s.begin():
        service.disburse(s, loan_id=loan_id, on=date(2026, 1, 10), idempotency_key="another-key")
    undisbursed = new_loan(disburse=False)
    with pytest.raises(ServicingError, match="cannot take a repayment"), factory() as s, s.begin():
        service.repay(s, loan_id=undisbursed, amount_fen=100, on=date(2026, 1, 12), idempotency_key="r")
    with factory() as s, s.begin():
        assert service.cancel(s, loan_id=undisbursed, on=date(2026, 1, 11))["state"] == "cancelled"


def test_repayment_allocation_and_idempotent_retry(
    factory: sessionmaker[Session], new_loan: Callable[..., int]
) -> None:
    loan_id = new_loan()
    with factory() as s, s.begin():
        first = service.repay(
            s, loan_id=loan_id, amount_fen=90_258, on=date(2026, 2, 10), idempotency_key="pay-1"
        )
    assert [(a["component"], a["amount"]) for a in first["allocations"]] == [
        ("interest", "125.00"),
        ("principal", "777.58"),
    ]
    before = entries(factory)
    with factory() as s, s.begin():
        again = service.repay(
            s, loan_id=loan_id, amount_fen=90_258, on=date(2026, 2, 10), idempotency_key="pay-1"
        )
    assert again["replayed"] is True
    assert again["entry_id"] == first["entry_id"]
    assert entries(factory) == before
    with pytest.raises(IdempotencyConflictError), factory() as s, s.begin():
        service.repay(s, loan_id=loan_id, amount_fen=100, on=date(2026, 2, 10), idempotency_key="pay-1")
    with factory() as s:
        view = loan_view(s, loan_id=loan_id, as_of=date(2026, 2, 10))
    assert view["schedule"][0]["status"] == "paid"
    assert view["balances"]["principal"] == "9222.42"
    check_ledger(factory)


def test_overpayment_is_held_then_applied_or_refunded(
    factory: sessionmaker[Session], new_loan: Callable[..., int]
) -> None:
    loan_id = new_loan()
    with factory() as s, s.begin():
        result = service.repay(
            s, loan_id=loan_id, amount_fen=100_000, on=date(2026, 2, 10), idempotency_key="p"
        )
    assert result["overpayment"] == "97.42"
    with factory() as s, s.begin():
        # next billing applies the held money to instalment 2
        service.repay(s, loan_id=loan_id, amount_fen=80_516, on=date(2026, 3, 10), idempotency_key="q")
    with factory() as s:
        view = loan_view(s, loan_id=loan_id, as_of=date(2026, 3, 10))
    assert view["schedule"][1]["status"] == "paid"
    assert view["balances"]["overpayment"] == "0.00"
    with factory() as s, s.begin():
        service.repay(s, loan_id=loan_id, amount_fen=5_000, on=date(2026, 3, 11), idempotency_key="extra")
    with factory() as s, s.begin():
        refund = service.refund_overpayment(
            s, loan_id=loan_id, amount_fen=5_000, on=date(2026, 3, 12), idempotency_key="refund"
        )
    assert refund["refunded"] == "50.00"
    with pytest.raises(ServicingError, match="overpayment held"), factory() as s, s.begin():
        service.refund_overpayment(
            s, loan_id=loan_id, amount_fen=1, on=date(2026, 3, 12), idempotency_key="r2"
        )
    check_ledger(factory)


def test_reversal_restores_the_instalment(
    factory: sessionmaker[Session], new_loan: Callable[..., int]
) -> None:
    loan_id = new_loan()
    with factory() as s, s.begin():
        paid = service.repay(s, loan_id=loan_id, amount_fen=90_258, on=date(2026, 2, 10), idempotency_key="p")
    with factory() as s, s.begin():
        service.reverse(s, entry_id=paid["entry_id"], on=date(2026, 2, 11), idempotency_key="rev")
    with pytest.raises(ServicingError, match="already reversed"), factory() as s, s.begin():
        service.reverse(s, entry_id=paid["entry_id"], on=date(2026, 2, 11), idempotency_key="rev-2")
    with factory() as s:
        view = loan_view(s, loan_id=loan_id, as_of=date(2026, 2, 11))
        postings = s.execute(select(func.count()).select_from(PostingRow)).scalar_one()
    assert view["schedule"][0]["status"] == "overdue"
    assert view["balances"]["interest"] == "125.00"
    assert view["paid_total"] == "0.00"
    assert postings > 0
    check_ledger(factory)


def test_write_off_then_recovery(factory: sessionmaker[Session], new_loan: Callable[..., int]) -> None:
    loan_id = new_loan()
    with factory() as s, s.begin():
        off = service.write_off(s, loan_id=loan_id, on=date(2026, 8, 1), idempotency_key="wo")
    assert off["written_off"] == "10000.00"
    with factory() as s, s.begin():
        rec = service.repay(s, loan_id=loan_id, amount_fen=1_000, on=date(2026, 9, 1), idempotency_key="rec")
    assert rec["recovery"] == "10.00"
    with factory() as s:
        balances = ledger.trial_balance(s)
    assert balances["expenses:write-off"] == 1_000_000
    assert balances["income:recoveries"] == -1_000
    check_ledger(factory)


def test_hardship_extension_moves_future_instalments_without_extra_cost(
    factory: sessionmaker[Session], new_loan: Callable[..., int]
) -> None:
    loan_id = new_loan()
    with factory() as s:
        before = loan_view(s, loan_id=loan_id)
    with factory() as s, s.begin():
        plan = service.hardship_extension(
            s,
            loan_id=loan_id,
            months=2,
            on=date(2026, 3, 1),
            idempotency_key="h",
            reason="失业，收入中断",
            approved_by="underwriter:7",
        )
    assert plan["moved"][0] == {"period": 2, "from": "2026-03-10", "to": "2026-05-10"}
    with factory() as s:
        after = loan_view(s, loan_id=loan_id)
    assert after["schedule"][0]["due_date"] == "2026-02-10"  # already billed: stays
    assert after["schedule"][-1]["due_date"] == "2027-03-10"
    assert sum(float(r["payment"]) for r in after["schedule"]) == sum(
        float(r["payment"]) for r in before["schedule"]
    )
    with pytest.raises(ServicingError, match="1 to 3 months"), factory() as s, s.begin():
        service.hardship_extension(
            s,
            loan_id=loan_id,
            months=6,
            on=date(2026, 3, 1),
            idempotency_key="h2",
            reason="x",
            approved_by="y",
        )
    check_ledger(factory)


def test_repaying_long_arrears_posts_a_long_allocation_memo(
    factory: sessionmaker[Session], engine: object, new_loan: Callable[..., int]
) -> None:
    from xiaodai.servicing.eod import run_eod

    loan_id = new_loan(term=24)
    run_eod(engine, date(2026, 9, 20))  # type: ignore[arg-type]  # eight instalments overdue
    with factory() as s, s.begin():
        paid = service.repay(
            s, loan_id=loan_id, amount_fen=900_000, on=date(2026, 9, 20), idempotency_key="all"
        )
    assert len(paid["allocations"]) > 12
    check_ledger(factory)
