"""Reminder run benchmark on PostgreSQL: ``notify.service.run_reminders`` for a day with ``--n`` instalments
due in three days (a T−3 reminder each: app inbox + SMS, every channel judged by the contact-policy engine
and the daily cap, written to the outbox and sent by the simulated sender), against the anchor of the same
judgements made in memory only (the engine's ``evaluate`` and the policy's ``decide`` on the same texts).

    PYTHONPATH=src .venv/bin/python benchmarks/bench_reminders.py --n 1000

The book: ``--n`` borrowers with one 3-month loan each from 2026-01-10 (first due 2026-02-10), built through
the services on a fresh migrated database. The ratio says what the shell costs per notice above the pure
decisions (reading the case and complaints, counting the day's messages, writing rows, sending).
"""

from __future__ import annotations

import argparse
import time
import uuid
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import psycopg

from xiaodai.collections.contact_facts import Attempt, ContactCase, Phone
from xiaodai.collections.contact_policy import evaluate, load_profile
from xiaodai.db.migrate import upgrade
from xiaodai.db.session import make_engine, session_factory
from xiaodai.db.tables import LoanRow, UserRow
from xiaodai.notify import service
from xiaodai.notify.reminder_policy import Category, ChannelPlan, decide, default_policy
from xiaodai.notify.senders import SimulatedSender
from xiaodai.pricing.caps import default_cap_book
from xiaodai.pricing.schedule import LoanTerms, Method
from xiaodai.servicing import service as servicing

ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
DAY = date(2026, 2, 7)  # T−3 of 2026-02-10
AT = datetime(2026, 2, 7, 10, tzinfo=ZoneInfo("Asia/Shanghai"))


def admin(sql: str) -> None:
    with psycopg.connect(ADMIN, autocommit=True) as conn:
        conn.execute(sql)


def build(url: str, n: int) -> None:
    factory = session_factory(make_engine(url))
    terms = LoanTerms(
        principal=Decimal(10000), term=3, method=Method.EQUAL_INSTALLMENT, annual_rate=Decimal("0.15"),
        start_on=date(2026, 1, 10),
    )  # fmt: skip
    config = servicing.ServicingConfig(penalty_annual_rate=Decimal("0.12"), cap_profile="cn-consumer-24")
    book = default_cap_book()
    for i in range(n):
        with factory() as s, s.begin():
            user = UserRow(kind="borrower", email=f"r{i}@bench.example", password_hash="x")
            s.add(user)
            s.flush()
            loan = servicing.create_loan(s, terms=terms, product="standard", config=config, cap_book=book)
            servicing.disburse(s, loan_id=loan.id, on=terms.start_on, idempotency_key=f"d{i}")
            row = s.get(LoanRow, loan.id)
            assert row is not None
            row.borrower_id = user.id


def anchor(n: int) -> float:
    """The same 2n judgements in memory: engine verdict + our cap, on the rendered texts."""
    policy = default_policy()
    profile = load_profile(policy.contact_profile)
    rule = policy.kind("pre_due")
    case = ContactCase(timezone=policy.timezone, phones=(Phone("M1", "mobile", owner="borrower"),))
    started = time.perf_counter()
    for i in range(n):
        body = policy.render(rule, "zh", {"loan_id": i, "amount": "3391.11", "due_date": "2026-02-10"})
        for channel in ("app_inbox", "sms"):
            attempt = Attempt("contact", channel, phone_id="M1", message=body, purpose=rule.purpose)
            verdict = evaluate(profile, case, (), attempt, AT)
            decide(
                verdict.decision, verdict.reason, verdict.reasons, verdict.rule_version, policy=policy,
                category=Category.SERVICING, channel=ChannelPlan(channel), allowed_today=0,
            )  # fmt: skip
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=1000)
    args = parser.parse_args()
    name = f"xiaodai_bench_rem_{uuid.uuid4().hex[:8]}"
    admin(f'CREATE DATABASE "{name}"')
    url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    try:
        upgrade(url)
        t0 = time.perf_counter()
        build(url, args.n)
        print(f"book: {args.n} loans built in {time.perf_counter() - t0:.1f} s")
        memory = anchor(args.n)
        engine = make_engine(url)
        sender = SimulatedSender()
        started = time.perf_counter()
        with session_factory(engine)() as s, s.begin():
            result = service.run_reminders(s, day=DAY, as_of=AT, sender=sender)
        shell = time.perf_counter() - started
        with session_factory(engine)() as s, s.begin():
            rerun = service.run_reminders(s, day=DAY, as_of=AT, sender=sender)
        engine.dispose()
        assert result["notices_created"] == args.n
        assert result["sent"] == 2 * args.n
        assert (rerun["notices_created"], rerun["sent"]) == (0, 0)
        print(f"anchor (engine + cap in memory, {2 * args.n} decisions): {memory:.2f} s")
        print(
            f"run_reminders ({args.n} notices, {result['sent']} sent): {shell:.2f} s "
            f"({args.n / shell:.0f} notices/s), {shell / memory:.1f}x the anchor; re-run sends 0"
        )
    finally:
        admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
