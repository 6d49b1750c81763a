"""``xiaodai conformance run FILE.json [--json]``: regression-test policy engines against scenario files."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from xiaodai.cli.errors import fail
from xiaodai.conformance.runner import ConformanceError, run_document

app = typer.Typer(
    help="Policy test harness (contact, message, credit reporting, complaint SLA, data).",
    no_args_is_help=True,
)


@app.command("run")
def run(
    file: Path, as_json: Annotated[bool, typer.Option("--json", help="Summary as JSON too")] = False
) -> None:
    """One JSON line per scenario, then `N passed, N failed`; exit 1 on any (non-warning) failure."""
    try:
        document = json.loads(file.read_text(encoding="utf-8"))
    except OSError as exc:
        fail(f"cannot read {file}: {exc.strerror}")
    except json.JSONDecodeError as exc:
        fail(f"{file} is not valid JSON: {exc.msg} at line {exc.lineno}")
    try:
        outcomes = run_document(document)
    except ConformanceError as exc:
        fail(str(exc))
    passed = failed = warnings = unchecked = 0
    for outcome in outcomes:
        sys.stdout.write(json.dumps(outcome.line, ensure_ascii=False, default=str) + "\n")
        if outcome.passed is None:
            unchecked += 1
        elif outcome.passed:
            passed += 1
        elif outcome.warning:
            warnings += 1
        else:
            failed += 1
    if as_json:
        sys.stdout.write(
            json.dumps({"passed": passed, "failed": failed, "warnings": warnings, "unchecked": unchecked})
            + "\n"
        )
    if warnings:
        sys.stdout.write(f"warnings (low-confidence scenarios that disagree): {warnings}\n")
    sys.stdout.write(f"{passed} passed, {failed} failed\n")
    if failed:
        raise typer.Exit(1)
