"""``xiaodai decide``, ``xiaodai decision replay`` and the model registry commands."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import select

from xiaodai.cli.audit import operator
from xiaodai.cli.errors import fail
from xiaodai.cli.shell import emit, run
from xiaodai.db.tables import ModelRow
from xiaodai.underwriting import service
from xiaodai.underwriting.decision import ApplicationError
from xiaodai.underwriting.policy import PolicyError, parse_policy

decision_app = typer.Typer(help="Stored credit decisions.", no_args_is_help=True)
JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output")]


def decide(
    as_json: JsonOpt = False,
    policy: Annotated[Path | None, typer.Option(help="Policy JSON (default: the packaged policy)")] = None,
) -> None:
    """Decide an application read from stdin (JSON) with the active model; the record is stored.

    The JSON names the applicant (``user_id``, who must have given the credit_check consent) and states only
    the catalogue's application features; platform and bureau values are looked up, and refused if sent."""
    try:
        application: Any = json.loads(sys.stdin.read())
    except json.JSONDecodeError as exc:
        fail(f"application is not valid JSON: {exc.msg}")
    if not isinstance(application, dict):
        fail("application must be a JSON object")
    chosen = None
    if policy is not None:
        try:
            chosen = parse_policy(policy.read_text(encoding="utf-8"))
        except (OSError, PolicyError) as exc:
            fail(str(exc))
    try:
        result = run(
            lambda s: service.decide_and_record(
                s, application_json=application, policy=chosen, actor=operator()
            )
        )
    except (ApplicationError, service.RegistryError) as exc:
        fail(str(exc))
    emit(result, as_json, _render_decision)


def _render_decision(result: dict[str, Any]) -> None:
    console = Console()
    colour = {"approve": "green", "decline": "red", "refer": "yellow"}[result["outcome"]]
    console.print(
        f"[bold {colour}]{result['outcome'].upper()}[/] application {result['application_id']} · "
        f"score {result['score']} · PD {result['pd']} · grade {result['grade']}"
    )
    for reason in result["reasons"]:
        console.print(f"  {reason['code']}: {reason['zh']} / {reason['en']}")
    if result.get("offer"):
        offer = result["offer"]
        console.print(
            f"  offer: {offer['principal']} × {offer['term']} months, APR {offer['apr_percent']}%, "
            f"payment {offer['payment']}, limit {offer['credit_limit']}"
        )


@decision_app.command("replay")
def replay(decision_id: int, as_json: JsonOpt = False) -> None:
    """Recompute a stored decision from its inputs, model and policy versions; exit 1 if it differs."""
    try:
        result = run(lambda s: service.replay(s, decision_id=decision_id))
    except service.RegistryError as exc:
        fail(str(exc))
    emit(
        result,
        as_json,
        lambda r: typer.echo(
            f"decision {r['decision_id']}: {'identical' if r['identical'] else 'DIFFERENT'}"
        ),
    )
    if not result["identical"]:
        raise typer.Exit(1)


@decision_app.command("review")
def review(
    decision_id: int,
    verdict: Annotated[str, typer.Argument(help="approve | decline")],
    who: Annotated[str, typer.Option("--actor", help="Email of the underwriter deciding")],
    reason: Annotated[
        list[str] | None,
        typer.Option(
            "--reason", help="Decline reason code, repeatable (see `xiaodai decision review-reasons`)"
        ),
    ] = None,
    note: Annotated[str, typer.Option(help="Internal note (recorded)")] = "",
    as_json: JsonOpt = False,
) -> None:
    """Decide a referred application as the underwriter ``--actor``: approve (the borrower sees the offer) or
    decline with one or more reason codes (the borrower sees them). Refusals exit 1, bad input 2."""
    from xiaodai.accounts.service import AccountError
    from xiaodai.cli.approvals import actor
    from xiaodai.cli.errors import REFUSED
    from xiaodai.underwriting import referrals

    try:
        result = run(
            lambda s: referrals.review(
                s,
                reviewer=actor(s, who),
                decision_id=decision_id,
                verdict=verdict,
                reasons=list(reason or []),
                note=note,
            )
        )
    except referrals.ReviewError as exc:
        fail(str(exc), REFUSED if exc.status in (403, 409) else 2)
    except AccountError as exc:  # ForbiddenError: not an underwriter
        fail(str(exc), REFUSED)
    emit(
        result,
        as_json,
        lambda r: typer.echo(
            f"application {r['application_id']}: {r['outcome']}"
            + "".join(f"\n  {x['code']}: {x['zh']} / {x['en']}" for x in r["reasons"])
        ),
    )


