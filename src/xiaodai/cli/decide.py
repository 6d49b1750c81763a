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
    """Decide an application read from stdin (JSON) with the active model; the record is stored."""
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
        result = run(lambda s: service.decide_and_record(s, application_json=application, policy=chosen))
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


def register(
    artifact: Path,
    activate: Annotated[bool, typer.Option(help="Make it the active model")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Register a trained artifact directory (copied into XIAODAI_MODEL_DIR, default var/models)."""
    try:
        row = run(lambda s: service.register_model(s, artifact=artifact, activate=activate))
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
        run(lambda s: service.activate_model(s, version=version))
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
