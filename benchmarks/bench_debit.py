"""Auto-debit batch benchmark on PostgreSQL: ``payments.service.run_debits`` (one transaction for the day)
against a per-row ORM loop (one transaction per instalment, rows loaded through the ORM) on the same book.

    PYTHONPATH=src .venv/bin/python benchmarks/bench_debit.py --n 300

The book: ``--n`` borrowers, each with a bound default card (sandbox channel, seed 7) and a 3-month loan of
10,000 CNY from 2026-01-10, so ``--n`` instalments are due on 2026-02-10. It is built once through the
services on a fresh migrated database, then copied (``CREATE DATABASE … TEMPLATE``) for each variant, so both
start from the same rows. The sandbox's outcomes depend on (seed, card, reference) only, so both variants
see the same successes, partials, failures and timeouts. Reported: wall time per variant, debits per second,
and ``ledger check`` afterwards. Note: ``run_debits`` still books each debit through ``servicing.repay``
(one loan at a time); it is not a set-based kernel, and the issue's 1,000,000-instalment goal is not
measured here.
"""

from __future__ import annotations

import argparse
import time
import uuid
from datetime import date
from typing import Any

import psycopg
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from xiaodai.db.migrate import upgrade
from xiaodai.db.session import make_engine, session_factory
from xiaodai.db.tables import InstallmentRow, LoanRow, UserRow
from xiaodai.db.tables.payments import DebitAttemptRow, PaymentCardRow
from xiaodai.ledger import service as ledger
from xiaodai.payments import service
from xiaodai.payments.card import luhn_check_digit
from xiaodai.payments.channel import DebitRequest
from xiaodai.payments.debit_policy import default_policy
from xiaodai.payments.sandbox_channel import SandboxChannel
from xiaodai.privacy.crypto import aad, decrypt
from xiaodai.privacy.keys import current_ring
from xiaodai.servicing import service as servicing

ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
DUE = date(2026, 2, 10)
SEED = 7


def url(name: str) -> str:
    return f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"


def admin(sql: str) -> None:
    with psycopg.connect(ADMIN, autocommit=True) as conn:
        conn.execute(sql)  # type: ignore[arg-type]


def number(i: int) -> str:
    body = f"622202{i:09d}"
    return body + luhn_check_digit(body)


def seed_book(factory: sessionmaker[Session], n: int) -> None:
    from decimal import Decimal

    from xiaodai.pricing.caps import default_cap_book
    from xiaodai.pricing.schedule import LoanTerms, Method

    channel, ring, book = SandboxChannel(seed=SEED), current_ring(), default_cap_book()
    terms = LoanTerms(
        principal=Decimal(10_000),
        term=3,
        method=Method.EQUAL_INSTALLMENT,
        annual_rate=Decimal("0.15"),
        start_on=date(2026, 1, 10),
    )
    for i in range(n):
        with factory() as s, s.begin():
            user = UserRow(kind="borrower", email=f"bench{i}@example.com", password_hash="x")
            s.add(user)
            s.flush()
            started = service.start_binding(
                s, channel=channel, ring=ring, borrower_id=user.id, number=number(i)
            )
            service.confirm_binding(
                s, channel=channel, card_id=started["card_id"], code=channel.code_for(started["verify_ref"])
            )
            loan = servicing.create_loan(
                s, terms=terms, product="standard", config=servicing.ServicingConfig(), cap_book=book
            )
            loan.borrower_id = user.id
            loan_id = loan.id
        with factory() as s, s.begin():
            servicing.disburse(s, loan_id=loan_id, on=terms.start_on, idempotency_key=f"disburse-{loan_id}")


def batch(factory: sessionmaker[Session]) -> int:
    with factory() as s, s.begin():
        result = service.run_debits(
            s, channel=SandboxChannel(seed=SEED), ring=current_ring(), on=DUE, policy=default_policy()
        )
    return len(result["debits"])


def per_row(factory: sessionmaker[Session], limit: int | None = None) -> int:
    """The naive loop: list the due instalments (the first ``limit``), then one ORM unit of work per
    instalment."""
    channel, ring = SandboxChannel(seed=SEED), current_ring()
    with factory() as s:
        query = select(InstallmentRow.id).where(InstallmentRow.due_on == DUE).order_by(InstallmentRow.id)
        ids = list(s.execute(query.limit(limit)).scalars())
    done = 0
    for inst_id in ids:
        with factory() as s, s.begin():
            inst = s.get(InstallmentRow, inst_id)
            assert inst is not None
            loan = s.get(LoanRow, inst.loan_id)
            assert loan is not None
            card = s.execute(
                select(PaymentCardRow).where(
                    PaymentCardRow.borrower_id == loan.borrower_id, PaymentCardRow.is_default
                )
            ).scalar_one()
            amount = inst.principal_fen + inst.interest_fen + inst.fee_fen
            ref = service.channel_ref(inst.id, 0)
            row = DebitAttemptRow(
                channel_ref=ref,
                loan_id=loan.id,
                installment_id=inst.id,
                attempt=0,
                card_id=card.id,
                business_date=DUE,
                amount_fen=amount,
                settled_fen=0,
                posted_fen=0,
                status="pending",
            )
            s.add(row)
            s.flush()
            plain = decrypt(ring, card.number_enc, aad("payment_cards", card.borrower_id, "number"))
            answer = channel.debit(DebitRequest(ref, plain, amount, DUE))
            row.status, row.settled_fen = answer.status.value, answer.settled_fen
            if answer.status.moved_money:
                result = servicing.repay(
                    s, loan_id=loan.id, amount_fen=answer.settled_fen, on=DUE, idempotency_key=ref
                )
                row.posted_fen, row.entry_id = answer.settled_fen, int(result["entry_id"])
        done += 1
    return done


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=300, help="due instalments (one loan and card each)")
    args = parser.parse_args()
    template = f"bench_debit_{uuid.uuid4().hex[:8]}"
    admin(f'CREATE DATABASE "{template}"')
    made = [template]
    try:
        upgrade(url(template))
        engine = make_engine(url(template))
        start = time.perf_counter()
        seed_book(session_factory(engine), args.n)
        engine.dispose()
        print(f"book: {args.n} loans with a default card, seeded in {time.perf_counter() - start:.1f} s")
        results: dict[str, Any] = {}
        for name, variant in (("batch run_debits", batch), ("per-row ORM loop", per_row)):
            copy = f"{template}_{len(made)}"
            admin(f'CREATE DATABASE "{copy}" TEMPLATE "{template}"')
            made.append(copy)
            engine = make_engine(url(copy))
            factory = session_factory(engine)
            start = time.perf_counter()
            count = variant(factory)
            seconds = time.perf_counter() - start
            with factory() as s:
                problems = ledger.check(s)
            engine.dispose()
            results[name] = seconds
            print(
                f"{name:18s} {count:6d} debits in {seconds:7.2f} s = {count / seconds:8.1f} debits/s; "
                f"ledger check: {'clean' if not problems else problems[:3]}"
            )
        print(f"per-row / batch: {results['per-row ORM loop'] / results['batch run_debits']:.2f}x")
    finally:
        for name in reversed(made):
            admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
