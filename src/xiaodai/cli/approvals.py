"""``xiaodai approvals …``: maker-checker for write-offs, large waivers, model activation and key rotation.

The CLI acts as the named staff member (``--actor EMAIL``); the rules are the service layer's, the same as
the API's: the checker must hold a checker role and must not be the maker.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from sqlalchemy import select
from sqlalchemy.orm import Session

from xiaodai.accounts.service import AccountError
from xiaodai.approvals import service
from xiaodai.approvals.rules import OPERATIONS
from xiaodai.cli.errors import REFUSED, fail
from xiaodai.cli.shell import emit, platform_today, run
from xiaodai.db.tables import UserRow

app = typer.Typer(help="Maker-checker approvals for sensitive operations.", no_args_is_help=True)
ActorOpt = Annotated[str, typer.Option("--actor", help="Email of the staff member acting")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output")]


def actor(session: Session, email: str) -> UserRow:
    user = session.execute(select(UserRow).where(UserRow.email == email.strip().lower())).scalar_one_or_none()
    if user is None or user.kind != "staff":
        fail(f"--actor {email!r} is not a staff account")
    return user


def call(action: Any) -> Any:
    try:
        return run(action)
    except service.ApprovalError as exc:
        fail(str(exc), REFUSED if exc.status in (403, 409) else 2)
    except AccountError as exc:  # ForbiddenError: a rule said no
        fail(str(exc), REFUSED)


def _render(row: dict[str, Any]) -> None:
    typer.echo(
        f"#{row['id']} {row['operation']} {row['subject']} {row['status']}"
        + (f" → {json.dumps(row['result'], ensure_ascii=False)}" if row["result"] else "")
    )


@app.command("request")
def request_cmd(
    operation: Annotated[str, typer.Argument(help=", ".join(OPERATIONS))],
    who: ActorOpt,
    reason: Annotated[str, typer.Option(help="Why (recorded)")],
    param: Annotated[list[str] | None, typer.Option("--param", help="name=value, repeatable")] = None,
    as_json: JsonOpt = False,
) -> None:
    """File a request; it waits for a different, authorised person to approve it."""
    params: dict[str, Any] = {}
    for item in param or []:
        name, sep, value = item.partition("=")
        if not sep:
            fail(f"--param {item!r}: use name=value")
        params[name.strip()] = value.strip()
    emit(
        call(
            lambda s: service.request(
                s,
                maker=actor(s, who),
                operation=operation,
                params=params,
                reason=reason,
                business_date=platform_today(),
            )
        ),
        as_json,
        _render,
    )


@app.command("approve")
def approve_cmd(approval_id: int, who: ActorOpt, as_json: JsonOpt = False) -> None:
    """Approve and execute (exit 1 if the rules refuse: same person, wrong role, not pending)."""
    emit(call(lambda s: service.approve(s, checker=actor(s, who), approval_id=approval_id)), as_json, _render)


@app.command("reject")
def reject_cmd(
    approval_id: int, who: ActorOpt, reason: Annotated[str, typer.Option()], as_json: JsonOpt = False
) -> None:
    emit(
        call(lambda s: service.reject(s, checker=actor(s, who), approval_id=approval_id, reason=reason)),
        as_json,
        _render,
    )


@app.command("list")
def list_cmd(
    who: ActorOpt,
    status: Annotated[str | None, typer.Option(help="pending | executed | rejected")] = None,
    as_json: JsonOpt = False,
) -> None:
    rows = call(lambda s: service.listing(s, viewer=actor(s, who), status=status))

    def render_all(items: list[dict[str, Any]]) -> None:
        for row in items:
            _render(row)

    emit(rows, as_json, render_all)
