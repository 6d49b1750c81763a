"""No hidden fees, enforced: random charge attempts against a signed disclosure snapshot. Nothing outside
the snapshot is ever posted; refusals post nothing and are audited — on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from xiaodai.db.tables import AuditEventRow, DisclosureRow, InstallmentRow, JournalEntryRow, PostingRow
from xiaodai.journey.charges import post_charge
from xiaodai.ledger import service as ledger
from xiaodai.pricing.caps import default_cap_book
from xiaodai.pricing.disclosure import DisclosureTerms, build_kfs, snapshot
from xiaodai.pricing.fees import FeeSchedule
from xiaodai.pricing.quote import build_quote
from xiaodai.pricing.schedule import LoanTerms, Method
from xiaodai.servicing import service

START = date(2026, 1, 10)
TYPES = [
    "monthly_fee",
    "upfront_fee",
    "late_fee",
    "service_fee",
    "insurance",
    "interest",
    "principal",
    "penalty",
    "instalment_fee",
    "",
]


def signed_loan(factory: sessionmaker[Session]) -> int:
    book = default_cap_book()
    terms = LoanTerms(
        principal=Decimal("6000"),
        term=6,
        method=Method.EQUAL_INSTALLMENT,
        annual_rate=Decimal("0.12"),
        start_on=START,
        fees=FeeSchedule(monthly_fixed=Decimal("15")),
    )
    quote = build_quote(terms, cap=book.profile("cn-consumer-24"), cap_book=book)
    frozen = snapshot(
        build_kfs(
            quote, DisclosureTerms(penalty_annual_rate=Decimal("0.06"), penalty_reason="PENALTY_AS_DISCLOSED")
        )
    )
    with factory() as s, s.begin():
        from xiaodai.accounts.service import sign_up

        user = sign_up(
            s, email=f"fees-{uuid.uuid4().hex[:8]}@example.com", name="王五", password="correct horse 1"
        )
        loan = service.create_loan(
            s, terms=terms, product="standard", config=service.ServicingConfig(), cap_book=book
        )
        s.add(
            DisclosureRow(
                loan_id=loan.id,
                user_id=user.id,
                canonical_json=frozen.canonical,
                sha256=frozen.sha256,
                lang="zh",
                signed_at=datetime.now(tz=UTC),
                signed_ip="127.0.0.1",
            )
        )
        loan_id = loan.id
    with factory() as s, s.begin():
        service.disburse(s, loan_id=loan_id, on=START, idempotency_key=f"d-{loan_id}")
    return loan_id


def counts(factory: sessionmaker[Session]) -> tuple[int, int]:
    with factory() as s:
        return (
            s.execute(select(func.count()).select_from(JournalEntryRow)).scalar_one(),
            s.execute(select(func.count()).select_from(AuditEventRow)).scalar_one(),
        )


ATTEMPTS = st.lists(
    st.tuples(st.sampled_from(TYPES), st.integers(1, 3_000), st.one_of(st.none(), st.integers(0, 8))),
    min_size=10,
    max_size=60,
)


@settings(max_examples=6, deadline=None, suppress_health_check=list(HealthCheck), derandomize=False)
@given(attempts=ATTEMPTS)
def test_random_charges_never_exceed_the_snapshot(
    factory: sessionmaker[Session], engine: object, attempts: list[tuple[str, int, int | None]]
) -> None:
    loan_id = signed_loan(factory)
    prefix = uuid.uuid4().hex[:8]
    for n, (kind, fen, period) in enumerate(attempts):
        before_entries, before_audit = counts(factory)
        with factory() as s, s.begin():
            result = post_charge(
                s,
                loan_id=loan_id,
                charge_type=kind,
                amount_fen=fen,
                on=date(2026, 3, 12),
                idempotency_key=f"{prefix}-{n}",
                period=period,
                actor="test",
            )
        after_entries, after_audit = counts(factory)
        assert after_audit == before_audit + 1  # every attempt is audited
        if result["posted"]:
            assert kind == "monthly_fee"
            assert result["clause"] == "F2"
            assert period is not None
            assert after_entries == before_entries + 1
        else:
            assert after_entries == before_entries, result
    with factory() as s, s.begin():  # bill every instalment as end of day would
        from xiaodai.servicing.billing import bill_through
        from xiaodai.servicing.loans import installments, lock_loan

        loan = lock_loan(s, loan_id)
        bill_through(s, loan, installments(s, loan_id), date(2026, 7, 12))
    with factory() as s:
        assert ledger.check(s) == []
        fee_income = -int(
            s.execute(
                select(func.sum(PostingRow.amount_fen)).where(
                    PostingRow.loan_id == loan_id, PostingRow.account == "income:fees"
                )
            ).scalar_one()
            or 0
        )
        for period in range(1, 7):
            scheduled = s.execute(
                select(InstallmentRow.fee_fen).where(
                    InstallmentRow.loan_id == loan_id, InstallmentRow.period == period
                )
            ).scalar_one()
            manual = sum(
                int(Decimal(json.loads(m)["amount"]) * 100)
                for (m,) in s.execute(
                    select(JournalEntryRow.memo).where(
                        JournalEntryRow.loan_id == loan_id, JournalEntryRow.event == "charge"
                    )
                ).all()
                if json.loads(m)["period"] == period
            )
            assert scheduled + manual <= 1_500, period  # never more than the disclosed 15.00 per instalment
    assert fee_income <= 6 * 1_500
