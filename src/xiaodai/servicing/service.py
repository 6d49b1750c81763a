"""Loan commands: create, sign, cancel, disburse, repay, prepay, waive, write off, reverse, refund.

Every money-moving command takes an idempotency key, locks the loan row, posts one balanced journal entry
and moves the stored balances in the same transaction. The command row and the journal rows are written at
once through the session's connection (``commands.run_once``, ``ledger.post``). ``repay``, the hot path
(``repayment.py``), reads the loan and its instalments as records through Core and writes each changed
row once with ``loans.save``; the other commands change ORM rows, which stay in the session until its
next flush, at the latest the caller's commit, so that each row is written once per command. The caller
commits once."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from xiaodai.db.tables import InstallmentRow, JournalEntryRow, LoanRow, PostingRow
from xiaodai.ledger import service as ledger
from xiaodai.ledger.chart import RECEIVABLES, Account
from xiaodai.ledger.journal import JournalEntry, entry
from xiaodai.money.money import Money
from xiaodai.pricing.caps import CapBook
from xiaodai.pricing.quote import build_quote
from xiaodai.pricing.schedule import LoanTerms
from xiaodai.servicing.accrual import capped_penalty_rate, daily_rate_e9
from xiaodai.servicing.allocation import AllocationOrder, Component, allocate
from xiaodai.servicing.billing import RECEIVABLE, apply_allocations, bill_through
from xiaodai.servicing.commands import Result, run_once
from xiaodai.servicing.delinquency import parse_buckets
from xiaodai.servicing.errors import ServicingError
from xiaodai.servicing.lifecycle import LoanState, is_open, transition
from xiaodai.servicing.loans import (
    Installment,
    Loan,
    LoanLike,
    dues,
    installments,
    lock_loan,
    refresh_status,
)

PENALTY_DAYS_IN_YEAR = 360


def fen(amount: Decimal) -> int:
    return Money.of(amount).to_minor()


@dataclass(frozen=True, slots=True)
class ServicingConfig:
    """Product servicing parameters (configuration, not code)."""

    penalty_annual_rate: Decimal = Decimal("0.12")  # 罚息 on overdue principal, before the cap
    allocation_order: AllocationOrder = AllocationOrder.OVERDUE_FIRST
    write_off_dpd: int = 180
    buckets: str = "M0:0,M1:1,M2:31,M3:61,M4+:91"
    cap_profile: str | None = "cn-consumer-24"


def create_loan(
    session: Session,
    *,
    terms: LoanTerms,
    product: str,
    config: ServicingConfig,
    cap_book: CapBook,
    signed: bool = True,
) -> LoanRow:
    """Price the loan (an offer over its cap raises ``CapExceededError``) and store it with its schedule."""
    parse_buckets(config.buckets)
    cap = cap_book.profile(config.cap_profile) if config.cap_profile else None
    quote = build_quote(terms, cap=cap, cap_book=cap_book)
    penalty = capped_penalty_rate(
        config.penalty_annual_rate,
        loan_apr_percent=quote.apr_percent,
        cap_limit_percent=quote.cap.limit_percent if quote.cap else None,
    )
    loan = LoanRow(
        product=product,
        currency=terms.currency,
        state=LoanState.APPROVED.value,
        method=terms.method.value,
        principal_fen=fen(terms.principal),
        term=terms.term,
        annual_rate=str(terms.annual_rate),
        start_on=terms.start_on,
        first_due_on=terms.first_due_on,
        odd_period_daycount=terms.odd_period_daycount.value,
        upfront_fee_fen=fen(terms.fees.upfront),
        upfront_fee_timing=terms.fees.upfront_timing.value,
        monthly_fee_fen=fen(terms.fees.monthly_fixed),
        flat_fee_rate=str(terms.fees.monthly_rate_on_principal),
        apr_percent=str(quote.apr_percent),
        disclosed_repayment_fen=fen(quote.total_repayment),
        cap_profile=config.cap_profile,
        penalty_rate_disclosed=str(config.penalty_annual_rate),
        penalty_rate_daily_e9=daily_rate_e9(penalty.annual_rate, PENALTY_DAYS_IN_YEAR),
        penalty_reason=penalty.reason,
        allocation_order=config.allocation_order.value,
        write_off_dpd=config.write_off_dpd,
        buckets=config.buckets,
        version=1,
        principal_outstanding_fen=0,
        interest_outstanding_fen=0,
        fees_outstanding_fen=0,
        penalties_outstanding_fen=0,
        overpayment_fen=0,
        paid_total_fen=0,
        penalties_charged_fen=0,
        dpd=0,
        bucket=parse_buckets(config.buckets)[0].name,
    )
    session.add(loan)
    session.flush()
    previous = terms.start_on
    for row in quote.schedule.rows:
        session.add(
            InstallmentRow(
                loan_id=loan.id,
                period=row.period,
                schedule_version=1,
                active=True,
                start_on=previous,
                due_on=row.due_on,
                principal_fen=fen(row.principal),
                interest_fen=fen(row.interest),
                fee_fen=fen(row.fee),
                billed=False,
                paid_principal_fen=0,
                paid_interest_fen=0,
                paid_fee_fen=0,
            )
        )
        previous = row.due_on
    if signed:
        loan.state = transition(LoanState.APPROVED, LoanState.SIGNED).value
    session.flush()
    return loan


def sign(session: Session, *, loan_id: int) -> Result:
    loan = lock_loan(session, loan_id)
    loan.state = transition(LoanState(loan.state), LoanState.SIGNED, allow_same=False).value
    return {"loan_id": loan.id, "state": loan.state}


def cancel(session: Session, *, loan_id: int, on: date) -> Result:
    loan = lock_loan(session, loan_id)
    loan.state = transition(LoanState(loan.state), LoanState.CANCELLED).value
    loan.closed_on = on
    return {"loan_id": loan.id, "state": loan.state}


def disburse(session: Session, *, loan_id: int, on: date, idempotency_key: str) -> Result:
    def action() -> Result:
        loan = lock_loan(session, loan_id)
        loan.state = transition(LoanState(loan.state), LoanState.ACTIVE, allow_same=False).value
        if on != loan.start_on:
            raise ServicingError(
                f"loan {loan_id} was priced and disclosed from {loan.start_on}; disburse on that date "
                "(a different date needs a new offer)"
            )
        net = loan.principal_fen - loan.upfront_fee_fen
        entry_id = ledger.post(
            session,
            entry(
                on,
                "disbursement",
                f"disburse:{loan.id}",
                [
                    (Account.LOAN_PRINCIPAL, loan.principal_fen),
                    (Account.CASH, -net),
                    (Account.FEE_INCOME, -loan.upfront_fee_fen),
                ],
                loan_id=loan.id,
            ),
            loan=loan,
        )
        loan.disbursed_on = on
        return {
            "loan_id": loan.id,
            "entry_id": entry_id,
            "net_disbursed": _money(net),
            "upfront_fee_income": _money(loan.upfront_fee_fen),
            "state": loan.state,
        }

    return run_once(
        session,
        key=idempotency_key,
        command="disburse",
        request={"loan_id": loan_id, "on": on.isoformat()},
        action=action,
    )


def _money(value_fen: int) -> str:
    return Money.from_minor(value_fen).to_json()


def _check_date(loan: LoanLike, on: date) -> None:
    if loan.disbursed_on is None or on < loan.disbursed_on:
        raise ServicingError(f"loan {loan.id} was not disbursed by {on}")


def book_repayment(
    session: Session | None, loan: Loan, rows: list[Installment], *, amount_fen: int, on: date, key: str
) -> tuple[list[JournalEntry], Result]:
    """A repayment of ``amount_fen`` on the loan and instalment records (``rows``: the loan's active
    instalments; none for a written-off loan): bills what is due by ``on``, allocates in the loan's order,
    moves the records' balances and paid columns. Returns the journal entries to insert (the repayment, keyed
    ``key``, last) and the command's result without its ``entry_id``. Nothing is written: the caller saves
    (``loans.save`` for one loan, ``payments.batch`` for many; ``api.loop_repay`` with no session at all)."""
    state = LoanState(loan.state)
    if state is LoanState.WRITTEN_OFF:
        recovery = entry(
            on,
            "recovery",
            key,
            [(Account.CASH, amount_fen), (Account.RECOVERY_INCOME, -amount_fen)],
            loan_id=loan.id,
        )
        ledger.move_balances(loan, recovery)
        loan.paid_total_fen += amount_fen
        return [recovery], {"loan_id": loan.id, "recovery": _money(amount_fen), "state": loan.state}
    if not is_open(state) and state is not LoanState.SETTLED:
        raise ServicingError(f"loan {loan.id} is {state.value}: it cannot take a repayment")
    _check_date(loan, on)
    journal: list[JournalEntry] = []
    bill_through(session, loan, rows, on, journal=journal)
    allocations, remainder = allocate(
        dues(rows, loan.penalties_outstanding_fen),
        amount_fen,
        order=AllocationOrder(loan.allocation_order),
        as_of=on,
    )
    legs = [(Account.CASH, amount_fen)]
    legs += [(RECEIVABLE[a.component], -a.amount_fen) for a in allocations]
    legs.append((Account.OVERPAYMENT, -remainder))
    memo = json.dumps(
        {
            "allocations": [[a.period, a.component.value, a.amount_fen] for a in allocations],
            "overpayment": remainder,
        }
    )
    repayment = entry(on, "repayment", key, legs, loan_id=loan.id, memo=memo)
    ledger.move_balances(loan, repayment)
    journal.append(repayment)
    apply_allocations(rows, [(a.period, a.component, a.amount_fen) for a in allocations], on)
    loan.paid_total_fen += amount_fen
    refresh_status(loan, rows, on)
    return journal, {
        "loan_id": loan.id,
        "amount": _money(amount_fen),
        "allocations": [
            {"period": a.period, "component": a.component.value, "amount": _money(a.amount_fen)}
            for a in allocations
        ],
        "overpayment": _money(remainder),
        "state": loan.state,
        "dpd": loan.dpd,
        "bucket": loan.bucket,
    }


def waive(
    session: Session,
    *,
    loan_id: int,
    component: Component,
    amount_fen: int,
    on: date,
    idempotency_key: str,
    reason: str,
) -> Result:
    """Forgive part of what is owed (penalty, fee or interest): the income is reversed."""
    if amount_fen <= 0:
        raise ServicingError("a waiver must be a positive amount")
    if component is Component.PRINCIPAL:
        raise ServicingError("principal is not waived; use write-off")
    if not reason.strip():
        raise ServicingError("a waiver needs a reason")

    def action() -> Result:
        loan = lock_loan(session, loan_id)
        if not is_open(LoanState(loan.state)):
            raise ServicingError(f"loan {loan_id} is {loan.state}")
        rows = installments(session, loan.id, lock=True)
        candidates = [d for d in dues(rows, loan.penalties_outstanding_fen) if d.component is component]
        allocations, left = allocate(
            candidates, amount_fen, order=AllocationOrder.PENALTY_FEE_INTEREST_PRINCIPAL, as_of=on
        )
        if left:
            raise ServicingError(f"only {_money(amount_fen - left)} of {component.value} is owed")
        income = {
            Component.PENALTY: Account.PENALTY_INCOME,
            Component.FEE: Account.FEE_INCOME,
            Component.INTEREST: Account.INTEREST_INCOME,
        }[component]
        entry_id = ledger.post(
            session,
            entry(
                on,
                "waiver",
                f"waive:{idempotency_key}",
                [(income, amount_fen), (RECEIVABLE[component], -amount_fen)],
                loan_id=loan.id,
                memo=json.dumps(
                    {
                        "reason": reason,
                        "allocations": [[a.period, a.component.value, a.amount_fen] for a in allocations],
                    }
                ),
            ),
            loan=loan,
        )
        apply_allocations(rows, [(a.period, a.component, a.amount_fen) for a in allocations], on)
        refresh_status(loan, rows, on)
        return {
            "loan_id": loan.id,
            "entry_id": entry_id,
            "waived": _money(amount_fen),
            "component": component.value,
            "state": loan.state,
        }

    return run_once(
        session,
        key=idempotency_key,
        command="waive",
        request={
            "loan_id": loan_id,
            "component": component.value,
            "amount_fen": amount_fen,
            "on": on.isoformat(),
            "reason": reason,
        },
        action=action,
    )


def write_off(session: Session, *, loan_id: int, on: date, idempotency_key: str) -> Result:
    def action() -> Result:
        loan = lock_loan(session, loan_id)
        loan.state = transition(LoanState(loan.state), LoanState.WRITTEN_OFF, allow_same=False).value
        columns = {
            Account.LOAN_PRINCIPAL: loan.principal_outstanding_fen,
            Account.LOAN_INTEREST: loan.interest_outstanding_fen,
            Account.LOAN_FEES: loan.fees_outstanding_fen,
            Account.LOAN_PENALTIES: loan.penalties_outstanding_fen,
        }
        total = sum(columns.values())
        legs = [(Account.WRITE_OFF_EXPENSE, total)] + [(acc, -amt) for acc, amt in columns.items()]
        entry_id = (
            ledger.post(
                session, entry(on, "write-off", f"write-off:{loan.id}", legs, loan_id=loan.id), loan=loan
            )
            if total
            else None
        )
        loan.closed_on = on
        return {"loan_id": loan.id, "entry_id": entry_id, "written_off": _money(total), "state": loan.state}

    return run_once(
        session,
        key=idempotency_key,
        command="write-off",
        request={"loan_id": loan_id, "on": on.isoformat()},
        action=action,
    )


def refund_overpayment(
    session: Session, *, loan_id: int, amount_fen: int, on: date, idempotency_key: str
) -> Result:
    def action() -> Result:
        loan = lock_loan(session, loan_id)
        if amount_fen <= 0 or amount_fen > loan.overpayment_fen:
            raise ServicingError(
                f"refund must be between 0.01 and the overpayment held ({_money(loan.overpayment_fen)})"
            )
        entry_id = ledger.post(
            session,
            entry(
                on,
                "refund",
                f"refund:{idempotency_key}",
                [(Account.OVERPAYMENT, amount_fen), (Account.CASH, -amount_fen)],
                loan_id=loan.id,
            ),
            loan=loan,
        )
        return {"loan_id": loan.id, "entry_id": entry_id, "refunded": _money(amount_fen)}

    return run_once(
        session,
        key=idempotency_key,
        command="refund",
        request={"loan_id": loan_id, "amount_fen": amount_fen, "on": on.isoformat()},
        action=action,
    )


REVERSIBLE = {"repayment", "waiver", "refund"}


def reverse(session: Session, *, entry_id: int, on: date, idempotency_key: str) -> Result:
    """Reverse a repayment, waiver or refund with a mirror entry; instalment allocations are undone."""

    def action() -> Result:
        original = session.get(JournalEntryRow, entry_id)
        if original is None:
            raise ServicingError(f"journal entry {entry_id} does not exist")
        if original.event not in REVERSIBLE:
            raise ServicingError(
                f"{original.event} entries are not reversed by this command "
                f"(reversible: {', '.join(sorted(REVERSIBLE))})"
            )
        already = session.execute(
            select(JournalEntryRow.id).where(JournalEntryRow.reverses_id == entry_id)
        ).first()
        if already is not None:
            raise ServicingError(f"entry {entry_id} was already reversed by entry {already[0]}")
        if original.loan_id is None:
            raise ServicingError("only loan entries can be reversed here")
        loan = lock_loan(session, original.loan_id)
        postings = session.execute(select(PostingRow).where(PostingRow.entry_id == entry_id)).scalars().all()
        legs = [(Account(p.account), -p.amount_fen) for p in postings]
        for account, amount in legs:
            if account in RECEIVABLES and amount < 0:
                raise ServicingError("cannot reverse: the entry would reduce a receivable")
        give_back = sum(amount for account, amount in legs if account is Account.OVERPAYMENT)
        if give_back > loan.overpayment_fen:
            raise ServicingError("cannot reverse: the overpayment it created was already applied or refunded")
        if LoanState(loan.state) is LoanState.SETTLED:
            loan.state = transition(LoanState.SETTLED, LoanState.ACTIVE).value
            loan.closed_on = None
        new_id = ledger.post(
            session,
            entry(on, "reversal", f"reverse:{idempotency_key}", legs, loan_id=loan.id, reverses=entry_id),
            loan=loan,
        )
        memo = json.loads(original.memo or "{}")
        rows = installments(session, loan.id, lock=True)
        apply_allocations(
            rows, [(p, Component(c), a) for p, c, a in memo.get("allocations", [])], on, sign=-1
        )
        cash = sum(-amount for account, amount in legs if account is Account.CASH)
        if original.event == "repayment":
            loan.paid_total_fen -= cash
        refresh_status(loan, rows, on)
        return {"entry_id": new_id, "reverses": entry_id, "loan_id": loan.id, "state": loan.state}

    return run_once(
        session,
        key=idempotency_key,
        command="reverse",
        request={"entry_id": entry_id, "on": on.isoformat()},
        action=action,
    )


def scheduled_row(
    *,
    loan_id: int,
    period: int,
    version: int,
    start_on: date,
    due_on: date,
    principal_fen: int,
    interest_fen: int,
    fee_fen: int,
) -> InstallmentRow:
    """A new, unbilled, unpaid instalment row (re-amortisation and hardship plans)."""
    return InstallmentRow(
        loan_id=loan_id,
        period=period,
        schedule_version=version,
        active=True,
        start_on=start_on,
        due_on=due_on,
        principal_fen=principal_fen,
        interest_fen=interest_fen,
        fee_fen=fee_fen,
        billed=False,
        paid_principal_fen=0,
        paid_interest_fen=0,
        paid_fee_fen=0,
    )


# Re-exported so that callers keep using ``service.prepay`` and friends.
from xiaodai.servicing.adjustments import (  # noqa: E402
    HARDSHIP_MAX_EXTENSION_MONTHS,
    credit_borrower,
    hardship_extension,
)
from xiaodai.servicing.payoff import payoff_json, prepay, prepay_quote  # noqa: E402
from xiaodai.servicing.repayment import repay  # noqa: E402

__all__ = [
    "HARDSHIP_MAX_EXTENSION_MONTHS",
    "ServicingConfig",
    "cancel",
    "create_loan",
    "credit_borrower",
    "disburse",
    "hardship_extension",
    "payoff_json",
    "prepay",
    "prepay_quote",
    "refund_overpayment",
    "repay",
    "reverse",
    "sign",
    "waive",
    "write_off",
]
