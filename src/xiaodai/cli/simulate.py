"""``xiaodai simulate book``: a deterministic loan-month panel written as Parquet."""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from xiaodai.cli.errors import fail
from xiaodai.cli.shell import parse_day
from xiaodai.pricing.caps import default_cap_book
from xiaodai.simulate.book import BookConfig, MacroPath
from xiaodai.simulate.book_applicants import DemoApplicantSource
from xiaodai.simulate.partitioned import Inputs, simulate_dask, simulate_local
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
    engine: Annotated[str, typer.Option("--engine", help="local | dask (one task per borrower-id range)")] = (
        "local"
    ),
    scheduler: Annotated[
        str | None,
        typer.Option("--scheduler", help="Dask scheduler tcp://HOST:PORT (default: a LocalCluster)"),
    ] = None,
    workers: Annotated[int, typer.Option("--workers", help="LocalCluster workers when no --scheduler")] = 2,
    partitions: Annotated[
        int, typer.Option("--partitions", help="Borrower-id ranges (default: 1 local, 2 per Dask worker)")
    ] = 0,
    growth: Annotated[float, typer.Option("--growth", help="Monthly growth of originations")] = 0.0,
    shock: Annotated[float, typer.Option("--macro-shock", help="Macro shock size (z units)")] = 0.0,
    shock_start: Annotated[int, typer.Option("--shock-start", help="Month index of the shock")] = 0,
    shock_months: Annotated[int, typer.Option("--shock-months")] = 0,
    block_size: Annotated[
        int, typer.Option("--block-size", help="Loan ids per random stream (part of the book's definition)")
    ] = 8192,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Run a lending book forward through the real policy and schedules; write DIR/panel/*.parquet.

    The same seed gives the same panel with either engine and any --partitions."""
    if not 1 <= borrowers <= MAX_BORROWERS:
        fail(f"--borrowers must be between 1 and {MAX_BORROWERS}")
    if not 1 <= months <= MAX_MONTHS:
        fail(f"--months must be between 1 and {MAX_MONTHS}")
    if engine not in ("local", "dask"):
        fail("--engine must be local or dask")
    if scheduler and engine != "dask":
        fail("--scheduler needs --engine dask")
    if workers < 1:
        fail("--workers must be at least 1")
    if partitions < 0:
        fail("--partitions must not be negative")
    if not 1 <= block_size <= 10_000_000:
        fail("--block-size must be between 1 and 10000000")
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
        block_size=block_size,
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

        inputs = Inputs(config, DemoApplicantSource(), default_policy(), default_cap_book())
        if engine == "local":
            summary = simulate_local(inputs, panel_dir, partitions=partitions or 1, progress=tick)
        else:
            try:
                summary = simulate_dask(
                    inputs,
                    panel_dir,
                    scheduler=scheduler,
                    workers=workers,
                    partitions=partitions,
                    progress=tick,
                )
            except ImportError:
                fail("--engine dask needs Dask: pip install 'xiaodai[risk-cluster]'")
            except OSError as exc:
                fail(f"cannot reach the Dask scheduler {scheduler}: {exc}")
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
        "block_size": config.block_size,
        "engine": engine,
        "loans": summary.loans,
        "rows": summary.rows,
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    if as_json:
        sys.stdout.write(json.dumps(manifest) + "\n")
    else:
        sys.stdout.write(f"{summary.loans} loans, {summary.rows} loan-months -> {out}\n")
