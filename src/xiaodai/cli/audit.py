"""``xiaodai audit verify`` and ``xiaodai audit list``: check and read the tamper-evident audit trail."""

from __future__ import annotations

import getpass
import re
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy.orm import Session

from xiaodai.audit.chain import Report
from xiaodai.audit.trail import chain_length, list_events, verify_chain
from xiaodai.cli.errors import fail
from xiaodai.cli.shell import emit, run

app = typer.Typer(help="The tamper-evident audit trail.", no_args_is_help=True)
JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output on stdout")]
INTACT, BROKEN = 0, 1
_HASH = re.compile(r"[0-9a-f]{64}")


def operator() -> str:
    """The actor recorded for commands run from a shell: ``cli:<OS user>``."""
    try:
        return f"cli:{getpass.getuser()}"
    except (OSError, KeyError):  # no user name in some containers
        return "cli"


@app.command("verify")
def verify(
    expect_head: Annotated[
        str | None,
        typer.Option(
            "--expect-head",
            help="A head hash recorded earlier (printed by this command): it must still be in the chain, "
            "so a cut-off tail is detected",
        ),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Walk the chain in seq order and report the first modified, deleted or reordered record; exit 1 if
    the chain is broken."""
    if expect_head is not None:
        expect_head = expect_head.strip().lower()
        if not _HASH.fullmatch(expect_head):
            fail("--expect-head must be a 64-character hex SHA-256 hash")

    def check(session: Session) -> Report:
        total = chain_length(session)
        with Progress(
            TextColumn("verifying audit chain"),
            BarColumn(),
            TextColumn("{task.completed}/{task.total}"),
            TimeElapsedColumn(),
            console=Console(stderr=True),
            disable=as_json or total < 10_000,
            transient=True,
        ) as bar:
            task = bar.add_task("verify", total=total)
            return verify_chain(
                session,
                expect_head=expect_head,
                progress=lambda done: bar.update(task, completed=done) if done % 1000 == 0 else None,
            )

    report = run(check)
    emit(report.to_json(), as_json, _render_report)
    if not report.ok:
        raise typer.Exit(BROKEN)


def _render_report(result: dict[str, Any]) -> None:
    head = result["head"]
    if result["ok"]:
        typer.echo(f"audit chain intact: {result['checked']} records, head seq {head['seq']} {head['hash']}")
        return
    problem = result["problem"]
    typer.echo(
        f"audit chain BROKEN at seq {problem['seq']} (id {problem['id']}): {problem['kind']}: "
        f"{problem['message']}",
        err=True,
    )
    typer.echo(f"intact up to seq {head['seq']} {head['hash']}", err=True)


@app.command("list")
def list_(
    subject: Annotated[str | None, typer.Option(help='Only this subject, e.g. "loan:42"')] = None,
    action: Annotated[str | None, typer.Option(help='Only this action, e.g. "credit-decision"')] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000, help="At most this many, newest first")] = 50,
    as_json: JsonOpt = False,
) -> None:
    """Audit events, newest first (for auditors)."""
    events = run(lambda s: list_events(s, subject=subject, action=action, limit=limit))

    def render(items: list[dict[str, Any]]) -> None:
        table = Table("seq", "at (UTC)", "actor", "action", "subject", "reason")
        for e in items:
            table.add_row(
                str(e["seq"]), e["occurred_at"][:19], e["actor"], e["action"], e["subject"], e["reason"]
            )
        Console().print(table)

    emit(events, as_json, render)
