"""Database -> Parquet panel export, on SQLite and PostgreSQL, and the report read from the database."""

from __future__ import annotations

from datetime import date

import polars as pl
from sqlalchemy import select

from xiaodai.db.tables.loans import InstallmentRow
from xiaodai.risk.export import export_panel
from xiaodai.servicing import service


def _pay_all(factory, loan_id):
    with factory() as session:
        rows = session.execute(
            select(
                InstallmentRow.period,
                InstallmentRow.due_on,
                InstallmentRow.principal_fen,
                InstallmentRow.interest_fen,
                InstallmentRow.fee_fen,
            )
            .where(InstallmentRow.loan_id == loan_id)
            .order_by(InstallmentRow.period)
        ).all()
    for period, due_on, principal, interest, fee in rows:
        with factory() as session, session.begin():
            service.repay(
                session,
                loan_id=loan_id,
                amount_fen=principal + interest + fee,
                on=due_on,
                idempotency_key=f"pay-{loan_id}-{period}",
            )


def test_export_builds_month_end_delinquency(engine, factory, new_loan, tmp_path):
    paying = new_loan(principal="3000", term=3, rate="0.12", start=date(2026, 1, 10))
    silent = new_loan(principal="3000", term=3, rate="0.12", start=date(2026, 1, 10))
    _pay_all(factory, paying)
    result = export_panel(engine, tmp_path, as_of=date(2026, 6, 15), chunk=1)
    assert result["loans"] == 2
    assert result["files"] == 2  # one per loan-id range of size 1
    panel = pl.read_parquet(tmp_path / "*.parquet").sort("loan_id", "month")
    paid = panel.filter(pl.col("loan_id") == paying)
    assert paid["dpd"].to_list() == [0, 0, 0]
    assert paid["status"].to_list() == ["active", "active", "closed"]
    assert paid["balance_fen"].to_list()[-1] == 0
    late = panel.filter(pl.col("loan_id") == silent)
    # oldest unpaid instalment due 2026-02-10: 18, 49, 79, 110, 140 days at the month ends Feb..Jun
    assert late["dpd"].to_list() == [18, 49, 79, 110, 140]
    assert late["bucket"].to_list() == ["M1", "M2", "M3", "M4+", "M4+"]
    assert late["default_flag"].to_list() == [False, False, False, True, False]
    assert late["status"].to_list() == ["active", "active", "active", "defaulted", "defaulted"]
    assert late["balance_fen"].to_list() == [300_000] * 5
    assert late["mob"].to_list() == [1, 2, 3, 4, 5]
    # booked by servicing directly: no application, no decision record
    assert set(panel["grade"]) == {"unrated"}
    assert set(panel["channel"]) == {"unknown"}
    assert set(panel["region"]) == {"unknown"}
    assert panel["predicted_pd"].null_count() == panel.height


def test_report_from_the_database(cli, factory, new_loan):
    new_loan(principal="3000", term=3, rate="0.12", start=date(2026, 1, 10))
    out = cli("risk", "report", "--as-of", "2026-06-30", "--format", "json")
    import json

    payload = json.loads(out.stdout)
    assert payload["source"] == "database"
    assert set(payload["ecl"]) >= {"stage1", "stage2", "stage3", "total"}
    assert payload["ecl"]["stage3"] != "0.00"  # the unpaid loan is in default by May


def test_export_of_an_empty_database(engine, tmp_path):
    result = export_panel(engine, tmp_path / "p", as_of=date(2026, 6, 30))
    assert result["rows"] == 0
    assert pl.read_parquet(tmp_path / "p" / "*.parquet").height == 0


def test_report_on_an_empty_database_is_all_zeros(cli):
    import json

    payload = json.loads(cli("risk", "report", "--as-of", "2026-06-30").stdout)
    assert payload["ecl"]["total"] == "0.00"
    assert payload["vintages"] == []


def test_export_command(cli, new_loan, tmp_path):
    import json

    new_loan(principal="3000", term=3, rate="0.12", start=date(2026, 1, 10))
    out = cli("risk", "export", "--out", str(tmp_path / "panel"), "--as-of", "2026-03-31")
    result = json.loads(out.stdout)
    assert result["loans"] == 1
    assert result["rows"] == 2  # February and March month ends
    assert (
        "--chunk"
        in cli(
            "risk", "export", "--out", str(tmp_path), "--as-of", "2026-03-31", "--chunk", "0", code=2
        ).stderr
    )
    assert "--as-of" in cli("risk", "export", "--out", str(tmp_path), "--as-of", "March", code=2).stderr
