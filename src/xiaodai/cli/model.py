"""``xiaodai model …``: train credit models on any CSV/Parquet file and export the demo data sets.

The heavy libraries (optbinning, LightGBM, scikit-learn) are imported inside the commands so that the rest of
the CLI starts fast.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from xiaodai.cli.errors import fail

app = typer.Typer(
    help="Credit models: train, compare (champion vs challenger, promotion), datasets.",
    no_args_is_help=True,
)

JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output on stdout")]


def _names(text: str | None) -> tuple[str, ...]:
    if text is None:
        return ()
    return tuple(dict.fromkeys(part.strip() for part in text.split(",") if part.strip()))


@app.command("train")
def train(
    data: Annotated[Path, typer.Option("--data", help="CSV or Parquet file, one row per loan")],
    target: Annotated[str, typer.Option("--target", help="Outcome column")],
    bad: Annotated[str, typer.Option("--bad", help="Value of the outcome column that means default")],
    out: Annotated[Path, typer.Option("--out", help="Artifact directory to write")],
    exclude: Annotated[
        str | None, typer.Option("--exclude", help="Columns never used, comma-separated")
    ] = None,
    protected: Annotated[
        str | None,
        typer.Option(
            "--protected",
            help="Protected attributes, comma-separated; replaces the default (names containing age, sex, "
            "gender, marital, personal_status); '' for none",
        ),
    ] = None,
    allow_protected: Annotated[
        str | None, typer.Option("--allow-protected", help="Protected attributes that may still be features")
    ] = None,
    folds: Annotated[int, typer.Option("--folds", help="Cross-validation folds")] = 5,
    seed: Annotated[int, typer.Option("--seed", help="Random seed (folds, LightGBM)")] = 42,
    cutoff: Annotated[
        float | None,
        typer.Option(
            "--cutoff",
            help="PD below which an applicant counts as approved in the fairness metrics "
            "(default: the median PD)",
        ),
    ] = None,
    true_pd: Annotated[
        str | None,
        typer.Option(
            "--true-pd",
            help="Column with the known true PD (synthetic data, e.g. true_pd of `xiaodai simulate "
            "population`): never a feature; the model card shows calibration against it",
        ),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Train a WOE scorecard and a LightGBM challenger: cross-validation, fairness checks, model cards."""
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # OpenMP spin-waiting starves small machines
    from xiaodai.underwriting.training import TrainingConfig, TrainingError
    from xiaodai.underwriting.training import train as run_training

    config = TrainingConfig(
        target=target,
        bad_value=bad,
        exclude=_names(exclude),
        protected=None if protected is None else _names(protected),
        allow_protected=_names(allow_protected),
        folds=folds,
        seed=seed,
        cutoff=cutoff,
        true_pd=true_pd or None,
    )
    console = Console(stderr=True)
    try:
        with console.status("training…") as status:
            result = run_training(data, config, out, progress=lambda message: status.update(f"{message}…"))
    except TrainingError as exc:
        fail(str(exc))
    except OSError as exc:
        fail(f"cannot write the artifact to {out}: {exc.strerror or exc}")
    for warning in result.warnings:
        sys.stderr.write(f"xiaodai: warning: {warning}\n")
    if as_json:
        sys.stdout.write(json.dumps(result.summary(), ensure_ascii=False) + "\n")
        return
    _render(result.summary(), result.manifest, result.metrics)


