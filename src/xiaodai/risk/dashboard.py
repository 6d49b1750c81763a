"""The staff risk dashboard's data, from the database: the risk report's tables for the book as of a date,
approvals and approval rate by month (credit decisions), and this month's complaint KPIs beside them.

Shell: it reads through the request's session (its one transaction), exports the loans to a temporary
Parquet panel and runs the local engine.
"""

from __future__ import annotations

import tempfile
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

import polars as pl
from sqlalchemy import select
from sqlalchemy.orm import Session

from xiaodai.db.tables.underwriting import DecisionRow
from xiaodai.risk.engines.local import LocalEngine, scan_panel
from xiaodai.risk.export import export_panel
from xiaodai.risk.report import ReportOptions, ReportTables, build_tables, csv_tables, to_json
from xiaodai.risk.stress import default_scenarios

TABLES = (
    "book",
    "approvals",
    "vintages",
    "roll_rates",
    "flow_rates",
    "ecl",
    "stress",
    "concentration",
    "early_warning",
    "backtest",
    "growth_quality",
)


def tables(session: Session, *, as_of: date) -> ReportTables:
    with tempfile.TemporaryDirectory(prefix="xiaodai-risk-web-") as tmp:
        export_panel(session.connection(), Path(tmp), as_of=as_of)
        panel = scan_panel(Path(tmp)).collect().lazy()  # read before the directory goes
        return build_tables(LocalEngine(panel), ReportOptions(as_of=as_of, scenarios=default_scenarios()))


def approvals(session: Session, *, as_of: date) -> pl.DataFrame:
    """Per month of decision: decisions, approvals, approval rate (decisions up to the end of ``as_of``)."""
    until = datetime.combine(as_of, time.max, tzinfo=UTC)
    rows = session.execute(select(DecisionRow.decided_at, DecisionRow.outcome)).all()
    frame = pl.DataFrame(
        [(r[0].date() if r[0] else None, r[1]) for r in rows if r[0] is None or _aware(r[0]) <= until],
        schema={"decided_on": pl.Date, "outcome": pl.String},
        orient="row",
    )
    return (
        frame.drop_nulls("decided_on")
        .group_by(pl.col("decided_on").dt.month_start().alias("month"))
        .agg(pl.len().alias("decisions"), (pl.col("outcome") == "approve").sum().alias("approvals"))
        .with_columns((pl.col("approvals") / pl.col("decisions")).alias("approval_rate"))
        .sort("month")
    )


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def dashboard(session: Session, *, as_of: date, now: datetime) -> dict[str, Any]:
    from xiaodai.complaints.report import current_month, monthly_report

    report = tables(session, as_of=as_of)
    payload = to_json(report, as_of=as_of, engine="local", source="database")
    payload["approvals"] = [
        {
            "month": r["month"].isoformat(),
            "decisions": r["decisions"],
            "approvals": r["approvals"],
            "approval_rate": f"{r['approval_rate']:.4f}",
        }
        for r in approvals(session, as_of=as_of).iter_rows(named=True)
    ]
    payload["complaints"] = monthly_report(session, month=current_month(as_of), as_of=now)
    return payload


def download(session: Session, *, as_of: date, table: str) -> str:
    """One table as CSV (the numbers behind a chart)."""
    if table not in TABLES:
        raise KeyError(table)
    if table == "approvals":
        return approvals(session, as_of=as_of).write_csv()
    return csv_tables(tables(session, as_of=as_of))[table].write_csv()
