"""`xiaodai conformance run`: exit 0 all passed, 1 any failed or not evaluated, 2 not a scenario file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from xiaodai.cli.main import app

runner = CliRunner()
SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "conformance" / "conduct_dev.json"
DEV = (
    SHARED
    if SHARED.exists()
    else Path(__file__).resolve().parents[1] / "golden" / "complaints" / "conduct_dev.json"
)

GOOD = {
    "id": "DP-1",
    "profile": "CN",
    "suite": "data_protection",
    "given": {"app": {"platform": "android", "flow": "loan_application"}},
    "when": {"action": "request_permission", "permission": "READ_CONTACTS"},
    "expect": {"decision": "block", "reason": "CONTACTS_HARVEST"},
}
WRONG = {**GOOD, "id": "DP-2", "expect": {"decision": "allow"}}
UNKNOWN_ACTION = {**GOOD, "id": "DP-3", "when": {"action": "sell_data"}}
UNCHECKED = {k: v for k, v in GOOD.items() if k != "expect"} | {"id": "DP-4"}


def write(tmp_path: Path, document: Any, name: str = "scenarios.json") -> Path:
    path = tmp_path / name
    path.write_text(document if isinstance(document, str) else json.dumps(document), encoding="utf-8")
    return path


def run(path: Path, *extra: str) -> Any:
    return runner.invoke(app, ["conformance", "run", str(path), *extra])


def lines(stdout: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]


def test_all_passed_exits_0(tmp_path: Path) -> None:
    result = run(write(tmp_path, {"scenarios": [GOOD, UNCHECKED]}))
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1] == "1 passed, 0 failed"
    assert [line["pass"] for line in lines(result.stdout)] == [True, None]


def test_a_failed_expectation_exits_1(tmp_path: Path) -> None:
    result = run(write(tmp_path, {"scenarios": [GOOD, WRONG]}))
    assert result.exit_code == 1
    assert result.stdout.splitlines()[-1] == "1 passed, 1 failed"


def test_an_error_line_exits_1_and_every_other_scenario_still_runs(tmp_path: Path) -> None:
    result = run(write(tmp_path, {"scenarios": [UNKNOWN_ACTION, GOOD, UNCHECKED]}), "--json")
    assert result.exit_code == 1
    out = lines(result.stdout)
    assert [line.get("id") for line in out[:3]] == ["DP-3", "DP-1", "DP-4"]
    assert out[0]["decision"] == "error"
    assert out[0]["pass"] is False
    assert "unknown data_protection action 'sell_data' in when.action" in out[0]["reason"]
    assert out[3] == {"passed": 1, "failed": 0, "errors": 1, "warnings": 0, "unchecked": 1}
    assert result.stdout.splitlines()[-1] == "1 passed, 0 failed, 1 not evaluated (decision error)"


def test_an_error_without_expect_still_exits_1(tmp_path: Path) -> None:
    bad = {k: v for k, v in UNKNOWN_ACTION.items() if k != "expect"}
    assert run(write(tmp_path, {"scenarios": [GOOD, bad]})).exit_code == 1


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "is not valid JSON"),
        ("[]", "expected a JSON object with a 'scenarios' list"),
        ('{"scenarios": {"a": 1}}', "expected a JSON object with a 'scenarios' list"),
        ('{"cases": []}', "expected a JSON object with a 'scenarios' list"),
        ("", "is not valid JSON"),
    ],
)
def test_a_file_that_is_not_a_scenario_file_exits_2_with_one_error_line(
    tmp_path: Path, content: str, message: str
) -> None:
    result = run(write(tmp_path, content))
    assert result.exit_code == 2
    assert message in result.stderr
    assert result.stderr.startswith("xiaodai: error: ")
    assert result.stderr.count("\n") == 1
    assert result.stdout == ""


def test_a_missing_or_binary_file_exits_2(tmp_path: Path) -> None:
    missing = run(tmp_path / "nope.json")
    assert (missing.exit_code, "cannot read" in missing.stderr) == (2, True)
    binary = tmp_path / "binary.json"
    binary.write_bytes(b"\xff\xfe\x00\x81")
    result = run(binary)
    assert (result.exit_code, "not UTF-8" in result.stderr) == (2, True)


def _subprocess(path: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    return subprocess.run(
        [sys.executable, "-m", "xiaodai.cli.main", "conformance", "run", str(path)],
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )


def test_the_console_command_exit_codes(tmp_path: Path) -> None:
    """The real process: 0, 1 and 2, and no traceback for a bad scenario or a bad file."""
    ok = _subprocess(write(tmp_path, {"scenarios": [GOOD]}, "ok.json"))
    mixed = _subprocess(write(tmp_path, {"scenarios": [GOOD, UNKNOWN_ACTION, "junk"]}, "mixed.json"))
    broken = _subprocess(write(tmp_path, '{"scenarios": [', "broken.json"))
    assert (ok.returncode, mixed.returncode, broken.returncode) == (0, 1, 2)
    assert len(lines(mixed.stdout)) == 3
    for proc in (ok, mixed, broken):
        assert "Traceback" not in proc.stderr + proc.stdout


def test_the_dev_sample_passes() -> None:
    result = run(DEV)
    assert result.exit_code == 0, result.stdout
    assert all(line["decision"] != "error" for line in lines(result.stdout))
