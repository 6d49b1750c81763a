"""APR and schedule reference vectors (``apr_dev.json``'s format: ``format_version``, ``conventions``,
``vectors``) run through the pricing engine, for ``xiaodai conformance run`` (shell).

Each vector is judged on what it states, never on its id: its ``convention`` picks the rate rule
(``US-RegZ-AppJ``, ``EU-APRC``, ``CN-PBOC-IRR``) applied to its ``cash_flows`` exactly as ``xiaodai apr
--json`` applies it; a ``product`` priced by a method the platform offers is also quoted as ``xiaodai quote
--json`` quotes it, and every figure the vector expects — rates within the vector's ``tolerance``, money
to the cent, schedule rows, the 2-decimal and 1-decimal disclosures — is compared with the engine's. A
figure the vector expects that the engine has no counterpart for is not checked (the line lists it under
``unchecked``). One bad vector never stops the run: it gets its own line with ``"decision": "error"``.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import typer

from xiaodai.pricing.apr import Convention

QUOTE_METHODS = {
    "equal_installment": "equal-installment",
    "equal_principal": "equal-principal",
    "interest_first": "interest-first",
    "bullet": "bullet",
    "flat_fee_installment": "flat-fee",
}
MONEY_FIGURES = (  # the quote's money figures a vector may state, compared to the cent
    "payment",
    "payment_first",
    "payment_last",
    "payment_at_maturity",
    "net_disbursed",
    "total_interest",
    "total_fees",
    "finance_charge",
    "total_repayment",
)
_QUOTE_RATES = (
    "apr_percent",
    "ear_percent",
    "apr_regz_percent",
    "monthly_irr_percent",
    "xirr_act365_percent",
    "eu_aprc_x_percent",
)


def is_vector_document(document: Any) -> bool:
    return isinstance(document, Mapping) and isinstance(document.get("vectors"), list)


class _Checks:
    """The comparisons of one vector: name, expected, got, tolerance, and whether it held."""

    def __init__(self, tolerance: Mapping[str, Any]) -> None:
        self.tolerance = tolerance
        self.done: list[dict[str, Any]] = []

    def near(self, name: str, got: Any, expected: Any, tolerance_key: str | None = None) -> None:
        tolerance = Decimal(str(self.tolerance.get(tolerance_key or name, "0")))
        ok = abs(Decimal(str(got)) - Decimal(str(expected))) <= tolerance
        self.done.append({"check": name, "expected": str(expected), "got": str(got), "ok": ok})

    def equal(self, name: str, got: Any, expected: Any) -> None:
        self.done.append({"check": name, "expected": str(expected), "got": str(got), "ok": got == expected})


def _money(value: Any) -> str:
    return f"{Decimal(str(value)):.2f}"


def _rates(vector: Mapping[str, Any], checks: _Checks) -> set[str]:
    """The rate rule of the vector's convention over its cash flows; the expected keys it checked."""
    from xiaodai.cli.pricing import apr_payload

    expected, flows = vector["expected"], {"cash_flows": vector["cash_flows"]}
    convention = vector["convention"]
    if convention == "US-RegZ-AppJ":
        out = apr_payload(flows, Convention.US_REGZ)
        checks.near("apr_percent", out["apr_percent"], expected["apr_percent"])
        checks.equal(
            "apr_percent_2dp", out["apr_percent_2dp"], f"{Decimal(str(expected['apr_percent'])):.2f}"
        )
        return {"apr_percent"}
    if convention == "EU-APRC":
        out = apr_payload(flows, Convention.EU)
        checks.near("aprc_x_percent", out["aprc_x_percent"], expected["aprc_x_percent"])
        checks.equal(
            "aprc_percent_1dp", Decimal(out["aprc_percent"]), Decimal(str(expected["aprc_percent_1dp"]))
        )
        return {"aprc_x_percent", "aprc_percent_1dp"}
    if convention != "CN-PBOC-IRR":
        raise ValueError(f"unknown convention {convention!r}")
    out = apr_payload(flows, Convention.CN)
    done = {"apr_percent", "ear_percent"}
    checks.near("apr_percent", out["apr_percent"], expected["apr_percent"])
    checks.near("ear_percent", out["ear_percent"], expected["ear_percent"])
    if "monthly_irr_percent" in expected:
        checks.near(
            "monthly_irr_percent", Decimal(out["periodic_rate"]) * 100, expected["monthly_irr_percent"]
        )
        done.add("monthly_irr_percent")
    if "apr_regz_percent" in expected:
        regz = apr_payload(flows, Convention.US_REGZ)
        checks.near("apr_regz_percent", regz["apr_percent"], expected["apr_regz_percent"])
        done.add("apr_regz_percent")
    if "eu_aprc_percent_1dp" in expected:
        cash = vector["cash_flows"]
        eu_doc = {"cash_flows": {"model": "eu_years", **cash["eu_years"]}} if "eu_years" in cash else flows
        eu = apr_payload(eu_doc, Convention.EU)
        checks.equal("eu_aprc_percent_1dp", eu["aprc_percent"], expected["eu_aprc_percent_1dp"])
        done.add("eu_aprc_percent_1dp")
        if "eu_aprc_x_percent" in expected:
            checks.near("eu_aprc_x_percent", eu["aprc_x_percent"], expected["eu_aprc_x_percent"])
            done.add("eu_aprc_x_percent")
    return done


