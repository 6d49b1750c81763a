"""``xiaodai eod`` and ``xiaodai ledger check``."""

from __future__ import annotations

import json
import sys
from datetime import date
from typing import Annotated

import typer
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from xiaodai.cli.errors import fail
from xiaodai.cli.shell import engine, parse_day, platform_today, run
from xiaodai.ledger import service as ledger
from xiaodai.servicing.eod import STEPS, days_to_run, run_day

ledger_app = typer.Typer(help="The journal.", no_args_is_help=True)


MAX_CATCH_UP_DAYS = 31  # business dates closed in one run unless --max-days says more


def eod(
    date_: Annotated[str, typer.Option("--date", help="Business date to close, YYYY-MM-DD")],
    catch_up: Annotated[bool, typer.Option(help="Run every missed day up to --date")] = True,
    max_days: Annotated[
        int,
        typer.Option(
            "--max-days",
            min=1,
            help=f"Most business dates to close in this run (default {MAX_CATCH_UP_DAYS}); a longer catch-up "
            "must be asked for explicitly",
        ),
    ] = MAX_CATCH_UP_DAYS,
    allow_future: Annotated[
        bool,
        typer.Option(
            "--allow-future",
            help="Close dates after today's business date (simulations on a throw-away database only)",
        ),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """End of day: billing, overpayment application, penalty, delinquency buckets, write-off candidates.

    Penalties posted by end of day are not undone by running it again, so a run is bounded: never past the
    platform's business date (``XIAODAI_BUSINESS_DATE`` or today in China), at most ``--max-days`` dates."""
    through = parse_day(date_, "--date")
    today = platform_today()
    if through > today and not allow_future:
        fail(f"--date {through} is after today's business date {today}: a day is closed once it has happened")
    eng = engine()
    days = days_to_run(eng, through, catch_up=catch_up)
    if len(days) > max_days:
        fail(
            f"--date {through} would close {len(days)} business dates ({days[0]} to {days[-1]}), more than "
            f"{max_days} at once: pass --max-days {len(days)} if that is intended"
        )
    summary = []
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        disable=as_json,
        transient=False,
    ) as bar:
        for day in days:
            task = bar.add_task(f"EOD {day}", total=len(STEPS))

            def tick(step: str, done: int, total: int, task_id: TaskID = task, on: date = day) -> None:
                bar.update(task_id, completed=done, total=total, description=f"EOD {on} · {step}")

            results = run_day(eng, day, progress=tick)
            summary.append(
                {
                    "date": day.isoformat(),
                    "steps": {r.step: {"rows": r.rows, "skipped": r.skipped} for r in results},
                }
            )
    if as_json:
        sys.stdout.write(json.dumps({"days": summary}, indent=2) + "\n")


@ledger_app.command("check")
def check(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Re-derive every balance from the journal and compare; exit 1 on any difference."""
    from xiaodai.lines.service import check_commitments

    problems = [*run(ledger.check), *run(check_commitments)]
    trial = run(ledger.trial_balance)
    payload = {
        "ok": not problems,
        "differences": [
            p.__dict__
            if hasattr(p, "__dict__")
            else {"loan_id": p.loan_id, "what": p.what, "stored": p.stored, "derived": p.derived}
            for p in problems
        ],
        "trial_balance_fen": trial,
    }
    if as_json:
        sys.stdout.write(json.dumps(payload, indent=2) + "\n")
    elif problems:
        for p in problems:
            typer.echo(f"DIFF loan={p.loan_id} {p.what}: stored {p.stored} derived {p.derived}", err=True)
    else:
        typer.echo(f"ledger ok: {len(trial)} accounts, trial balance nets to zero")
    if problems:
        raise typer.Exit(1)