@decision_app.command("review-reasons")
def review_reasons(as_json: JsonOpt = False) -> None:
    """The decline reason codes an underwriter may give."""
    from xiaodai.underwriting.referrals import decline_reason_choices

    def render(rows: list[dict[str, object]]) -> None:
        for r in rows:
            typer.echo(f"{r['code']}: {r['zh']} / {r['en']}")

    emit([r.to_json() for r in decline_reason_choices()], as_json, render)


def register(
    artifact: Path,
    activate: Annotated[bool, typer.Option(help="Make it the active model")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Register a trained artifact directory (copied into XIAODAI_MODEL_DIR, default var/models)."""
    try:
        row = run(lambda s: service.register_model(s, artifact=artifact, activate=activate, actor=operator()))
    except service.RegistryError as exc:
        fail(str(exc))
    emit(
        {"version": row.version, "path": row.path, "active": activate},
        as_json,
        lambda r: typer.echo(f"model {r['version']} registered{' and active' if activate else ''}"),
    )


def activate(version: str, as_json: JsonOpt = False) -> None:
    """Make a registered model the active one."""
    try:
        run(lambda s: service.activate_model(s, version=version, actor=operator()))
    except service.RegistryError as exc:
        fail(str(exc))
    emit({"version": version, "active": True}, as_json, lambda r: typer.echo(f"model {version} is active"))


def list_models(as_json: JsonOpt = False) -> None:
    """Registered models, newest first, with their cross-validated AUC."""

    def rows(session: Any) -> list[dict[str, Any]]:
        out = []
        for m in session.execute(select(ModelRow).order_by(ModelRow.registered_at.desc())).scalars():
            metrics = json.loads(m.metrics_json or "{}").get("models", {})
            out.append(
                {
                    "version": m.version,
                    "active": m.active,
                    "path": m.path,
                    "scorecard_auc": metrics.get("scorecard", {}).get("auc_mean"),
                    "lightgbm_auc": metrics.get("lightgbm", {}).get("auc_mean"),
                }
            )
        return out

    models = run(rows)

    def render(items: list[dict[str, Any]]) -> None:
        table = Table("version", "active", "scorecard AUC", "LightGBM AUC")
        for item in items:
            table.add_row(
                item["version"],
                "✓" if item["active"] else "",
                str(item["scorecard_auc"]),
                str(item["lightgbm_auc"]),
            )
        Console().print(table)

    emit(models, as_json, render)


def monitor(
    since: Annotated[str | None, typer.Option(help="Only decisions from this date")] = None,
    outcome_months: Annotated[int, typer.Option(help="Months on book before an outcome counts")] = 6,
    as_json: JsonOpt = False,
) -> None:
    """PSI per feature and for the score (training sample vs recent applications), approval rate by month,
    and AUC/KS by vintage month on loans old enough to have an outcome."""
    from datetime import date, datetime
    from zoneinfo import ZoneInfo

    from xiaodai.underwriting.monitor_service import monitor as run_monitor

    try:
        start = date.fromisoformat(since) if since else None
    except ValueError:
        fail(f"--since {since!r} is not a date")
    today = datetime.now(tz=ZoneInfo("Asia/Shanghai")).date()
    try:
        report = run(lambda s: run_monitor(s, since=start, outcome_months=outcome_months, today=today))
    except service.RegistryError as exc:
        fail(str(exc))

    def render(r: dict[str, Any]) -> None:
        console = Console()
        console.print(f"model {r['model_version']} · {r['decisions']} decisions")
        table = Table("feature", "PSI", "band")
        for f in r["feature_psi"]:
            table.add_row(f["feature"], f"{f['psi']:.4f}", f["band"])
        if r["score_psi"]:
            table.add_row("[bold]score[/bold]", f"{r['score_psi']['psi']:.4f}", r["score_psi"]["band"])
        console.print(table)
        for month in r["approval_by_month"]:
            console.print(
                f"{month['month']}: {month['applications']} applications, "
                f"approval {month['approval_rate']:.1%}"
            )
        if not r["outcomes_by_vintage"]:
            console.print(f"no vintages with outcomes yet ({r['outcome_definition']})")
        for v in r["outcomes_by_vintage"]:
            console.print(
                f"vintage {v['vintage']}: {v['loans']} loans, bad rate {v['bad_rate']:.1%}, "
                f"AUC {v['auc']}, KS {v['ks']}"
            )

    emit(report, as_json, render)
