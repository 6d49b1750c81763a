"""``xiaodai collections …``: cases, contact attempts through the policy engine, history, violations."""

from __future__ import annotations

import json
import sys
from datetime import datetime
from typing import Annotated, Any

import typer

from xiaodai.cli.errors import fail
from xiaodai.cli.shell import emit, run
from xiaodai.collections import service
from xiaodai.collections.contact_policy import ProfileError

app = typer.Typer(
    help="Post-loan management: every contact passes the policy engine first.", no_args_is_help=True
)
JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output")]


def _stdin_json(what: str) -> Any:
    try:
        return json.loads(sys.stdin.read() or "{}")
    except json.JSONDecodeError as exc:
        fail(f"{what} is not valid JSON: {exc.msg}")


@app.command("open")
def open_case(
    loan_id: int,
    profile: Annotated[str, typer.Option(help="CN or US_RegF")] = "CN",
    assigned_to: Annotated[int | None, typer.Option(help="Collector user id")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Open (or update) a loan's collection case; stdin: contact points, contacts and flags (JSON)."""
    context = _stdin_json("the case context") if not sys.stdin.isatty() else {}
    try:
        run(
            lambda s: service.open_case(
                s, loan_id=loan_id, profile=profile, context=context, assigned_to=assigned_to
            )
        )
    except (ProfileError, service.AssigneeError) as exc:
        fail(str(exc))
    emit(
        {"loan_id": loan_id, "profile": profile},
        as_json,
        lambda r: typer.echo(f"case open for loan {loan_id}"),
    )


@app.command("contact")
def contact(
    loan_id: int,
    at: Annotated[str, typer.Option(help="Attempt time, ISO 8601 with offset")],
    actor: Annotated[str, typer.Option(help="Who is attempting")] = "cli",
    preview: Annotated[bool, typer.Option(help="Evaluate only; record and send nothing")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Attempt a contact (stdin: {"action", "channel", "target", "phone_id", "message"}); blocked: exit 1."""
    attempt = _stdin_json("the attempt")
    try:
        when = datetime.fromisoformat(at)
    except ValueError:
        fail(f"--at {at!r} is not an ISO date-time")
    if when.tzinfo is None:
        fail("--at needs a UTC offset, e.g. 2026-03-10T09:30:00+08:00")
    if preview:
        result = run(
            lambda s: service.preview(
                s, loan_id=loan_id, attempt=service.parse_attempt(attempt), as_of=when
            ).to_json()
        )
    else:
        result = run(
            lambda s: service.attempt_contact(
                s,
                loan_id=loan_id,
                attempt=service.parse_attempt(attempt),
                as_of=when,
                actor=actor,
                inbound_outcome=str(attempt.get("outcome") or "connected_conversation"),
            )
        )
    emit(
        result, as_json, lambda r: typer.echo(f"{r['decision'].upper()} {r['reason']} ({r['rule_version']})")
    )
    if result["decision"] != "allow":
        raise typer.Exit(1)


@app.command("history")
def history(loan_id: int, as_json: JsonOpt = False) -> None:
    """Every attempt on the loan, allowed or blocked, with its reason."""
    rows = run(lambda s: service.contact_history(s, loan_id=loan_id))

    def render(items: list[dict[str, Any]]) -> None:
        for x in items:
            typer.echo(f"{x['at']} {x['channel']:<8} {x['decision']:<5} {x['reason']}")

    emit(rows, as_json, render)


@app.command("violations")
def violations(as_json: JsonOpt = False) -> None:
    """Contacts the engine blocked, by reason."""
    report = run(service.violations_report)

    def render(r: dict[str, Any]) -> None:
        for reason, count in r["by_reason"].items():
            typer.echo(f"{reason}: {count}")
        if not r["by_reason"]:
            typer.echo("no blocked attempts")

    emit(report, as_json, render)


@app.command("campaign")
def campaign(
    at: Annotated[str, typer.Option(help="Campaign time, ISO 8601 with offset")], as_json: JsonOpt = False
) -> None:
    """Plan today's contacts from the strategy for every case; each one passes the engine first."""
    try:
        when = datetime.fromisoformat(at)
    except ValueError:
        fail(f"--at {at!r} is not an ISO date-time")
    if when.tzinfo is None:
        fail("--at needs a UTC offset")
    report = run(lambda s: service.run_campaign(s, as_of=when))

    def render(r: dict[str, Any]) -> None:
        typer.echo(f"{r['cases']} cases")
        for reason, count in r["results"].items():
            typer.echo(f"  {reason}: {count}")

    emit(report, as_json, render)


@app.command("promise")
def promise(
    loan_id: int,
    on: Annotated[str, typer.Option(help="Promised payment date")],
    amount: Annotated[str, typer.Option()],
    today: Annotated[str, typer.Option(help="Business date")],
    as_json: JsonOpt = False,
) -> None:
    """Record a promise to pay; end of day marks it kept or broken."""
    from xiaodai.cli.shell import parse_day, parse_fen
    from xiaodai.collections.workflow import record_promise

    day, fen, now = parse_day(on), parse_fen(amount), parse_day(today, "--today")
    result = run(
        lambda s: record_promise(
            s, loan_id=loan_id, promised_on=day, amount_fen=fen, made_by="cli", today=now
        )
    )
    emit(
        result,
        as_json,
        lambda r: typer.echo(f"promise {r['promise_id']}: {r['amount']} by {r['promised_on']}"),
    )


@app.command("report-negative")
def report_negative(
    loan_id: int,
    at: Annotated[str, typer.Option(help="Submission time, ISO with offset")],
    notice: Annotated[bool, typer.Option(help="Send the pre-reporting notice instead")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Negative credit reporting only after a notice to the borrower and the waiting period (else exit 1)."""
    from xiaodai.collections.workflow import send_reporting_notice, submit_negative_record

    when = datetime.fromisoformat(at)
    if when.tzinfo is None:
        fail("--at needs a UTC offset")
    if notice:
        emit(
            run(lambda s: send_reporting_notice(s, loan_id=loan_id, at=when)),
            as_json,
            lambda r: typer.echo(f"notice sent for loan {loan_id}"),
        )
        return
    result = run(lambda s: submit_negative_record(s, loan_id=loan_id, at=when, actor="cli"))
    emit(
        result, as_json, lambda r: typer.echo(f"{'SUBMITTED' if r['submitted'] else 'REFUSED'} {r['reason']}")
    )
    if not result["submitted"]:
        raise typer.Exit(1)
