"""``xiaodai blocklist add|remove|list``: the people xiaodai does not lend to (KO_BLOCKLIST)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from xiaodai.cli.audit import operator
from xiaodai.cli.errors import fail
from xiaodai.cli.shell import emit, run
from xiaodai.features import blocklist

app = typer.Typer(help="The platform blocklist (read by the KO_BLOCKLIST knock-out).", no_args_is_help=True)
JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output")]


@app.command("add")
def add(
    reason: Annotated[str, typer.Option(help="Reason code, e.g. IDENTITY_FRAUD")],
    user_id: Annotated[int | None, typer.Option("--user-id", help="The user")] = None,
    id_number: Annotated[
        str | None, typer.Option("--id-number", help="The ID number (stored as its blind index only)")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Add an entry by user id and/or ID number."""
    try:
        result = run(
            lambda s: blocklist.add(s, user_id=user_id, id_number=id_number, reason=reason, actor=operator())
        )
    except blocklist.BlocklistError as exc:
        fail(str(exc))
    emit(result, as_json, lambda r: typer.echo(f"blocklist entry {r['id']} added ({r['reason']})"))


@app.command("remove")
def remove(
    entry_id: int,
    reason: Annotated[str, typer.Option(help="Reason code, e.g. ENTERED_IN_ERROR")],
    as_json: JsonOpt = False,
) -> None:
    """Remove an entry (it stays on record with its removal time)."""
    try:
        result = run(lambda s: blocklist.remove(s, entry_id=entry_id, reason=reason, actor=operator()))
    except blocklist.BlocklistError as exc:
        fail(str(exc))
    emit(result, as_json, lambda r: typer.echo(f"blocklist entry {r['id']} removed"))


@app.command("list")
def list_entries(as_json: JsonOpt = False) -> None:
    """Entries in force."""
    rows = run(blocklist.entries)

    def render(items: list[dict[str, Any]]) -> None:
        for item in items:
            who = f"user {item['user_id']}" if item["user_id"] is not None else "ID number"
            typer.echo(f"{item['id']}: {who} · {item['reason']} · added by {item['added_by']}")

    emit(rows, as_json, render)
