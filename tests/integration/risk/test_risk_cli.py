"""`xiaodai simulate book` and `xiaodai risk report` on a simulated book: contracts, exit codes, Dask."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from xiaodai.cli.main import app


def run(*args: str, code: int = 0):
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == code, (result.stdout, result.stderr)
    return result


@pytest.fixture(scope="module")
def book(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("book")
    run(
        "simulate",
        "book",
        "--borrowers",
        "1200",
        "--months",
        "10",
        "--seed",
        "11",
        "--out",
        str(out),
        "--json",
    )
    return out


def test_simulated_book_layout(book: Path) -> None:
    manifest = json.loads((book / "manifest.json").read_text())
    assert manifest["loans"] == 1200
    assert manifest["seed"] == 11
    panel = pl.read_parquet(book / "panel" / "*.parquet")
    assert panel.height == manifest["rows"]
    assert pl.read_parquet(book / "originations.parquet").height == 10


def test_same_seed_writes_the_same_panel(book: Path, tmp_path: Path) -> None:
    run("simulate", "book", "--borrowers", "1200", "--months", "10", "--seed", "11", "--out", str(tmp_path))
    first = pl.read_parquet(book / "panel" / "*.parquet")
    assert first.equals(pl.read_parquet(tmp_path / "panel" / "*.parquet"))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--borrowers", "0", "--months", "3"], "--borrowers"),
        (["--borrowers", "10", "--months", "0"], "--months"),
        (["--borrowers", "10", "--months", "121"], "--months"),
        (["--borrowers", "10", "--months", "3", "--engine", "spark"], "--engine"),
        (["--borrowers", "10", "--months", "3", "--start", "2025-02-30"], "--start"),
        (["--borrowers", "10", "--months", "3", "--seed", "-1"], "--seed"),
    ],
)
def test_simulate_bad_input_exits_2(tmp_path: Path, args: list[str], message: str) -> None:
    result = run("simulate", "book", *args, "--out", str(tmp_path / "o"), code=2)
    assert message in result.stderr


def test_simulate_refuses_to_overwrite_a_book(book: Path) -> None:
    result = run("simulate", "book", "--borrowers", "10", "--months", "3", "--out", str(book), code=2)
    assert "already holds a panel" in result.stderr


def test_report_json_contract(book: Path) -> None:
    payload = json.loads(run("risk", "report", "--as-of", "2025-10-31", "--data", str(book)).stdout)
    assert {"vintages", "roll_rates", "ecl", "stress"} <= set(payload)
    ecl = payload["ecl"]
    for key in ("stage1", "stage2", "stage3", "total"):
        assert isinstance(ecl[key], str)
        assert len(ecl[key].split(".")[1]) == 2
    from decimal import Decimal

    assert Decimal(ecl["stage1"]) + Decimal(ecl["stage2"]) + Decimal(ecl["stage3"]) == Decimal(ecl["total"])
    names = [s["scenario"] for s in payload["stress"]]
    assert names[0] == "base"
    severe = next(s for s in payload["stress"] if s["scenario"] == "severe")
    assert Decimal(severe["total"]) > Decimal(ecl["total"])


def test_report_html_has_inline_charts_in_both_languages(book: Path, tmp_path: Path) -> None:
    for lang, word in (("zh", "预期信用损失"), ("en", "Expected credit loss")):
        out = tmp_path / f"r-{lang}.html"
        run(
            "risk",
            "report",
            "--as-of",
            "2025-10-31",
            "--data",
            str(book),
            "--format",
            "html",
            "--lang",
            lang,
            "--out",
            str(out),
        )
        html = out.read_text(encoding="utf-8")
        assert word in html
        assert html.count("<svg") >= 4
        assert "<script" not in html
        assert "cdn" not in html.lower()


def test_report_csv_writes_one_file_per_table(book: Path, tmp_path: Path) -> None:
    run(
        "risk",
        "report",
        "--as-of",
        "2025-10-31",
        "--data",
        str(book),
        "--format",
        "csv",
        "--out",
        str(tmp_path),
    )
    ecl = pl.read_csv(tmp_path / "ecl.csv", infer_schema=False)
    assert ecl.columns[:3] == ["stage", "loans", "exposure"]
    assert (tmp_path / "roll_rates.csv").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--as-of", "2025-13-01"], "--as-of"),
        (["--as-of", "2025-10-31", "--format", "xml"], "--format"),
        (["--as-of", "2025-10-31", "--engine", "spark"], "--engine"),
        (["--as-of", "2025-10-31", "--scheduler", "tcp://127.0.0.1:1"], "--scheduler needs --engine dask"),
        (["--as-of", "2025-10-31", "--format", "csv"], "--out DIR"),
        (["--as-of", "2025-10-31", "--lang", "fr"], "--lang"),
    ],
)
def test_report_bad_input_exits_2(book: Path, args: list[str], message: str) -> None:
    result = run("risk", "report", "--data", str(book), *args, code=2)
    assert message in result.stderr


def test_report_missing_data_and_bad_scenarios(book: Path, tmp_path: Path) -> None:
    assert (
        "does not exist"
        in run("risk", "report", "--as-of", "2025-10-31", "--data", str(tmp_path / "x"), code=2).stderr
    )
    (tmp_path / "empty").mkdir()
    assert (
        "no Parquet panel"
        in run("risk", "report", "--as-of", "2025-10-31", "--data", str(tmp_path / "empty"), code=2).stderr
    )
    bad = tmp_path / "s.json"
    bad.write_text('{"scenarios": [{"name": "x", "pd_multiplier": "-1"}]}')
    assert (
        "pd_multiplier"
        in run(
            "risk", "report", "--as-of", "2025-10-31", "--data", str(book), "--scenarios", str(bad), code=2
        ).stderr
    )


def test_dask_engine_gives_the_local_results(book: Path) -> None:
    """Two LocalCluster workers over loan-id ranges: every figure identical to the local engine."""
    local = json.loads(run("risk", "report", "--as-of", "2025-10-31", "--data", str(book)).stdout)
    dask = json.loads(
        run(
            "risk",
            "report",
            "--as-of",
            "2025-10-31",
            "--data",
            str(book),
            "--engine",
            "dask",
            "--workers",
            "2",
        ).stdout
    )
    assert dask.pop("engine") == "dask"
    assert local.pop("engine") == "local"
    assert dask == local


def test_dask_simulation_writes_the_local_panel(tmp_path: Path) -> None:
    """The same seed on two LocalCluster workers (three borrower-id ranges) and in one process: the same
    panel row for row, and the same originations."""
    common = ["--borrowers", "900", "--months", "7", "--seed", "4", "--block-size", "128", "--json"]
    local = json.loads(run("simulate", "book", *common, "--out", str(tmp_path / "l")).stdout)
    split = json.loads(
        run("simulate", "book", *common, "--partitions", "3", "--out", str(tmp_path / "p")).stdout
    )
    dask = json.loads(
        run(
            "simulate",
            "book",
            *common,
            "--engine",
            "dask",
            "--workers",
            "2",
            "--partitions",
            "3",
            "--out",
            str(tmp_path / "d"),
        ).stdout
    )
    assert dask["engine"] == "dask"
    assert dask["rows"] == local["rows"] == split["rows"]
    assert dask["loans"] == 900
    panels = [
        pl.read_parquet(tmp_path / name / "panel" / "*.parquet").sort("loan_id", "month") for name in "lpd"
    ]
    assert panels[0].height == local["rows"]
    assert panels[0].equals(panels[1])
    assert panels[0].equals(panels[2])
    files = sorted(p.name for p in (tmp_path / "d" / "panel").iterdir())
    assert files[0].startswith("part-000000000001-")  # files named by borrower-id range
    assert len({name.split("-")[1] for name in files}) == 3
    originations = [pl.read_parquet(tmp_path / name / "originations.parquet") for name in "lpd"]
    assert originations[0].equals(originations[1])
    assert originations[0].equals(originations[2])


def test_simulate_dask_bad_input(tmp_path: Path) -> None:
    base = ["simulate", "book", "--borrowers", "10", "--months", "3", "--out", str(tmp_path / "o")]
    assert "--scheduler needs --engine dask" in run(*base, "--scheduler", "tcp://127.0.0.1:1", code=2).stderr
    assert "--workers" in run(*base, "--engine", "dask", "--workers", "0", code=2).stderr
    assert "--partitions" in run(*base, "--partitions", "-1", code=2).stderr
    assert "--block-size" in run(*base, "--block-size", "0", code=2).stderr
