"""Builders for the payments integration tests: a borrower, a bound card, a loan that is theirs."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from xiaodai.db.tables import JournalEntryRow, LoanRow, UserRow
from xiaodai.payments import service
from xiaodai.payments.card import luhn_check_digit
from xiaodai.payments.sandbox_channel import SandboxChannel
from xiaodai.privacy.keys import current_ring


def card_number(last4: str, prefix: str = "622202") -> str:
    """A valid ICBC 16-digit number ending in ``last4`` (the sandbox scripts by the last four digits)."""
    for middle in range(100_000):
        body = f"{prefix}{middle:06d}{last4[:3]}"
        if luhn_check_digit(body) == last4[3]:
            return body + last4[3]
    raise AssertionError("no Luhn number with that ending")


def borrower(factory: sessionmaker[Session]) -> int:
    with factory() as s, s.begin():
        user = UserRow(kind="borrower", email=f"{uuid.uuid4().hex[:10]}@example.com", password_hash="x")
        s.add(user)
        s.flush()
        return user.id


def bind(factory: sessionmaker[Session], channel: SandboxChannel, borrower_id: int, number: str) -> int:
    with factory() as s, s.begin():
        started = service.start_binding(
            s, channel=channel, ring=current_ring(), borrower_id=borrower_id, number=number
        )
    with factory() as s, s.begin():
        code = channel.code_for(started["verify_ref"])
        service.confirm_binding(s, channel=channel, card_id=started["card_id"], code=code)
    return int(started["card_id"])


def debited_loan(
    factory: sessionmaker[Session],
    new_loan: Callable[..., int],
    channel: SandboxChannel,
    last4: str,
    **loan: object,
) -> tuple[int, int, int]:
    """(borrower id, card id, loan id): a disbursed loan of a borrower whose default card ends ``last4``."""
    who = borrower(factory)
    card = bind(factory, channel, who, card_number(last4))
    loan_id = new_loan(**loan)
    with factory() as s, s.begin():
        row = s.get(LoanRow, loan_id)
        assert row is not None
        row.borrower_id = who
    return who, card, loan_id


def journal_count(factory: sessionmaker[Session]) -> int:
    with factory() as s:
        return int(s.execute(select(func.count()).select_from(JournalEntryRow)).scalar_one())


def repayments(factory: sessionmaker[Session]) -> int:
    with factory() as s:
        query = select(func.count()).where(JournalEntryRow.event == "repayment")
        return int(s.execute(query).scalar_one())


def standard_loan(
    factory: sessionmaker[Session], borrower_id: int, term: int = 3, principal: int = 10_000
) -> int:
    """``principal`` CNY at 15 % from 2026-01-10, disbursed, the borrower's (first due 2026-02-10)."""
    from datetime import date
    from decimal import Decimal

    from xiaodai.pricing.caps import default_cap_book
    from xiaodai.pricing.schedule import LoanTerms, Method
    from xiaodai.servicing import service as servicing

    terms = LoanTerms(
        principal=Decimal(principal),
        term=term,
        method=Method.EQUAL_INSTALLMENT,
        annual_rate=Decimal("0.15"),
        start_on=date(2026, 1, 10),
    )
    with factory() as s, s.begin():
        loan = servicing.create_loan(
            s,
            terms=terms,
            product="standard",
            config=servicing.ServicingConfig(),
            cap_book=default_cap_book(),
        )
        loan.borrower_id = borrower_id
        loan_id = loan.id
    with factory() as s, s.begin():
        servicing.disburse(s, loan_id=loan_id, on=date(2026, 1, 10), idempotency_key=f"disburse-{loan_id}")
    return loan_id
