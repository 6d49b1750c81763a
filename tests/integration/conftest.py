"""Builders shared by the integration tests: loans, the in-process CLI, and an empty database per backend
for the migration tests."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from support.databases import admin, pg_url
from xiaodai.cli import shell
from xiaodai.cli.main import app
from xiaodai.pricing.caps import default_cap_book
from xiaodai.pricing.fees import FeeSchedule
from xiaodai.pricing.schedule import LoanTerms, Method
from xiaodai.servicing import service

BOOK = default_cap_book()


def make_loan(
    factory: sessionmaker[Session],
    *,
    principal: str = "10000",
    term: int = 12,
    rate: str = "0.15",
    start: date = date(2026, 1, 10),
    method: Method = Method.EQUAL_INSTALLMENT,
    upfront: str = "0",
    penalty: str = "0.12",
    disburse: bool = True,
    cap: str | None = "cn-consumer-24",
    flat_fee_rate: str = "0",
) -> int:
    terms = LoanTerms(
        principal=Decimal(principal),
        term=term,
        method=method,
        annual_rate=Decimal(rate),
        start_on=start,
        fees=FeeSchedule(upfront=Decimal(upfront), monthly_rate_on_principal=Decimal(flat_fee_rate)),
    )
    config = service.ServicingConfig(penalty_annual_rate=Decimal(penalty), cap_profile=cap)
    with factory() as session, session.begin():
        loan_id = service.create_loan(
            session, terms=terms, product="standard", config=config, cap_book=BOOK
        ).id
    if disburse:
        with factory() as session, session.begin():
            service.disburse(session, loan_id=loan_id, on=start, idempotency_key=f"disburse-{loan_id}")
    return loan_id


@pytest.fixture
def new_loan(factory: sessionmaker[Session]) -> Callable[..., int]:
    def build(**kwargs: Any) -> int:
        return make_loan(factory, **kwargs)

    return build


@pytest.fixture
def cli(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Run ``xiaodai …`` in-process on this test's database: asserts the exit code; with ``--json`` and exit 0
    returns the parsed output, else the click result (stdout/stderr)."""
    monkeypatch.setenv("XIAODAI_DATABASE_URL", db_url)
    shell._ENGINE = None

    def invoke(*args: str, code: int = 0) -> Any:
        result = CliRunner().invoke(app, list(args))
        assert result.exit_code == code, (result.stdout, result.stderr)
        return json.loads(result.stdout) if "--json" in args and code == 0 else result

    yield invoke
    if shell._ENGINE is not None:
        shell._ENGINE.dispose()
    shell._ENGINE = None


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_url(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[str]:
    """A database with no tables, on each backend (a migration test upgrades and downgrades it)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'm.db'}"
        return
    name = f"xiaodai_m_{uuid.uuid4().hex[:10]}"
    admin(f'CREATE DATABASE "{name}"')
    try:
        yield pg_url(name)
    finally:
        admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
