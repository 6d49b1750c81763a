"""Loan commands: create, sign, cancel, disburse, repay, prepay, waive, write off, reverse, refund.

Every money-moving command takes an idempotency key, locks the loan row, posts one balanced journal entry
and moves the stored balances in the same transaction. Services flush; the caller commits once.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from xiaodai.db.tables import InstallmentRow, JournalEntryRow, LoanEventRow, LoanRow, PostingRow
from xiaodai.ledger import service as ledger
from xiaodai.ledger.chart import RECEIVABLES, Account
from xiaodai.ledger.journal import entry
from xiaodai.money.daycount import DayCount
from xiaodai.money.money import Money
from xiaodai.pricing.caps import CapBook
from xiaodai.pricing.quote import build_quote
from xiaodai.pricing.schedule import LoanTerms, Method
from xiaodai.servicing.accrual import capped_penalty_rate, daily_rate_e9, prorated_fen
from xiaodai.servicing.allocation import AllocationOrder, Component, allocate
from xiaodai.servicing.billing import RECEIVABLE, apply_allocations, bill_through
from xiaodai.servicing.commands import Result, run_once
from xiaodai.servicing.delinquency import parse_buckets
from xiaodai.servicing.errors import ServicingError
from xiaodai.servicing.lifecycle import LoanState, is_open, transition
from xiaodai.servicing.loans import dues, get_loan, installments, lock_loan, period_views, refresh_status
from xiaodai.servicing.prepayment import PayoffQuote, PrepayMode, payoff_quote, reschedule

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
        loan.version += 1
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


def _check_date(loan: LoanRow, on: date) -> None:
    if loan.disbursed_on is None or on < loan.disbursed_on:
        raise ServicingError(f"loan {loan.id} was not disbursed by {on}")


def repay(session: Session, *, loan_id: int, amount_fen: int, on: date, idempotency_key: str) -> Result:
    if amount_fen <= 0:
        raise ServicingError("a repayment must be a positive amount")

    def action() -> Result:
        loan = lock_loan(session, loan_id)
        state = LoanState(loan.state)
        if state is LoanState.WRITTEN_OFF:
            entry_id = ledger.post(
                session,
                entry(
                    on,
                    "recovery",
                    f"repay:{idempotency_key}",
                    [(Account.CASH, amount_fen), (Account.RECOVERY_INCOME, -amount_fen)],
                    loan_id=loan.id,
                ),
                loan=loan,
            )
            loan.paid_total_fen += amount_fen
            loan.version += 1
            return {
                "loan_id": loan.id,
                "entry_id": entry_id,
                "recovery": _money(amount_fen),
                "state": loan.state,
            }
        if not is_open(state) and state is not LoanState.SETTLED:
            raise ServicingError(f"loan {loan_id} is {state.value}: it cannot take a repayment")
        _check_date(loan, on)
        rows = installments(session, loan.id, lock=True)
        bill_through(session, loan, rows, on)
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
        entry_id = ledger.post(
            session,
            entry(on, "repayment", f"repay:{idempotency_key}", legs, loan_id=loan.id, memo=memo),
            loan=loan,
        )
        apply_allocations(rows, [(a.period, a.component, a.amount_fen) for a in allocations], on)
        loan.paid_total_fen += amount_fen
        loan.version += 1
        refresh_status(loan, rows, on)
        return {
            "loan_id": loan.id,
            "entry_id": entry_id,
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

    return run_once(
        session,
        key=idempotency_key,
        command="repay",
        request={"loan_id": loan_id, "amount_fen": amount_fen, "on": on.isoformat()},
        action=action,
    )


def prepay_quote(session: Session, *, loan_id: int, on: date) -> PayoffQuote:
    """What settles the loan on ``on``: principal, dues, interest for the days used, penalties.

    Read-only: instalments due by ``on`` are treated as billed without posting anything.
    """
    loan = get_loan(session, loan_id)
    if not is_open(LoanState(loan.state)):
        raise ServicingError(f"loan {loan_id} is {loan.state}: nothing to pay off")
    _check_date(loan, on)
    views = [
        replace(v, billed=v.billed or v.due_on <= on) for v in period_views(installments(session, loan.id))
    ]
    return payoff_quote(
        views, on=on, penalties_fen=loan.penalties_outstanding_fen, overpayment_fen=loan.overpayment_fen
    )


def payoff_json(quote: PayoffQuote) -> dict[str, Any]:
    return {
        "on": quote.on.isoformat(),
        "principal": _money(quote.principal_fen),
        "interest": _money(quote.interest_fen),
        "fees": _money(quote.fees_fen),
        "penalties": _money(quote.penalties_fen),
        "prepayment_fee": _money(quote.prepayment_fee_fen),
        "overpayment_credit": _money(quote.overpayment_credit_fen),
        "total": _money(quote.total_fen),
    }


def prepay(
    session: Session,
    *,
    loan_id: int,
    on: date,
    idempotency_key: str,
    amount_fen: int | None = None,
    mode: PrepayMode = PrepayMode.SHORTEN_TERM,
) -> Result:
    """Full (``amount_fen`` None or ≥ the payoff) or partial prepayment; a partial one re-amortises."""

    def action() -> Result:
        loan = lock_loan(session, loan_id)
        if not is_open(LoanState(loan.state)):
            raise ServicingError(f"loan {loan_id} is {loan.state}: it cannot be prepaid")
        _check_date(loan, on)
        rows = installments(session, loan.id, lock=True)
        bill_through(session, loan, rows, on)
        quote = payoff_quote(
            period_views(rows),
            on=on,
            penalties_fen=loan.penalties_outstanding_fen,
            overpayment_fen=loan.overpayment_fen,
        )
        if amount_fen is None or amount_fen >= quote.total_fen:
            return _full_prepayment(session, loan, rows, quote, on, amount_fen, idempotency_key)
        return _partial_prepayment(session, loan, rows, quote, on, amount_fen, mode, idempotency_key)

    return run_once(
        session,
        key=idempotency_key,
        command="prepay",
        request={"loan_id": loan_id, "on": on.isoformat(), "amount_fen": amount_fen, "mode": mode.value},
        action=action,
    )


def _running(rows: list[InstallmentRow]) -> list[InstallmentRow]:
    return [r for r in rows if not r.billed]


def _full_prepayment(  # noqa: PLR0917
    session: Session,
    loan: LoanRow,
    rows: list[InstallmentRow],
    quote: PayoffQuote,
    on: date,
    amount_fen: int | None,
    key: str,
) -> Result:
    cash = quote.total_fen if amount_fen is None else amount_fen
    billed_interest = loan.interest_outstanding_fen
    billed_fees = loan.fees_outstanding_fen
    accrued_interest = quote.interest_fen - billed_interest
    accrued_fees = quote.fees_fen - billed_fees
    owed = (
        quote.principal_fen
        + quote.interest_fen
        + quote.fees_fen
        + quote.penalties_fen
        + quote.prepayment_fee_fen
    )
    credit_used = min(loan.overpayment_fen, owed)
    extra = cash - quote.total_fen  # paid more than the payoff: held as overpayment, to refund
    legs = [
        (Account.CASH, cash),
        (Account.OVERPAYMENT, credit_used - extra),
        (Account.LOAN_PRINCIPAL, -loan.principal_outstanding_fen),
        (Account.LOAN_INTEREST, -billed_interest),
        (Account.INTEREST_INCOME, -accrued_interest),
        (Account.LOAN_FEES, -billed_fees),
        (Account.FEE_INCOME, -accrued_fees),
        (Account.LOAN_PENALTIES, -loan.penalties_outstanding_fen),
    ]
    entry_id = ledger.post(
        session,
        entry(
            on,
            "prepayment",
            f"prepay:{key}",
            legs,
            loan_id=loan.id,
            memo=json.dumps({"payoff": payoff_json(quote), "kind": "full"}),
        ),
        loan=loan,
    )
    for row in rows:
        if row.billed:
            row.paid_principal_fen, row.paid_interest_fen, row.paid_fee_fen = (
                row.principal_fen,
                row.interest_fen,
                row.fee_fen,
            )
            row.paid_on = row.paid_on or on
    running = _running(rows)
    if running:
        first = running[0]
        principal_left = sum(r.principal_fen - r.paid_principal_fen for r in running)
        for row in running:
            row.active = False
        version = max(r.schedule_version for r in rows) + 1
        session.add(
            InstallmentRow(
                loan_id=loan.id,
                period=first.period,
                schedule_version=version,
                active=True,
                start_on=first.start_on,
                due_on=on,
                principal_fen=principal_left,
                interest_fen=accrued_interest + first.paid_interest_fen,
                fee_fen=accrued_fees + first.paid_fee_fen,
                billed=True,
                paid_principal_fen=principal_left,
                paid_interest_fen=accrued_interest + first.paid_interest_fen,
                paid_fee_fen=accrued_fees + first.paid_fee_fen,
                paid_on=on,
            )
        )
    session.flush()
    loan.paid_total_fen += cash
    loan.version += 1
    refresh_status(loan, installments(session, loan.id, lock=True), on)
    return {
        "loan_id": loan.id,
        "entry_id": entry_id,
        "kind": "full",
        "payoff": payoff_json(quote),
        "paid": _money(cash),
        "overpayment": _money(loan.overpayment_fen),
        "state": loan.state,
    }


def _partial_prepayment(  # noqa: PLR0917
    session: Session,
    loan: LoanRow,
    rows: list[InstallmentRow],
    quote: PayoffQuote,
    on: date,
    amount_fen: int,
    mode: PrepayMode,
    key: str,
) -> Result:
    method = Method(loan.method)
    if method is Method.FLAT_FEE:
        raise ServicingError("partial prepayment is not offered for flat-fee products; full prepayment is")
    running = _running(rows)
    if not running:
        raise ServicingError("nothing left to re-amortise: pay the dues or prepay in full")
    first = running[0]
    accrued = 0
    if first.start_on < on:
        accrued = prorated_fen(
            first.interest_fen, (on - first.start_on).days, (first.due_on - first.start_on).days
        )
    owed_now = (
        loan.interest_outstanding_fen
        + loan.fees_outstanding_fen
        + loan.penalties_outstanding_fen
        + sum(r.principal_fen - r.paid_principal_fen for r in rows if r.billed)
        + accrued
    )
    available = amount_fen + loan.overpayment_fen
    if available <= owed_now:
        raise ServicingError(f"a partial prepayment must exceed what is due today ({_money(owed_now)})")
    allocations, left = allocate(
        dues(rows, loan.penalties_outstanding_fen),
        available,
        order=AllocationOrder(loan.allocation_order),
        as_of=on,
    )
    left -= accrued
    unbilled_principal = sum(r.principal_fen - r.paid_principal_fen for r in running)
    principal_part = min(left, unbilled_principal)
    extra = left - principal_part
    legs = [(Account.CASH, amount_fen), (Account.OVERPAYMENT, loan.overpayment_fen - extra)]
    legs += [(RECEIVABLE[a.component], -a.amount_fen) for a in allocations]
    legs += [(Account.INTEREST_INCOME, -accrued), (Account.LOAN_PRINCIPAL, -principal_part)]
    apply_allocations(rows, [(a.period, a.component, a.amount_fen) for a in allocations], on)
    balance = unbilled_principal - principal_part
    new_rows: list[InstallmentRow] = []
    version = max(r.schedule_version for r in rows) + 1
    for row in running:
        row.active = False
    if balance > 0:
        current_payment = running[0].principal_fen + running[0].interest_fen + running[0].fee_fen
        plan = reschedule(
            balance_fen=balance,
            on=on,
            next_due_on=first.due_on,
            remaining_periods=len(running),
            annual_rate=Decimal(loan.annual_rate),
            method=method,
            mode=mode,
            current_payment_fen=current_payment,
            monthly_fee_fen=loan.monthly_fee_fen,
            first_period_number=first.period,
            odd_period_daycount=DayCount(loan.odd_period_daycount),
        )
        previous = on
        for item in plan:
            new_rows.append(
                InstallmentRow(
                    loan_id=loan.id,
                    period=item.period,
                    schedule_version=version,
                    active=True,
                    start_on=previous,
                    due_on=item.due_on,
                    principal_fen=item.principal_fen,
                    interest_fen=item.interest_fen,
                    fee_fen=item.fee_fen,
                    billed=False,
                    paid_principal_fen=0,
                    paid_interest_fen=0,
                    paid_fee_fen=0,
                )
            )
            previous = item.due_on
    session.add_all(new_rows)
    memo = json.dumps(
        {
            "kind": "partial",
            "mode": mode.value,
            "accrued_interest": accrued,
            "principal": principal_part,
            "allocations": [[a.period, a.component.value, a.amount_fen] for a in allocations],
        }
    )
    entry_id = ledger.post(
        session, entry(on, "prepayment", f"prepay:{key}", legs, loan_id=loan.id, memo=memo), loan=loan
    )
    loan.paid_total_fen += amount_fen
    loan.version += 1
    refresh_status(loan, installments(session, loan.id, lock=True), on)
    return {
        "loan_id": loan.id,
        "entry_id": entry_id,
        "kind": "partial",
        "mode": mode.value,
        "interest_for_days_used": _money(accrued),
        "principal_reduced": _money(principal_part),
        "new_schedule": [
            {
                "period": r.period,
                "due_date": r.due_on.isoformat(),
                "payment": _money(r.principal_fen + r.interest_fen + r.fee_fen),
            }
            for r in new_rows
        ],
        "state": loan.state,
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
        loan.version += 1
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
        loan.version += 1
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
        loan.version += 1
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
        loan.version += 1
        refresh_status(loan, rows, on)
        return {"entry_id": new_id, "reverses": entry_id, "loan_id": loan.id, "state": loan.state}

    return run_once(
        session,
        key=idempotency_key,
        command="reverse",
        request={"entry_id": entry_id, "on": on.isoformat()},
        action=action,
    )


HARDSHIP_MAX_EXTENSION_MONTHS = 3


def hardship_extension(
    session: Session,
    *,
    loan_id: int,
    months: int,
    on: date,
    idempotency_key: str,
    reason: str,
    approved_by: str,
) -> Result:
    """A hardship plan: the unpaid instalments not yet due move ``months`` later, with no extra interest or
    fee (house policy, at most HARDSHIP_MAX_EXTENSION_MONTHS); the old rows are kept as superseded."""
    if not 1 <= months <= HARDSHIP_MAX_EXTENSION_MONTHS:
        raise ServicingError(f"an extension is 1 to {HARDSHIP_MAX_EXTENSION_MONTHS} months")
    if not reason.strip() or not approved_by.strip():
        raise ServicingError("a hardship plan needs a reason and an approver")

    def action() -> Result:
        from xiaodai.money.dates import add_months

        loan = lock_loan(session, loan_id)
        if not is_open(LoanState(loan.state)):
            raise ServicingError(f"loan {loan_id} is {loan.state}")
        rows = installments(session, loan.id, lock=True)
        movable = [r for r in rows if not r.billed and r.due_on > on]
        if not movable:
            raise ServicingError("no instalment left to move")
        version = max(r.schedule_version for r in rows) + 1
        moved = []
        previous_due = None
        for row in movable:
            row.active = False
            due = add_months(row.due_on, months)
            start = previous_due or row.start_on
            session.add(
                InstallmentRow(
                    loan_id=loan.id,
                    period=row.period,
                    schedule_version=version,
                    active=True,
                    start_on=start,
                    due_on=due,
                    principal_fen=row.principal_fen,
                    interest_fen=row.interest_fen,
                    fee_fen=row.fee_fen,
                    billed=False,
                    paid_principal_fen=0,
                    paid_interest_fen=0,
                    paid_fee_fen=0,
                )
            )
            previous_due = due
            moved.append({"period": row.period, "from": row.due_on.isoformat(), "to": due.isoformat()})
        session.add(
            LoanEventRow(
                loan_id=loan.id,
                business_date=on,
                kind="hardship-extension",
                payload=json.dumps(
                    {"months": months, "reason": reason, "approved_by": approved_by, "moved": moved},
                    ensure_ascii=False,
                ),
            )
        )
        loan.version += 1
        session.flush()
        return {"loan_id": loan.id, "months": months, "moved": moved}

    return run_once(
        session,
        key=idempotency_key,
        command="hardship-extension",
        request={"loan_id": loan_id, "months": months, "on": on.isoformat()},
        action=action,
    )


def credit_borrower(
    session: Session,
    *,
    loan_id: int,
    amount_fen: int,
    on: date,
    idempotency_key: str,
    income: Component,
    reason: str,
) -> Result:
    """A remedy: give money back (a fee or interest already paid) — income is reversed and the amount is held
    for the borrower as overpayment, to be applied or refunded."""
    if amount_fen <= 0:
        raise ServicingError("a credit must be positive")
    account = {
        Component.FEE: Account.FEE_INCOME,
        Component.INTEREST: Account.INTEREST_INCOME,
        Component.PENALTY: Account.PENALTY_INCOME,
    }.get(income)
    if account is None:
        raise ServicingError("credits reverse fee, interest or penalty income")

    def action() -> Result:
        loan = lock_loan(session, loan_id)
        entry_id = ledger.post(
            session,
            entry(
                on,
                "remedy-credit",
                f"credit:{idempotency_key}",
                [(account, amount_fen), (Account.OVERPAYMENT, -amount_fen)],
                loan_id=loan.id,
                memo=json.dumps({"reason": reason}),
            ),
            loan=loan,
        )
        loan.version += 1
        return {"loan_id": loan.id, "entry_id": entry_id, "credited": _money(amount_fen)}

    return run_once(
        session,
        key=idempotency_key,
        command="credit",
        request={"loan_id": loan_id, "amount_fen": amount_fen, "on": on.isoformat(), "income": income.value},
        action=action,
    )
