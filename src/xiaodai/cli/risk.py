"""``xiaodai risk report`` and ``xiaodai risk export``."""

from __future__ import annotations

import json
import sys
import tempfile
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from xiaodai.cli.errors import fail
from xiaodai.cli.shell import parse_day

if TYPE_CHECKING:
    from xiaodai.risk.ecl import Scenario
    from xiaodai.risk.report import ReportTables

app = typer.Typer(help="Portfolio risk: vintages, roll rates, ECL, stress.", no_args_is_help=True)

FORMATS = ("json", "csv", "html")
ENGINES = ("local", "dask")


@app.command("report")
def report(
    as_of: Annotated[str, typer.Option("--as-of", help="Report date, YYYY-MM-DD (its month end)")],
    data: Annotated[
        Path | None,
        typer.Option("--data", help="A simulated book or exported Parquet panel (default: the DB)"),
    ] = None,
    format_: Annotated[str, typer.Option("--format", help="html | json | csv")] = "json",
    out: Annotated[Path | None, typer.Option("--out", help="File (html/json) or directory (csv)")] = None,
    engine: Annotated[str, typer.Option("--engine", help="local | dask")] = "local",
    scheduler: Annotated[
        str | None, typer.Option("--scheduler", help="Dask scheduler tcp://HOST:PORT")
    ] = None,
    workers: Annotated[int, typer.Option("--workers", help="LocalCluster workers when no --scheduler")] = 2,
    scenarios: Annotated[Path | None, typer.Option("--scenarios", help="Stress scenarios JSON")] = None,
    lang: Annotated[str, typer.Option("--lang", help="zh | en (html)")] = "zh",
) -> None:
    """Vintages, roll rates, IFRS 9 ECL by stage, CECL, stress, concentration, early warning, backtest."""
    from xiaodai.risk.panel import PanelError
    from xiaodai.risk.stress import ScenarioError, default_scenarios, parse_scenarios

    day = parse_day(as_of, "--as-of")
    if format_ not in FORMATS:
        fail(f"--format must be one of {', '.join(FORMATS)}")
    if engine not in ENGINES:
        fail(f"--engine must be one of {', '.join(ENGINES)}")
    if scheduler and engine != "dask":
        fail("--scheduler needs --engine dask")
    if lang not in ("zh", "en"):
        fail("--lang must be zh or en")
    if format_ == "csv" and out is None:
        fail("--format csv writes one file per table: give --out DIR")
    if data is not None and not data.exists():
        fail(f"--data {data} does not exist")
    try:
        chosen = parse_scenarios(scenarios.read_text(encoding="utf-8")) if scenarios else default_scenarios()
    except OSError as exc:
        fail(f"--scenarios: {exc}")
    except ScenarioError as exc:
        fail(f"--scenarios: {exc}")

    with tempfile.TemporaryDirectory(prefix="xiaodai-risk-") as tmp:
        source = str(data) if data is not None else "database"
        if data is None:
            from xiaodai.cli.shell import engine as db_engine
            from xiaodai.risk.export import export_panel

            data = Path(tmp) / "panel"
            export_panel(db_engine(), data, as_of=day)
        try:
            tables = _tables(data, day, engine, scheduler, workers, chosen)
        except PanelError as exc:
            fail(str(exc))
        _emit(tables, day, engine, source, format_, out, lang)


def _tables(
    data: Path, day: date, engine: str, scheduler: str | None, workers: int, scenarios: tuple[Scenario, ...]
) -> ReportTables:
    from xiaodai.risk.engines.local import LocalEngine, scan_panel
    from xiaodai.risk.report import ReportOptions, build_tables

    options = ReportOptions(as_of=day, scenarios=scenarios)
    if engine == "local":
        return build_tables(LocalEngine(scan_panel(data)), options)
    from xiaodai.risk.engines.dask import DaskEngine

    if workers < 1:
        fail("--workers must be at least 1")
    try:
        runner = DaskEngine(data, scheduler=scheduler, workers=workers)
    except ImportError:
        fail("--engine dask needs Dask: pip install 'xiaodai[risk-cluster]'")
    except OSError as exc:
        fail(f"cannot reach the Dask scheduler {scheduler}: {exc}")
    try:
        return build_tables(runner, options)
    finally:
        runner.close()


def _emit(
    tables: ReportTables, day: date, engine: str, source: str, format_: str, out: Path | None, lang: str
) -> None:
    from xiaodai.risk.report import csv_tables, to_json

    if format_ == "csv":
        assert out is not None
        out.mkdir(parents=True, exist_ok=True)
        for name, frame in csv_tables(tables).items():
            frame.write_csv(out / f"{name}.csv")
        sys.stdout.write(f"{out}\n")
        return
    payload = to_json(tables, as_of=day, engine=engine, source=source)
    if format_ == "json":
        text = json.dumps(payload, ensure_ascii=False) + "\n"
    else:
        from xiaodai.risk.report_html import render_html

        text = render_html(payload, lang=lang)
    if out is None:
        sys.stdout.write(text)
    else:
        out.write_text(text, encoding="utf-8")


@app.command("export")
def export(
    out: Annotated[Path, typer.Option("--out", help="Directory for the Parquet panel")],
    as_of: Annotated[str, typer.Option("--as-of", help="Last month end, YYYY-MM-DD")],
    chunk: Annotated[int, typer.Option("--chunk", help="Loans per Parquet file (loan-id range)")] = 50_000,
) -> None:
    """Export the loans and instalments tables to a loan-month Parquet panel, one file per loan-id range."""
    from xiaodai.cli.shell import engine as db_engine
    from xiaodai.risk.export import export_panel

    day = parse_day(as_of, "--as-of")
    if chunk < 1:
        fail("--chunk must be at least 1")
    result = export_panel(db_engine(), out, as_of=day, chunk=chunk)
    sys.stdout.write(json.dumps(result) + "\n")
