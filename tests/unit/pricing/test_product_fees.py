"""Products carry their fees and penalty: the fee product's true annual rate is above its headline rate, and
every fee it charges has a KFS clause."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from xiaodai.journey.lender import DEMO_LENDER, lender_name
from xiaodai.pricing.caps import default_cap_book
from xiaodai.pricing.disclosure import DisclosureTerms, build_kfs, permits_charge
from xiaodai.pricing.fees import UpfrontTiming
from xiaodai.pricing.products import default_products, parse_products
from xiaodai.pricing.quote import build_quote
from xiaodai.pricing.schedule import LoanTerms, Method


def test_everyday_fees_are_a_share_kept_back_and_a_fixed_monthly_fee() -> None:
    product = default_products()["everyday"]
    fees = product.fees_for(Decimal("12000"))
    assert fees.upfront == Decimal("180.00")
    assert fees.upfront_timing is UpfrontTiming.DEDUCTED
    assert fees.monthly_fixed == Decimal("8.00")
    assert product.fees_for(Decimal("1033")).upfront == Decimal("15.50")  # 15.495 half up to the cent


def test_standard_is_fee_free() -> None:
    assert default_products()["standard"].fees_for(Decimal("12000")).is_free


def test_a_product_file_without_fees_parses_as_fee_free() -> None:
    raw = {
        "products": {
            "p": {
                "version": "1",
                "min_principal": "1",
                "max_principal": "2",
                "min_term": 1,
                "max_term": 2,
                "methods": ["equal-installment"],
            }
        }
    }
    product = parse_products(raw)["p"]
    assert product.fees_for(Decimal("2")).is_free
    assert product.penalty_annual_rate == Decimal("0.12")


def _kfs(product_name: str, rate: str) -> dict[str, object]:
    product = default_products()[product_name]
    terms = LoanTerms(
        principal=Decimal("12000"),
        term=12,
        method=Method.EQUAL_INSTALLMENT,
        annual_rate=Decimal(rate),
        start_on=date(2026, 3, 1),
        fees=product.fees_for(Decimal("12000")),
    )
    book = default_cap_book()
    quote = build_quote(terms, cap=book.profile("cn-consumer-24"), cap_book=book)
    return build_kfs(quote, DisclosureTerms(penalty_annual_rate=Decimal("0.1"), penalty_reason="X"))


def test_fee_product_apr_is_above_its_nominal_rate_and_fees_have_clauses() -> None:
    kfs = _kfs("everyday", "0.08")
    apr = Decimal(kfs["headline"]["apr_percent"])  # type: ignore[index]
    assert apr > Decimal("8") + Decimal("3")  # 1.5% kept back and 8.00 a month on 12,000: ~3.7 points more
    clauses = {f["type"]: f["clause"] for f in kfs["fees"]}  # type: ignore[attr-defined]
    assert clauses == {"upfront_fee": "F1", "monthly_fee": "F2"}
    assert permits_charge(kfs, charge_type="monthly_fee", amount=Decimal("8.00")).allowed
    refused = permits_charge(kfs, charge_type="monthly_fee", amount=Decimal("8.01"))
    assert (refused.allowed, refused.reason) == (False, "CHARGE_AMOUNT_EXCEEDS_DISCLOSURE")
    assert permits_charge(kfs, charge_type="late_fee", amount=Decimal("1")).reason == "CHARGE_NOT_DISCLOSED"


def test_fee_free_product_apr_is_its_nominal_rate() -> None:
    kfs = _kfs("standard", "0.08")
    assert Decimal(kfs["headline"]["apr_percent"]) == Decimal("8.00")  # type: ignore[index]
    assert kfs["fees"] == []


@pytest.mark.parametrize(
    ("lang", "env", "value", "expected"),
    [
        ("zh", "XIAODAI_LENDER_NAME", None, DEMO_LENDER["zh"]),
        ("en", "XIAODAI_LENDER_NAME_EN", None, DEMO_LENDER["en"]),
        ("zh", "XIAODAI_LENDER_NAME", "某某消费金融", "某某消费金融"),
        ("en", "XIAODAI_LENDER_NAME_EN", "Acme Finance", "Acme Finance"),
        ("en", "XIAODAI_LENDER_NAME_EN", "   ", DEMO_LENDER["en"]),
    ],
)
def test_lender_name_is_a_setting_with_the_demo_default(
    monkeypatch: pytest.MonkeyPatch, lang: str, env: str, value: str | None, expected: str
) -> None:
    monkeypatch.delenv("XIAODAI_LENDER_NAME", raising=False)
    monkeypatch.delenv("XIAODAI_LENDER_NAME_EN", raising=False)
    if value is not None:
        monkeypatch.setenv(env, value)
    assert lender_name(lang) == expected