def _quote(vector: Mapping[str, Any], checks: _Checks) -> set[str]:
    """The product quoted as ``xiaodai quote --json`` quotes it; the expected keys it checked."""
    from xiaodai.cli.pricing import terms_from_options
    from xiaodai.pricing.caps import default_cap_book
    from xiaodai.pricing.quote import build_quote, quote_to_json

    product, expected = vector["product"], vector["expected"]
    terms = terms_from_options(
        principal=str(product["principal"]),
        term=str(product["term_months"]),
        method=QUOTE_METHODS[product["method"]],
        annual_rate=product.get("annual_nominal_rate"),
        flat_fee_rate=product.get("monthly_fee_rate_on_original_principal") or None,
        upfront_fee=str(product["upfront_fee_deducted"]) if product.get("upfront_fee_deducted") else None,
        upfront_timing="deducted",
        monthly_fee=str(product["monthly_fee"]) if product.get("monthly_fee") else None,
        start=product.get("disbursement_date", "2026-01-10"),
        first_due=product.get("first_due_date"),
        product="standard",
    )
    out = quote_to_json(build_quote(terms, cap_book=default_cap_book()))
    done: set[str] = set()
    for key in MONEY_FIGURES:
        if key in expected:
            checks.equal(key, out[key], _money(expected[key]))
            done.add(key)
    rows = out["schedule"]
    wanted = [
        *expected.get("schedule_first_rows", []),
        *([expected["schedule_last_row"]] if "schedule_last_row" in expected else []),
    ]
    for want in wanted:
        period = int(want["period"])
        got = rows[period - 1] if 0 < period <= len(rows) else {}
        for field in ("principal", "interest", "fee", "payment", "balance"):
            if field in want:
                checks.equal(f"schedule[{period}].{field}", got.get(field), _money(want[field]))
    done.update(k for k in ("schedule_first_rows", "schedule_last_row") if k in expected)
    checks.equal("schedule_ends_at_zero", rows[-1]["balance"] if rows else None, "0.00")
    for key in _QUOTE_RATES:
        if key in expected:
            checks.near(f"quote.{key}", out[key], expected[key], key)
            done.add(key)
    for key in ("apr_percent_2dp", "eu_aprc_percent_1dp"):
        if key in expected:
            checks.equal(f"quote.{key}", out[key], expected[key])
            done.add(key)
    dates = vector["cash_flows"].get("dates", {})
    if isinstance(dates, Mapping) and "payments" in dates:
        checks.equal("due_dates", [r["due_date"] for r in rows], dates["payments"])
    return done


def _reason(exc: Exception) -> str:
    if isinstance(exc, KeyError):
        return f"missing {exc.args[0]!r}"
    if isinstance(exc, typer.Exit):  # ``cli.errors.fail``: its message is on standard error
        return "the product's terms were refused (the message is on standard error)"
    return str(exc) or type(exc).__name__


def run_vector(vector: Any) -> tuple[dict[str, Any], bool | None, bool]:
    """(result line, passed — None when nothing was checked, error)."""
    ident = vector.get("id") if isinstance(vector, Mapping) else None
    try:
        if not isinstance(vector, Mapping):
            raise ValueError("a vector is a JSON object")
        checks = _Checks(vector.get("tolerance") or {})
        done = _rates(vector, checks)
        product = vector.get("product")
        if isinstance(product, Mapping) and product.get("method") in QUOTE_METHODS:
            done |= _quote(vector, checks)
    except Exception as exc:  # a fact missing or malformed, or the engine refusing the vector's terms
        return {"id": ident, "decision": "error", "reason": _reason(exc), "pass": False}, False, True
    failed = [{k: v for k, v in c.items() if k != "ok"} for c in checks.done if not c["ok"]]
    passed = None if not checks.done else not failed
    line: dict[str, Any] = {
        "id": ident,
        "convention": vector.get("convention"),
        "checks": len(checks.done),
        "pass": passed,
    }
    if failed:
        line["failed"] = failed
    unchecked = sorted(set(vector.get("expected", {})) - done - {"schedule_first_rows", "schedule_last_row"})
    if unchecked:
        line["unchecked"] = unchecked
    return line, passed, False
