"""``xiaodai simulate book``: a deterministic loan-month panel written as Parquet."""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path
from typing import Annotated

import polars as pl
import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from xiaodai.cli.errors import fail
from xiaodai.cli.shell import parse_day
from xiaodai.pricing.caps import default_cap_book
from xiaodai.simulate.book import BookConfig, MacroPath, simulate_book
from xiaodai.simulate.book_applicants import DemoApplicantSource
from xiaodai.underwriting.policy import default_policy

app = typer.Typer(help="Simulated books for risk analysis and demos.", no_args_is_help=True)

MAX_BORROWERS = 20_000_000
MAX_MONTHS = 120


@app.command("book")
def book(
    borrowers: Annotated[int, typer.Option("--borrowers", help="Loans to book over the whole run")],
    months: Annotated[int, typer.Option("--months", help="Months to run forward")],
    out: Annotated[Path, typer.Option("--out", help="Directory for the Parquet panel")],
    seed: Annotated[int, typer.Option("--seed")] = 1,
    start: Annotated[str, typer.Option("--start", help="First origination month, YYYY-MM-DD")] = "2025-01-01",
    engine: Annotated[str, typer.Option("--engine", help="local (dask books are built per partition)")] = (
        "local"
    ),
    growth: Annotated[float, typer.Option("--growth", help="Monthly growth of originations")] = 0.0,
    shock: Annotated[float, typer.Option("--macro-shock", help="Macro shock size (z units)")] = 0.0,
    shock_start: Annotated[int, typer.Option("--shock-start", help="Month index of the shock")] = 0,
    shock_months: Annotated[int, typer.Option("--shock-months")] = 0,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Run a lending book forward through the real policy and schedules; write DIR/panel/*.parquet."""
    if not 1 <= borrowers <= MAX_BORROWERS:
        fail(f"--borrowers must be between 1 and {MAX_BORROWERS}")
    if not 1 <= months <= MAX_MONTHS:
        fail(f"--months must be between 1 and {MAX_MONTHS}")
    if engine != "local":
        fail("--engine: only 'local' simulates a book; analyse it on Dask with `xiaodai risk report`")
    if not -1.0 <= growth <= 1.0:
        fail("--growth must be between -1 and 1")
    if seed < 0:
        fail("--seed must not be negative")
    if shock_months < 0 or shock_start < 0:
        fail("--shock-start and --shock-months must not be negative")
    start_on: date = parse_day(start, "--start")
    if out.exists() and not out.is_dir():
        fail(f"--out {out} exists and is not a directory")
    panel_dir = out / "panel"
    if panel_dir.exists() and any(panel_dir.iterdir()):
        fail(f"--out {out} already holds a panel; choose an empty directory")
    panel_dir.mkdir(parents=True, exist_ok=True)
    config = BookConfig(
        borrowers=borrowers,
        months=months,
        seed=seed,
        start_on=start_on.replace(day=1),
        growth=growth,
        macro=MacroPath(shock=shock, shock_start=shock_start, shock_months=shock_months),
    )
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        disable=as_json,
    ) as bar:
        tasks: dict[str, object] = {}

        def tick(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=total)
            bar.update(tasks[stage], completed=done)  # type: ignore[arg-type]

        def sink(t: int, frame: pl.DataFrame) -> None:
            frame.write_parquet(panel_dir / f"part-{t:04d}.parquet", statistics=True)

        summary = simulate_book(
            config,
            source=DemoApplicantSource(),
            policy=default_policy(),
            cap_book=default_cap_book(),
            sink=sink,
            progress=tick,
        )
    summary.originations.write_parquet(out / "originations.parquet")
    manifest = {
        "kind": "xiaodai-simulated-book",
        "borrowers": borrowers,
        "months": months,
        "seed": seed,
        "start": config.start_on.isoformat(),
        "growth": growth,
        "macro_shock": {"size": shock, "start": shock_start, "months": shock_months},
        "policy_version": default_policy().version,
        "applicant_source": "demo",
        "loans": summary.loans,
        "rows": summary.rows,
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    if as_json:
        sys.stdout.write(json.dumps(manifest) + "\n")
    else:
        sys.stdout.write(f"{summary.loans} loans, {summary.rows} loan-months -> {out}\n")
