"""Product configuration: principal and term limits, allowed methods, day count, business-day roll, the
fees a loan of the product carries and its late-payment penalty rate (before the cap)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from importlib import resources
from typing import Any

from xiaodai.money.calendar import RollConvention
from xiaodai.money.daycount import DayCount
from xiaodai.money.rounding import Rounding, round_money
from xiaodai.pricing.fees import FeeSchedule, UpfrontTiming
from xiaodai.pricing.schedule import Method


class ProductLimitError(ValueError):
    """The request is outside what the product allows."""


@dataclass(frozen=True, slots=True)
class Product:
    name: str
    version: str
    currency: str
    min_principal: Decimal
    max_principal: Decimal
    min_term: int
    max_term: int
    methods: frozenset[Method]
    odd_period_daycount: DayCount
    roll: RollConvention
    label_en: str = ""
    label_zh: str = ""
    upfront_fee_rate: Decimal = Decimal(0)  # share of the principal
    upfront_timing: UpfrontTiming = UpfrontTiming.DEDUCTED
    monthly_fee: Decimal = Decimal(0)  # fixed, added to every instalment
    penalty_annual_rate: Decimal = Decimal("0.12")  # 罚息 on overdue principal, before the cap

    def fees_for(self, principal: Decimal) -> FeeSchedule:
        """The fees of a loan of ``principal`` under this product (the up-front fee half up to the cent)."""
        return FeeSchedule(
            upfront=round_money(principal * self.upfront_fee_rate, rule=Rounding.HALF_UP_CENT),
            upfront_timing=self.upfront_timing,
            monthly_fixed=self.monthly_fee,
        )

    def check(self, *, principal: Decimal, term: int, method: Method) -> None:
        if not self.min_principal <= principal <= self.max_principal:
            raise ProductLimitError(
                f"principal {principal:.2f} is outside product {self.name!r}: "
                f"{self.min_principal:.2f}–{self.max_principal:.2f} {self.currency}"
            )
        if not self.min_term <= term <= self.max_term:
            raise ProductLimitError(
                f"term {term} is outside product {self.name!r}: {self.min_term}–{self.max_term} months"
            )
        if method not in self.methods:
            raise ProductLimitError(f"method {method.value} is not offered by product {self.name!r}")


def parse_products(data: dict[str, Any]) -> dict[str, Product]:
    catalogue = {}
    for name, raw in data["products"].items():
        fees = raw.get("fees", {})
        catalogue[name] = Product(
            name=name,
            version=str(raw["version"]),
            currency=raw.get("currency", "CNY"),
            min_principal=Decimal(raw["min_principal"]),
            max_principal=Decimal(raw["max_principal"]),
            min_term=int(raw["min_term"]),
            max_term=int(raw["max_term"]),
            methods=frozenset(Method.parse(m) for m in raw["methods"]),
            odd_period_daycount=DayCount.parse(raw.get("odd_period_daycount", "act/360")),
            roll=RollConvention(raw.get("roll", "none")),
            label_en=raw.get("label_en", ""),
            label_zh=raw.get("label_zh", ""),
            upfront_fee_rate=Decimal(str(fees.get("upfront_rate", "0"))),
            upfront_timing=UpfrontTiming(fees.get("upfront_timing", "deducted")),
            monthly_fee=Decimal(str(fees.get("monthly_fixed", "0"))),
            penalty_annual_rate=Decimal(str(raw.get("penalty_annual_rate", "0.12"))),
        )
    return catalogue


def default_products() -> dict[str, Product]:
    """The products shipped with xiaodai (package data, read once per process; a fresh dict per caller)."""
    return dict(_shipped_products())


@lru_cache(maxsize=1)
def _shipped_products() -> dict[str, Product]:
    text = resources.files("xiaodai.pricing").joinpath("data/products.json").read_text(encoding="utf-8")
    return parse_products(json.loads(text))
