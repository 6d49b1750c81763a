"""Hypothesis stateful test: random disbursements, payments (early, late, partial, over), prepayments,
end-of-day runs, retries and reversals on many loans. After every step the journal nets to zero, stored
balances equal the ones derived from the journal, nothing goes negative, and no borrower has paid more
than the disclosed schedule plus the penalties actually charged."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import select

from support.databases import new_pg_copy
from xiaodai.db.session import make_engine, session_factory
from xiaodai.db.tables import LoanRow
from xiaodai.ledger import service as ledger
from xiaodai.pricing.caps import default_cap_book
from xiaodai.pricing.schedule import LoanTerms, Method
from xiaodai.servicing import service
from xiaodai.servicing.eod import run_eod
from xiaodai.servicing.errors import ServicingError
from xiaodai.servicing.lifecycle import IllegalTransitionError
from xiaodai.servicing.prepayment import PrepayMode

BOOK = default_cap_book()
START = date(2026, 1, 10)
# Each example is up to 25 steps, end-of-day catch-ups of up to 45 days among them (~0.15 s of CPU a day):
# the same counts locally and on CI (CI=1 ran 40/15: 270 s on SQLite, the suite's longest test on 2 cores);
# the "thorough" Hypothesis profile (tests/conftest.py) runs four times as many.
_SCALE = 4 if settings.default.max_examples > 100 else 1
EXAMPLES = {"sqlite": 25 * _SCALE, "postgresql": 10 * _SCALE}


class LedgerMachine(RuleBasedStateMachine):
    loans = Bundle("loans")

    def __init__(self, new_url: Callable[[], tuple[str, Callable[[], None]]]) -> None:
        super().__init__()
        url, self._drop = new_url()
        self.engine = make_engine(url)
        self.factory = session_factory(self.engine)
        self.today = START
        self.keys: list[tuple[str, Callable[[str], dict[str, object]]]] = []
        self.counter = 0

    def teardown(self) -> None:
        self.engine.dispose()
        self._drop()

    def _key(self) -> str:
        self.counter += 1
        return f"k{self.counter}"

    def _run(self, key: str, action: Callable[[str], dict[str, object]]) -> None:
        try:
            action(key)
        except (ServicingError, IllegalTransitionError):
            return
        self.keys.append((key, action))

    @initialize(target=loans)
    def first_loan(self) -> int:
        return self._create(Decimal("10000"), 12, Decimal("0.15"), Method.EQUAL_INSTALLMENT)

    def _create(self, principal: Decimal, term: int, rate: Decimal, method: Method) -> int:
        terms = LoanTerms(principal=principal, term=term, method=method, annual_rate=rate, start_on=START)
        with self.factory() as s, s.begin():
            loan_id = service.create_loan(
                s, terms=terms, product="standard", config=service.ServicingConfig(), cap_book=BOOK
            ).id
        with self.factory() as s, s.begin():
            service.disburse(s, loan_id=loan_id, on=START, idempotency_key=f"d{loan_id}")
        return loan_id

    @rule(
        target=loans,
        principal=st.integers(500, 30000),
        term=st.integers(3, 24),
        rate=st.integers(0, 2000),
        method=st.sampled_from(
            [Method.EQUAL_INSTALLMENT, Method.EQUAL_PRINCIPAL, Method.INTEREST_FIRST, Method.BULLET]
        ),
    )
    def create(self, principal: int, term: int, rate: int, method: Method) -> int:
        return self._create(Decimal(principal), term, Decimal(rate) / 10_000, method)

    @rule(days=st.integers(1, 45))
    def end_of_day(self, days: int) -> None:
        self.today += timedelta(days=days)
        run_eod(self.engine, self.today)

    @rule(loan=loans, fen=st.integers(1, 400_000))
    def pay(self, loan: int, fen: int) -> None:
        on = self.today

        def action(key: str) -> dict[str, object]:
            with self.factory() as s, s.begin():
                return service.repay(s, loan_id=loan, amount_fen=fen, on=on, idempotency_key=key)

        self._run(self._key(), action)

    @rule(loan=loans)
    def prepay_in_full(self, loan: int) -> None:
        on = self.today

        def action(key: str) -> dict[str, object]:
            with self.factory() as s, s.begin():
                return service.prepay(s, loan_id=loan, on=on, idempotency_key=key)

        self._run(self._key(), action)

    @rule(loan=loans, fen=st.integers(1, 1_000_000), lower=st.booleans())
    def prepay_partly(self, loan: int, fen: int, lower: bool) -> None:
        on = self.today
        mode = PrepayMode.LOWER_INSTALMENT if lower else PrepayMode.SHORTEN_TERM

        def action(key: str) -> dict[str, object]:
            with self.factory() as s, s.begin():
                return service.prepay(s, loan_id=loan, on=on, idempotency_key=key, amount_fen=fen, mode=mode)

        self._run(self._key(), action)

    @rule(data=st.data())
    def retry_a_command(self, data: st.DataObject) -> None:
        if not self.keys:
            return
        key, action = data.draw(st.sampled_from(self.keys))
        with self.factory() as s:
            before = ledger.trial_balance(s)
        result = action(key)
        assert result["replayed"] is True
        with self.factory() as s:
            assert ledger.trial_balance(s) == before

    @rule(data=st.data())
    def reverse_a_payment(self, data: st.DataObject) -> None:
        from xiaodai.db.tables import JournalEntryRow

        with self.factory() as s:
            ids = (
                s.execute(select(JournalEntryRow.id).where(JournalEntryRow.event == "repayment"))
                .scalars()
                .all()
            )
        if not ids:
            return
        entry_id = data.draw(st.sampled_from(sorted(ids)))
        on = self.today

        def action(key: str) -> dict[str, object]:
            with self.factory() as s, s.begin():
                return service.reverse(s, entry_id=entry_id, on=on, idempotency_key=key)

        self._run(self._key(), action)

    @invariant()
    def books_balance(self) -> None:
        with self.factory() as s:
            assert ledger.check(s) == []
            for loan in s.execute(select(LoanRow)).scalars():
                assert loan.overpayment_fen >= 0
                assert loan.paid_total_fen - loan.overpayment_fen <= (
                    loan.disclosed_repayment_fen + loan.penalties_charged_fen
                ), loan.id


def _new_sqlite(template: str, folder: Path) -> Callable[[], tuple[str, Callable[[], None]]]:
    def make() -> tuple[str, Callable[[], None]]:
        target = folder / f"{uuid.uuid4().hex}.db"
        shutil.copy(template, target)
        return f"sqlite:///{target}", lambda: target.unlink(missing_ok=True)

    return make


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_random_servicing_keeps_the_books(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    if backend == "sqlite":
        new_url = _new_sqlite(request.getfixturevalue("sqlite_template"), tmp_path)
    else:
        template = request.getfixturevalue("pg_template")

        def new_url() -> tuple[str, Callable[[], None]]:
            return new_pg_copy(template)

    run_state_machine_as_test(
        lambda: LedgerMachine(new_url),
        settings=settings(
            max_examples=EXAMPLES[backend],
            stateful_step_count=25,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
