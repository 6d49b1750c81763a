"""Small hand-made panels for the risk kernels."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import polars as pl
import pytest

from xiaodai.money.dates import add_months
from xiaodai.risk.panel import conform

DEFAULTS: dict[str, Any] = {
    "product": "standard",
    "channel": "app",
    "region": "east",
    "grade": "A",
    "term": 12,
    "annual_rate": 0.0,
    "principal_fen": 100_000,
    "predicted_pd": 0.05,
    "pd_current": 0.05,
    "dpd": 0,
    "bucket": "M0",
    "status": "active",
    "balance_fen": 100_000,
    "default_flag": False,
    "recovery_fen": 0,
    "true_pd": 0.05,
    "paid_fen": 0,
}


def bucket_for(dpd: int) -> str:
    if dpd == 0:
        return "M0"
    if dpd <= 30:
        return "M1"
    if dpd <= 60:
        return "M2"
    return "M3" if dpd <= 90 else "M4+"


Panel = Callable[..., pl.LazyFrame]


@pytest.fixture
def panel() -> Panel:
    """panel(loans) where loans = {loan_id: (origination_month, [row overrides per mob 1..])}."""

    def build(loans: dict[int, tuple[date, list[dict[str, Any]]]], **common: Any) -> pl.LazyFrame:
        rows = []
        for loan_id, (origination, months) in loans.items():
            for mob, override in enumerate(months, start=1):
                row = {**DEFAULTS, **common, **override}
                if "bucket" not in override:
                    row["bucket"] = bucket_for(int(row["dpd"]))
                row.update(
                    loan_id=loan_id,
                    origination_month=origination,
                    month=add_months(origination, mob),
                    mob=mob,
                )
                rows.append(row)
        return conform(pl.DataFrame(rows).lazy())

    return build
