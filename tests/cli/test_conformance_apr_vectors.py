"""``xiaodai conformance run`` on APR and schedule reference vectors (``apr_dev.json``'s format): every vector
judged through the pricing engine on what it states; a wrong expectation fails its own line, a vector the
runner cannot evaluate gets an error line, and the other vectors still run."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from xiaodai.cli.main import app

DEV = Path(__file__).resolve().parents[1] / "golden" / "pricing" / "apr_dev.json"
runner = CliRunner()


def run(tmp_path: Path, document: dict[str, Any]) -> tuple[int, list[dict[str, Any]], str]:
    path = tmp_path / "vectors.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    result = runner.invoke(app, ["conformance", "run", str(path)])
    lines = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    return result.exit_code, lines, result.stdout


def test_the_development_vectors_all_pass(tmp_path: Path) -> None:
    document = json.loads(DEV.read_text(encoding="utf-8"))
    code, lines, out = run(tmp_path, document)
    assert code == 0, out
    assert [line["id"] for line in lines] == [v["id"] for v in document["vectors"]]
    assert all(line["pass"] is True for line in lines)
    quoted = [line for line in lines if line["checks"] > 30]  # schedules compared row by row
    assert len(quoted) == 7
    assert out.rstrip().endswith(f"{len(lines)} passed, 0 failed")


def test_a_wrong_expectation_fails_its_own_line(tmp_path: Path) -> None:
    document = json.loads(DEV.read_text(encoding="utf-8"))
    wrong = copy.deepcopy(document)
    cn = next(v for v in wrong["vectors"] if v["id"] == "cn-ei-12m")
    cn["expected"]["apr_percent"] = float(cn["expected"]["apr_percent"]) + 0.5
    cn["expected"]["schedule_last_row"]["interest"] = "999.99"
    code, lines, _ = run(tmp_path, wrong)
    assert code == 1
    line = next(x for x in lines if x["id"] == "cn-ei-12m")
    assert line["pass"] is False
    names = {f["check"] for f in line["failed"]}
    assert "apr_percent" in names
    assert any(n.endswith(".interest") for n in names)
    assert all(x["pass"] is True for x in lines if x["id"] != "cn-ei-12m")


def test_a_vector_that_cannot_be_evaluated_is_an_error_line_and_the_rest_run(tmp_path: Path) -> None:
    document = json.loads(DEV.read_text(encoding="utf-8"))
    odd = copy.deepcopy(document["vectors"][0])
    odd["id"], odd["convention"] = "odd-convention", "XX-UNKNOWN"
    missing = copy.deepcopy(document["vectors"][1])
    missing["id"] = "no-flows"
    del missing["cash_flows"]
    code, lines, out = run(tmp_path, {**document, "vectors": [odd, *document["vectors"], missing]})
    assert code == 1
    assert lines[0] == {
        "id": "odd-convention",
        "decision": "error",
        "reason": "unknown convention 'XX-UNKNOWN'",
        "pass": False,
    }
    assert lines[-1]["decision"] == "error"
    assert "cash_flows" in lines[-1]["reason"]
    assert all(x["pass"] is True for x in lines[1:-1])
    assert "2 not evaluated" in out


def test_a_file_of_neither_format_is_refused(tmp_path: Path) -> None:
    code, _, _ = run(tmp_path, {"title": "nothing to run"})
    assert code == 2


def test_a_product_the_engine_refuses_is_an_error_line(tmp_path: Path) -> None:
    document = json.loads(DEV.read_text(encoding="utf-8"))
    refused = copy.deepcopy(next(v for v in document["vectors"] if v["id"] == "cn-ei-12m"))
    refused["id"] = "term-not-a-number"
    refused["product"]["term_months"] = "twelve"
    code, lines, _ = run(tmp_path, {**document, "vectors": [refused, document["vectors"][0]]})
    assert code == 1
    assert lines[0]["decision"] == "error"
    assert lines[0]["reason"].startswith("the product's terms were refused")
    assert lines[1]["pass"] is True
