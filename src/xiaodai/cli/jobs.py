"""``xiaodai jobs list|run|worker``: the scheduler (end of day, debits, reminders, reconciliation) on our own
tables; every run with its duration and outcome."""

from __future__ import annotations

import json
import sys
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from xiaodai.cli.errors import REFUSED, fail
from xiaodai.cli.shell import emit, engine, parse_day, platform_now, platform_today, run
from xiaodai.jobs import runner
from xiaodai.jobs.runner import JobError, JobResult

app = typer.Typer(help="Scheduled jobs (定时任务).", no_args_is_help=True)
JsonOpt = Annotated[bool, typer.Option("--json")]


def _results_table(results: list[dict[str, Any]]) -> None:
    table = Table("job", "date", "outcome", "attempt", "ms", "detail")
    for r in results:
        detail = r["error"].splitlines()[0] if r["error"] else (r["skipped"] or "")
        table.add_row(
            r["job"], r["business_date"], r["outcome"], str(r["attempt"]), str(r["duration_ms"] or ""), detail
        )
    Console().print(table)


@app.command("list")
def jobs_list(
    job: Annotated[str | None, typer.Option("--job")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=1000)] = 30,
    as_json: JsonOpt = False,
) -> None:
    """Job definitions, each one's latest business date and status, and the latest runs."""
    try:
        data = run(lambda s: runner.overview(s, job=job, limit=limit))
    except JobError as exc:
        fail(str(exc))

    def show(d: dict[str, Any]) -> None:
        table = Table("job", "handler", "runs at", "latest date", "status", "attempts", "next try")
        for j in d["jobs"]:
            latest = j["latest"] or {}
            table.add_row(
                j["name"] + ("" if j["enabled"] else " (off)"),
                j["handler"],
                f"{j['run_at_local']} D+{j['day_offset']}",
                latest.get("business_date", "—"),
                latest.get("status", "—"),
                str(latest.get("attempts", "")),
                latest.get("next_attempt_at") or "",
            )
        Console().print(table)
        runs = Table("run", "job", "date", "try", "trigger", "started", "ms", "outcome", "error")
        for r in d["runs"]:
            runs.add_row(
                str(r["run_id"]),
                r["job"],
                r["business_date"],
                str(r["attempt"]),
                r["trigger"],
                r["started_at"] or "",
                str(r["duration_ms"] if r["duration_ms"] is not None else ""),
                r["outcome"],
                r["error"] or "",
            )
        Console().print(runs)

    emit(data, as_json, show)


@app.command("run")
def jobs_run(
    date_: Annotated[str | None, typer.Option("--date", help="business date (default: today's)")] = None,
    job: Annotated[
        str | None, typer.Option("--job", help="one job (default: every enabled job, in order)")
    ] = None,
    again: Annotated[
        bool,
        typer.Option(
            "--again", help="run a date that already succeeded (safe: jobs are idempotent per date)"
        ),
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Run now, whatever the schedule: claims (job, date) like the worker does, so it never runs beside a
    worker's run of the same date. Exit 1 when a run failed."""
    day = parse_day(date_, "--date") if date_ else platform_today()
    if day > platform_today():
        fail(f"--date {day} is after today's business date {platform_today()}")
    try:
        results = runner.run_now(engine(), day=day, job=job, again=again, clock=platform_now)
    except JobError as exc:
        fail(str(exc))
    payload = [r.to_json() for r in results]
    emit(payload, as_json, _results_table)
    if any(r.outcome == "failed" for r in results):
        raise typer.Exit(REFUSED)


@app.command("worker")
def jobs_worker(
    once: Annotated[bool, typer.Option("--once", help="one pass, then exit")] = False,
    interval: Annotated[float, typer.Option("--interval", min=0.1, help="seconds between passes")] = 60.0,
    max_ticks: Annotated[
        int | None, typer.Option("--max-ticks", min=1, help="stop after this many passes")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Run due jobs (and drain the notification outbox) every --interval seconds. Any number of workers may
    run: each (job, business date) is claimed by exactly one."""

    def report(results: list[JobResult], drained: dict[str, int]) -> None:
        line = {"runs": [r.to_json() for r in results], "outbox": drained}
        if as_json:
            sys.stdout.write(json.dumps(line, ensure_ascii=False, default=str) + "\n")
            sys.stdout.flush()
        else:
            for r in results:
                typer.echo(f"{r.job} {r.business_date} {r.outcome} attempt {r.attempt} {r.duration_ms} ms")
            if drained["sent"] or drained["block"]:
                typer.echo(f"outbox: sent {drained['sent']}, blocked {drained['block']}")

    import signal

    stop: list[int] = []

    def on_signal(signum: int, _frame: object) -> None:
        stop.append(signum)  # finish the run in progress, then exit (systemctl stop sends SIGTERM)

    signal.signal(signal.SIGTERM, on_signal)
    try:
        runner.work(
            engine(),
            stopping=lambda: bool(stop),
            clock=platform_now,
            once=once,
            interval_seconds=interval,
            max_ticks=max_ticks,
            through=platform_today,  # never a date after the platform's business date
            on_tick=report,
        )
    except JobError as exc:
        fail(str(exc))
    except KeyboardInterrupt:
        typer.echo("worker stopped", err=True)
