"""The database export carries each loan's grade, PD and channel from its application and decision record,
so a report from the database shows concentration by grade and channel and a backtest. Both DBs."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from support.journey import apply_body, borrower, signed_loan
from xiaodai.accounts.service import sign_up
from xiaodai.cli import shell
from xiaodai.cli.main import app as cli_app
from xiaodai.db.tables.journey import ApplicationRow
from xiaodai.db.tables.underwriting import DecisionRow
from xiaodai.journey import service as journey
from xiaodai.risk.export import export_panel

TODAY = date(2026, 1, 10)  # the API fixture's business date (tests/api/conftest.py)


def _api_loan(client: TestClient, email: str, **body: object) -> int:
    return signed_loan(client, borrower(client, email), key=email, **body)


def _web_loan(client: TestClient, email: str) -> int:
    """Through the journey service with its default channel, as the borrower pages call it."""
    factory = client.app.state.session_factory  # type: ignore[attr-defined]
    with factory() as s, s.begin():
        user = sign_up(s, email=email, name="李四", password="correct horse 1", kind="borrower")
        body = apply_body()
        body.pop("consent_credit_check")
        submitted = journey.submit_application(
            s, user=user, payload=body, idempotency_key="w", credit_check_consent=True, today=TODAY
        )
        assert submitted["outcome"] == "approve", submitted
        public_id = submitted["application_id"]
        request = journey.OfferRequest()
        shown = journey.offer_kfs(s, user=user, public_id=public_id, request=request, today=TODAY)
        signed = journey.sign_offer(
            s,
            user=user,
            public_id=public_id,
            request=request,
            seen_sha256=shown["sha256"],
            ip="127.0.0.1",
            lang="zh",
            today=TODAY,
        )
    return int(signed["loan_id"])


def test_export_and_report_carry_grade_pd_and_channel(
    client: TestClient, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    api_loans = [
        _api_loan(client, "rich@example.com"),
        _api_loan(
            client,
            "stretched@example.com",
            applicant={
                **apply_body()["applicant"],
                "monthly_income": "6000",
                "monthly_debt_payments": "1500",
            },
        ),
    ]
    web_loan = _web_loan(client, "web@example.com")
    factory = client.app.state.session_factory  # type: ignore[attr-defined]
    with factory() as s:
        decided = {
            int(loan_id): (grade, pd)
            for loan_id, grade, pd in s.execute(
                select(ApplicationRow.loan_id, DecisionRow.grade, DecisionRow.pd).join(
                    DecisionRow, DecisionRow.id == ApplicationRow.decision_id
                )
            )
            if loan_id is not None
        }
    assert set(decided) == {*api_loans, web_loan}
    assert all(grade and pd is not None for grade, pd in decided.values())

    result = export_panel(client.app.state.engine, tmp_path / "panel", as_of=TODAY.replace(month=6, day=30))  # type: ignore[attr-defined]
    assert result["loans"] == 3
    panel = pl.read_parquet(tmp_path / "panel" / "*.parquet")
    loans = panel.group_by("loan_id").agg(pl.first("grade", "predicted_pd", "channel", "region", "product"))
    for row in loans.iter_rows(named=True):
        grade, pd = decided[row["loan_id"]]
        assert row["grade"] == grade
        assert row["predicted_pd"] == pytest.approx(pd)
        assert row["channel"] == ("web" if row["loan_id"] == web_loan else "api")
        assert row["region"] == "unknown"  # the address is ciphertext: the export reads no personal data

    monkeypatch.setenv("XIAODAI_DATABASE_URL", db_url)
    shell._ENGINE = None
    try:
        out = CliRunner().invoke(cli_app, ["risk", "report", "--as-of", "2026-06-30", "--format", "json"])
    finally:
        if shell._ENGINE is not None:
            shell._ENGINE.dispose()
        shell._ENGINE = None
    assert out.exit_code == 0, out.stderr
    payload = json.loads(out.stdout)
    table = payload["concentration"]["table"]
    by = {(r["dimension"], r["value"]): r["loans"] for r in table}
    assert by[("channel", "api")] == 2
    assert by[("channel", "web")] == 1
    assert by[("region", "unknown")] == 3
    grades = {grade for grade, _ in decided.values()}
    assert {v for d, v in by if d == "grade"} == grades
    assert sum(n for (d, _), n in by.items() if d == "grade") == 3
    backtest = payload["backtest"]
    assert {r["grade"] for r in backtest} == grades
    assert all(r["predicted"] is not None and r["complete"] is False for r in backtest)
    expected = {
        g: sum(pd for gg, pd in decided.values() if gg == g) / sum(1 for gg, _ in decided.values() if gg == g)
        for g in grades
    }
    for r in backtest:
        assert float(r["predicted"]) == pytest.approx(expected[r["grade"]], abs=1e-6)
