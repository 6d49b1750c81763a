"""Bad input: one clear error line, exit code 2, nothing on stdout."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from xiaodai.cli.main import app

runner = CliRunner()
BASE = ["quote", "--principal", "10000", "--term", "12", "--annual-rate", "0.15", "--start", "2026-01-10"]


def swap(args: list[str], flag: str, value: str) -> list[str]:
    out = list(args)
    out[out.index(flag) + 1] = value
    return out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (swap(BASE, "--principal", "-100"), "principal"),
        (swap(BASE, "--principal", "abc"), "principal"),
        (swap(BASE, "--term", "0"), "term"),
        (swap(BASE, "--term", "x"), "term"),
        ([*BASE, "--method", "balloon"], "unknown method"),
        (swap(BASE, "--start", "2026-13-01"), "not a date"),
        ([*BASE, "--first-due", "2025-12-01"], "first due date"),
        ([*BASE, "--cap", "nope"], "unknown cap profile"),
        (swap(BASE, "--principal", "100000"), "outside product"),
        (swap(BASE, "--term", "36"), "outside product"),
        (swap(BASE, "--annual-rate", "15"), "fraction"),
        ([*BASE, "--lang", "fr"], "zh or en"),
        (["quote", "--principal", "1000", "--term", "6", "--method", "flat-fee"], "monthly fee rate"),
    ],
)
def test_quote_bad_input(args: list[str], message: str) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert result.stderr.count("\n") == 1
    assert result.stdout == ""


@pytest.mark.parametrize(
    ("stdin", "message"),
    [
        ("not json", "not valid JSON"),
        ('{"flows": []}', "non-empty"),
        (
            '{"flows": [{"date": "2026-01-10", "amount": "100"}, {"date": "2026-02-10", "amount": "5"}]}',
            "no sign change",
        ),
        ('{"flows": [{"date": "10/01/2026", "amount": "-100"}]}', "unparseable date"),
        ('{"flows": [{"date": "2026-01-10", "amount": "x"}]}', "bad amount"),
    ],
)
def test_apr_bad_input(stdin: str, message: str) -> None:
    result = runner.invoke(app, ["apr", "--convention", "cn", "--json"], input=stdin)
    assert result.exit_code == 2, result.output
    assert message in result.stderr


def test_apr_unknown_convention() -> None:
    result = runner.invoke(app, ["apr", "--convention", "xx"], input="{}")
    assert result.exit_code == 2
    assert "unknown convention" in result.stderr


def test_over_cap_is_refused_with_verdict() -> None:
    result = runner.invoke(app, [*swap(BASE, "--annual-rate", "0.30"), "--cap", "cn-consumer-24", "--json"])
    assert result.exit_code == 1
    payload = json.loads(result.stdout)
    assert payload["cap"]["reason"] == "CAP_EXCEEDED"
    assert payload["cap"]["allowed"] is False
    assert "schedule" not in payload


def test_within_cap_reports_verdict() -> None:
    result = runner.invoke(app, [*BASE, "--cap", "cn-consumer-24", "--json"])
    assert result.exit_code == 0
    assert json.loads(result.stdout)["cap"]["reason"] == "CAP_WITHIN_LIMIT"


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_readable_output_in_both_languages(lang: str) -> None:
    result = runner.invoke(app, [*BASE, "--lang", lang, "--upfront-fee", "300"])
    assert result.exit_code == 0
    assert ("年化利率" if lang == "zh" else "Annual percentage rate") in result.stdout
    out = result.stdout
    # the all-in IRR rate comes first, before the nominal rate or any other figure
    assert "20.87%" in out
    assert out.index("20.87%") < out.index("15%")
    assert out.index("20.87%") < out.index("9,700.00")
    assert "300.00" in out


def test_console_script_runs() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "xiaodai.cli.main", *BASE, "--json"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["apr_percent_2dp"] == "15.00"


def test_a_recorded_contact_cannot_name_its_own_moment() -> None:
    """`--at` is for previews: a recorded attempt is judged at the clock (hours, frequency, holds)."""
    attempt = json.dumps({"action": "contact", "channel": "call", "target": {"type": "borrower"}})
    result = runner.invoke(
        app, ["collections", "contact", "1", "--at", "2026-03-10T10:00:00+08:00"], input=attempt
    )
    assert result.exit_code == 2
    assert "--preview only" in result.output
