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
    help="Policy test harness (contact, message, credit reporting, complaint SLA, data; APR vectors).",
    no_args_is_help=True,
)


@app.command("run")
def run(
    file: Path, as_json: Annotated[bool, typer.Option("--json", help="Summary as JSON too")] = False
) -> None:
    """One JSON line per scenario (or APR vector), then the totals. Exit 0 when every checked scenario
    passed, 1 when any failed or could not be evaluated (its line says ``"decision": "error"`` and why), 2
    when FILE is not a readable JSON object with a ``scenarios`` (or ``vectors``) list."""
    try:
        document = json.loads(file.read_text(encoding="utf-8"))
    except OSError as exc:
        fail(f"cannot read {file}: {exc.strerror or exc}")
    except UnicodeDecodeError:
        fail(f"{file} is not UTF-8 text")
    except json.JSONDecodeError as exc:
        fail(f"{file} is not valid JSON: {exc.msg} at line {exc.lineno}")
    try:
        outcomes = run_document(document)
    except ConformanceError as exc:
        fail(f"{file}: {exc}")
    passed = failed = warnings = unchecked = errors = 0
    for outcome in outcomes:
        sys.stdout.write(json.dumps(outcome.line, ensure_ascii=False, default=str) + "\n")
        if outcome.error:
            errors += 1
        elif outcome.passed is None:
            unchecked += 1
        elif outcome.passed:
            passed += 1
        elif outcome.warning:
            warnings += 1
        else:
            failed += 1
    if as_json:
        summary = {
            "passed": passed,
            "failed": failed,
            "errors": errors,
            "warnings": warnings,
            "unchecked": unchecked,
        }
        sys.stdout.write(json.dumps(summary) + "\n")
    if warnings:
        sys.stdout.write(f"warnings (low-confidence scenarios that disagree): {warnings}\n")
    not_evaluated = f", {errors} not evaluated (decision error)" if errors else ""
    sys.stdout.write(f"{passed} passed, {failed} failed{not_evaluated}\n")
    if failed or errors:
        raise typer.Exit(1)