def _render(summary: dict[str, Any], manifest: dict[str, Any], metrics: dict[str, Any]) -> None:
    console = Console()
    table = Table(title=f"{manifest['config']['folds']}-fold cross-validation (mean ± sd)")
    for column in ("model", "AUC", "KS", "Gini"):
        table.add_column(column, justify="left" if column == "model" else "right")
    for name, block in summary["models"].items():
        table.add_row(
            name,
            *(f"{block[f'{m}_mean']:.3f} ± {block[f'{m}_sd']:.3f}" for m in ("auc", "ks", "gini")),
        )
    console.print(table)
    console.print(f"features ({len(manifest['features'])}): {', '.join(manifest['features'])}", markup=False)
    console.print(f"protected (fairness only): {', '.join(manifest['protected']) or 'none'}", markup=False)
    for attribute in metrics["fairness"]["attributes"]:
        ratio = attribute["min_approval_ratio"]
        console.print(
            f"  {attribute['attribute']}: lowest approval ratio {'—' if ratio is None else f'{ratio:.2f}'}",
            markup=False,
        )
    for entry in metrics.get("fairness_remedies", {}).get("attributes", []):
        before = entry["before"]["min_approval_ratio"]
        for remedy in entry["remedies"]:
            after, cost = remedy["after"]["min_approval_ratio"], remedy["auc_cost"]
            console.print(
                f"  remedy for {entry['attribute']}, {remedy['remedy']}: lowest approval ratio "
                f"{'—' if before is None else f'{before:.2f}'} → {'—' if after is None else f'{after:.2f}'}, "
                f"AUC cost {'—' if cost is None else f'{cost:+.3f}'}",
                markup=False,
            )
    console.print(f"version {summary['version']} → {summary['out']}", markup=False)


@app.command("datasets")
def datasets(
    out: Annotated[Path, typer.Option("--out", help="Folder for the CSV files")],
    as_json: JsonOpt = False,
) -> None:
    """Export the German credit (UCI, CC BY 4.0) and CreditScoring (modeldata, MIT) demo sets as CSV."""
    from xiaodai.underwriting.datasets import DEMO_DATASETS, export_demo_data

    try:
        written = export_demo_data(out)
    except OSError as exc:
        fail(f"cannot write to {out}: {exc.strerror or exc}")
    specs = {spec.name: spec for spec in DEMO_DATASETS}
    payload = {
        name: {
            "path": str(path),
            "target": specs[name].target,
            "bad": specs[name].bad_value,
            "licence": specs[name].licence,
        }
        for name, path in written.items()
    }
    if as_json:
        sys.stdout.write(json.dumps(payload, ensure_ascii=False) + "\n")
        return
    for item in payload.values():
        typer.echo(f"{item['path']}  (--target {item['target']} --bad {item['bad']}; {item['licence']})")


BUILTIN = ("german_credit", "credit_scoring", "lending_club")


