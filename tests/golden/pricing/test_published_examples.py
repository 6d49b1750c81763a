"""Every published worked example in ``published_examples.json``, through the public ``xiaodai apr`` CLI.

Each published figure must equal our unrounded rate rounded half-up to the figure's own decimals (an exact
string compare: 9.69 is checked at 2 dp, the Commission's 6.434412 at 6 dp). An example given with its
dates is run twice: from the positions the regulation states (t, f) and from the dates, where the unit-period
must also be detected as the example states it.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from xiaodai.cli.main import app
from xiaodai.money.dates import add_half_months, add_months

DOC = json.loads((Path(__file__).parent / "published_examples.json").read_text(encoding="utf-8"))
EXAMPLES: list[dict[str, Any]] = DOC["examples"]
runner = CliRunner()

CONVENTION_KEYS = {"us-regz": "apr_percent", "cn": "apr_percent", "eu": "aprc_x_percent"}


def run(convention: str, document: dict[str, Any], *extra: str) -> dict[str, Any]:
    result = runner.invoke(
        app, ["apr", "--convention", convention, "--json", *extra], input=json.dumps(document)
    )
    assert result.exit_code == 0, result.output
    out: dict[str, Any] = json.loads(result.stdout)
    return out


def published_rounding(ours: str, published: str) -> str:
    places = len(published.split(".")[1]) if "." in published else 0
    return str(Decimal(ours).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP))


def check_published(example: dict[str, Any], out: dict[str, Any]) -> None:
    for key, published in example["published"].items():
        assert published_rounding(out[key], published) == published, (example["id"], key, out[key])


def expand(spec: dict[str, Any], sign: int) -> list[dict[str, str]]:
    first = date.fromisoformat(spec["first"])
    every: str = spec["every"]
    amount = str(sign * Decimal(spec["amount"]))
    dates: list[date] = []
    for k in range(spec["count"]):
        if every == "none":
            dates.append(first)
        elif every == "semimonth":
            dates.append(add_half_months(first, k))
        else:
            count, unit = every.split()
            step = int(count) * k
            dates.append(
                add_months(first, step) if unit.startswith("month") else first + timedelta(weeks=step)
            )
    return [{"date": d.isoformat(), "amount": amount} for d in dates]


def dated_flows(example: dict[str, Any]) -> list[dict[str, str]]:
    dated = example["dated"]
    flows = [f for spec in dated["advances"] for f in expand(spec, -1)]
    flows += [f for spec in dated["payments"] for f in expand(spec, 1)]
    return flows


def ids(items: list[dict[str, Any]]) -> list[str]:
    return [e["id"] for e in items]


def test_every_example_cites_its_source_and_publishes_a_figure() -> None:
    assert len(EXAMPLES) >= 20
    for example in EXAMPLES:
        assert example["source"], example["id"]
        assert example["published"], example["id"]
        assert {"positioned", "years", "dated"} & set(example), example["id"]


POSITIONED = [e for e in EXAMPLES if "positioned" in e or "years" in e]


@pytest.mark.parametrize("example", POSITIONED, ids=ids(POSITIONED))
def test_published_figure_from_the_stated_positions(example: dict[str, Any]) -> None:
    document = example.get("positioned") or example["years"]
    out = run(example["convention"], {"cash_flows": document})
    check_published(example, out)


DATED = [e for e in EXAMPLES if "dated" in e]


@pytest.mark.parametrize("example", DATED, ids=ids(DATED))
def test_published_figure_from_the_dates(example: dict[str, Any]) -> None:
    extra = ["--eu-days"] if example["dated"].get("eu_days") else []
    out = run(example["convention"], {"flows": dated_flows(example)}, *extra)
    check_published(example, out)
    if "unit_period" in example["dated"]:
        assert out["unit_period"] == example["dated"]["unit_period"]


def test_the_checks_can_fail() -> None:
    """The compare is exact at the published decimals: one cent more on each of the Commission's 240
    instalments moves the sixth decimal of X; a dollar more on App J's payments moves the second."""
    example = next(e for e in EXAMPLES if e["id"] == "eu-ec2015-ex1")
    document = json.loads(json.dumps(example["years"]))
    document["payments"][0]["amount"] = "1432.87"
    with pytest.raises(AssertionError):
        check_published(example, run("eu", {"cash_flows": document}))
    example = next(e for e in EXAMPLES if e["id"] == "regz-appJ-c1-i")
    document = json.loads(json.dumps(example["positioned"]))
    document["payments"][0]["amount"] = "231"
    with pytest.raises(AssertionError):
        check_published(example, run("us-regz", {"cash_flows": document}))
