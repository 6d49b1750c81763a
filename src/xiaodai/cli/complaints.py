"""``xiaodai complaints report --month YYYY-MM [--csv FILE]``."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from xiaodai.cli.errors import fail
from xiaodai.cli.shell import emit, run

app = typer.Typer(help="Complaints: KPIs and the regulator export.", no_args_is_help=True)


@app.command("report")
def report(
    month: Annotated[str, typer.Option(help="YYYY-MM")],
    csv: Annotated[Path | None, typer.Option("--csv", help="Also write the CFPB-style export here")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Complaints per 10,000 active borrowers by category, on-time rate, extensions, time to resolve, repeats,
    regulator escalations, monetary relief, top root causes."""
    from xiaodai.complaints.report import monthly_report, regulator_csv

    try:
        year, mon = (int(p) for p in month.split("-"))
        if not 1 <= mon <= 12 or year < 2000:
            raise ValueError
    except ValueError:
        fail(f"--month {month!r} must be YYYY-MM")
    now = datetime.now(tz=UTC)
    result = run(lambda s: monthly_report(s, month=month, as_of=now))
    if csv is not None:
        csv.write_text(run(lambda s: regulator_csv(s, month=month, as_of=now)), encoding="utf-8")

    def render(r: dict[str, Any]) -> None:
        for key, value in r.items():
            typer.echo(f"{key}: {value}")

    emit(result, as_json, render)


@app.command("escalate")
def escalate(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Escalate open complaints at 70%/90% of the time allowed and on breach (run it hourly)."""
    from xiaodai.complaints.service import escalate as run_escalation

    raised = run(lambda s: run_escalation(s, as_of=datetime.now(tz=UTC)))

    def render(items: list[dict[str, Any]]) -> None:
        for item in items:
            typer.echo(f"{item['complaint_id']}: {item['level']} → {', '.join(item['notify'])}")
        if not items:
            typer.echo("nothing to escalate")

    emit(raised, as_json, render)