@app.command("compare")
def compare(
    data: Annotated[Path | None, typer.Option("--data", help="CSV or Parquet file, one row per loan")] = None,
    dataset: Annotated[
        str | None,
        typer.Option("--dataset", help="A bundled public set instead of --data: " + ", ".join(BUILTIN)),
    ] = None,
    target: Annotated[str | None, typer.Option("--target", help="Outcome column")] = None,
    bad: Annotated[str | None, typer.Option("--bad", help="Value of the outcome that means default")] = None,
    split: Annotated[
        str, typer.Option("--split", help="out_of_time (last rows by --order-by or file order) or stratified")
    ] = "out_of_time",
    share: Annotated[float, typer.Option("--holdout-share", help="Share of rows held out")] = 0.3,
    order_by: Annotated[
        str | None, typer.Option("--order-by", help="Application date (or increasing number) column")
    ] = None,
    policy_file: Annotated[
        Path | None, typer.Option("--policy", help="Promotion policy JSON (default: the shipped one)")
    ] = None,
    untuned: Annotated[
        bool, typer.Option("--untuned", help="Challenger with the old fixed settings (no search)")
    ] = False,
    exclude: Annotated[
        str | None, typer.Option("--exclude", help="Columns never used, comma-separated")
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="Random seed (split, tuning, LightGBM)")] = 42,
    out: Annotated[Path | None, typer.Option("--out", help="Write the evidence as JSON here")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Champion scorecard vs LightGBM challenger on held-out rows; promote only by the risk team's policy.

    Exit 0: the challenger would be promoted; 1: refused (reason codes printed); 2: bad input.
    """
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    from xiaodai.underwriting import datasets as builtin
    from xiaodai.underwriting.promotion import PolicyError, default_promotion_policy, parse_promotion_policy
    from xiaodai.underwriting.training import TrainingConfig, TrainingError, read_table
    from xiaodai.underwriting.training_holdout import HoldoutSpec, evaluate_holdout

    if (data is None) == (dataset is None):
        fail("give exactly one of --data FILE or --dataset NAME")
    try:
        policy = (
            default_promotion_policy()
            if policy_file is None
            else parse_promotion_policy(json.loads(policy_file.read_text(encoding="utf-8")))
        )
    except OSError as exc:
        fail(f"cannot read {policy_file}: {exc.strerror or exc}")
    except (json.JSONDecodeError, PolicyError) as exc:
        fail(f"{policy_file}: {exc}")
    specs = {spec.name: spec for spec in (*builtin.DEMO_DATASETS, builtin.LENDING_CLUB)}
    try:
        if dataset is not None:
            if dataset not in BUILTIN:
                fail(f"--dataset must be one of {', '.join(BUILTIN)}, not {dataset!r}")
            frame = getattr(builtin, dataset)()
            target = target or specs[dataset].target
            bad = bad if bad is not None else specs[dataset].bad_value
            source = dataset
        else:
            assert data is not None
            frame = read_table(data)
            source = str(data)
        if not target or bad is None:
            fail("--target and --bad are required with --data")
        config = TrainingConfig(
            target=target, bad_value=bad, exclude=_names(exclude), seed=seed, tune=not untuned
        )
        with Console(stderr=True).status("fitting both models on the development rows…"):
            result = evaluate_holdout(frame, config, HoldoutSpec(split, share, order_by), policy)
    except TrainingError as exc:
        fail(str(exc))
    payload = {"source": source, "policy_version": policy.version, "tuned": not untuned, **result.to_json()}
    if out is not None:
        try:
            out.write_text(json.dumps(payload, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        except OSError as exc:
            fail(f"cannot write {out}: {exc.strerror or exc}")
    if as_json:
        sys.stdout.write(json.dumps(payload, ensure_ascii=False) + "\n")
    else:
        _render_compare(payload)
    raise typer.Exit(0 if result.verdict.promote else 1)


def _render_compare(payload: dict[str, Any]) -> None:
    console = Console()
    rows = payload["rows"]
    console.print(f"{payload['source']}: {payload['basis']}", markup=False)
    console.print(
        f"development {rows['development']} rows, test {rows['test']} rows ({rows['test_bads']} bad); "
        f"challenger {'tuned' if payload['tuned'] else 'untuned (fixed settings)'}",
        markup=False,
    )
    table = Table(title="held-out evidence")
    for column in ("model", "AUC", "KS", "calibration error", "lowest approval ratio"):
        table.add_column(column, justify="left" if column == "model" else "right")
    for key, role in (("scorecard", "champion"), ("lightgbm", "challenger")):
        block, evidence = payload["models"][key], payload["evidence"][role]
        ratio = evidence["min_approval_ratio"]
        table.add_row(
            f"{key} ({role})",
            f"{block['auc']:.3f}",
            f"{block['ks']:.3f}",
            f"{block['calibration_error']:.3f}",
            "—" if ratio is None else f"{ratio:.2f}",
        )
    console.print(table)
    for sample in payload["explainability"]["sample_reasons"]:
        reasons = "; ".join(
            f"{r['label_en']} / {r['label_zh']} (+{r['contribution']:.2f})" for r in sample["reasons"]
        )
        console.print(f"  row {sample['row']} PD {sample['pd']:.3f}: {reasons}", markup=False)
    verdict = payload["verdict"]
    word = "PROMOTE" if verdict["promote"] else "REFUSED"
    console.print(
        f"{word} (policy {payload['policy_version']}; AUC gain {verdict['auc_gain']:+.3f}): "
        f"{', '.join(verdict['reasons'])}",
        markup=False,
    )
