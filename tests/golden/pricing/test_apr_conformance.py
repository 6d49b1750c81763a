"""Every case of the APR conformance sample, through the public CLI, to the cent and the stated tolerance.

The test dispatches on what each vector states (convention, product, expected keys); nothing here knows
any case by its id.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from xiaodai.cli.main import app
from xiaodai.conformance.apr_vectors import MONEY_FIGURES

VECTORS = json.loads((Path(__file__).parent / "apr_dev.json").read_text(encoding="utf-8"))["vectors"]
runner = CliRunner()

METHOD_FLAGS = {
    "equal_installment": "equal-installment",
    "equal_principal": "equal-principal",
    "interest_first": "interest-first",
    "bullet": "bullet",
    "flat_fee_installment": "flat-fee",
}


def run_json(args: list[str], stdin: str | None = None) -> dict[str, Any]:
    result = runner.invoke(app, args, input=stdin)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def close(actual: str, expected: float | str, tolerance: float) -> bool:
    return abs(Decimal(actual) - Decimal(str(expected))) <= Decimal(str(tolerance))


def ids(vectors: list[dict[str, Any]]) -> list[str]:
    return [v["id"] for v in vectors]


@pytest.mark.parametrize("vector", VECTORS, ids=ids(VECTORS))
def test_apr_from_cash_flows(vector: dict[str, Any]) -> None:
    expected, tol = vector["expected"], vector["tolerance"]
    flows = json.dumps({"cash_flows": vector["cash_flows"]})
    convention = vector["convention"]
    if convention == "US-RegZ-AppJ":
        out = run_json(["apr", "--convention", "us-regz", "--json"], flows)
        assert close(out["apr_percent"], expected["apr_percent"], tol["apr_percent"])
        assert out["apr_percent_2dp"] == f"{Decimal(str(expected['apr_percent'])):.2f}"
    elif convention == "EU-APRC":
        out = run_json(["apr", "--convention", "eu", "--json"], flows)
        assert close(out["aprc_x_percent"], expected["aprc_x_percent"], tol["aprc_x_percent"])
        assert Decimal(out["aprc_percent"]) == Decimal(str(expected["aprc_percent_1dp"]))
    else:
        out = run_json(["apr", "--convention", "cn", "--json"], flows)
        assert close(out["apr_percent"], expected["apr_percent"], tol["apr_percent"])
        assert close(out["ear_percent"], expected["ear_percent"], tol["ear_percent"])
        if "monthly_irr_percent" in expected:
            irr_pct = Decimal(out["periodic_rate"]) * 100
            assert abs(irr_pct - Decimal(str(expected["monthly_irr_percent"]))) <= Decimal(
                str(tol["monthly_irr_percent"])
            )
        if "apr_regz_percent" in expected:
            regz = run_json(["apr", "--convention", "us-regz", "--json"], flows)
            assert close(regz["apr_percent"], expected["apr_regz_percent"], tol["apr_regz_percent"])
        if "eu_aprc_percent_1dp" in expected:
            eu_doc = (
                {"cash_flows": {"model": "eu_years", **vector["cash_flows"]["eu_years"]}}
                if ("eu_years" in vector["cash_flows"])
                else {"cash_flows": vector["cash_flows"]}
            )
            eu = run_json(["apr", "--convention", "eu", "--json"], json.dumps(eu_doc))
            assert eu["aprc_percent"] == expected["eu_aprc_percent_1dp"]
            if "eu_aprc_x_percent" in expected:
                assert close(eu["aprc_x_percent"], expected["eu_aprc_x_percent"], tol["eu_aprc_x_percent"])


QUOTABLE = [v for v in VECTORS if v.get("product", {}).get("method") in METHOD_FLAGS]


def quote_args(product: dict[str, Any]) -> list[str]:
    method = METHOD_FLAGS[product["method"]]
    args = [
        "quote",
        "--principal",
        str(product["principal"]),
        "--term",
        str(product["term_months"]),
        "--method",
        method,
        "--json",
        "--start",
        product.get("disbursement_date", "2026-01-10"),
    ]
    if product.get("annual_nominal_rate") is not None:
        args += ["--annual-rate", product["annual_nominal_rate"]]
    if product.get("monthly_fee_rate_on_original_principal"):
        args += ["--flat-fee-rate", product["monthly_fee_rate_on_original_principal"]]
    if product.get("upfront_fee_deducted"):
        args += ["--upfront-fee", str(product["upfront_fee_deducted"])]
    if product.get("monthly_fee"):
        args += ["--monthly-fee", str(product["monthly_fee"])]
    if product.get("first_due_date"):
        args += ["--first-due", product["first_due_date"]]
    return args


def money(value: float | str) -> str:
    return f"{Decimal(str(value)):.2f}"


@pytest.mark.parametrize("vector", QUOTABLE, ids=ids(QUOTABLE))
def test_quote_matches_to_the_cent(vector: dict[str, Any]) -> None:
    expected, tol = vector["expected"], vector["tolerance"]
    out = run_json(quote_args(vector["product"]))
    for key in MONEY_FIGURES:  # the quote's money figures a vector may state (shared with the runner)
        if key in expected:
            assert out[key] == money(expected[key]), key
    rows = out["schedule"]
    for want in [*expected["schedule_first_rows"], expected["schedule_last_row"]]:
        got = rows[want["period"] - 1]
        for field in ("principal", "interest", "fee", "payment", "balance"):
            assert got[field] == money(want[field]), (want["period"], field)
    assert rows[-1]["balance"] == "0.00"
    for key, out_key in (
        ("apr_percent", "apr_percent"),
        ("ear_percent", "ear_percent"),
        ("apr_regz_percent", "apr_regz_percent"),
        ("monthly_irr_percent", "monthly_irr_percent"),
        ("xirr_act365_percent", "xirr_act365_percent"),
        ("eu_aprc_x_percent", "eu_aprc_x_percent"),
    ):
        if key in expected:
            assert close(out[out_key], expected[key], tol[key]), key
    assert out["apr_percent_2dp"] == expected["apr_percent_2dp"]
    assert out["eu_aprc_percent_1dp"] == expected["eu_aprc_percent_1dp"]
    if "payments" in vector["cash_flows"].get("dates", {}):
        assert [r["due_date"] for r in rows] == vector["cash_flows"]["dates"]["payments"]
