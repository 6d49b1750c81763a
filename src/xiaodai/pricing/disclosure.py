"""The key-facts statement (KFS) and its frozen disclosure snapshot.

The KFS is built from a quote and the product's terms; its headline is the all-in annual rate (IRR). The
snapshot is the canonical JSON of exactly what the borrower saw (sorted keys, no whitespace, UTF-8) and its
SHA-256. Every charge servicing may post must be allowed by a clause of the snapshot (``permits_charge``).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from xiaodai.money.rounding import round_half_up
from xiaodai.pricing.quote import Quote

KFS_VERSION = "kfs-1"


@dataclass(frozen=True, slots=True)
class DisclosureTerms:
    """Product terms that the KFS states besides the quote (configuration, not code)."""

    penalty_annual_rate: Decimal  # effective 罚息 rate on overdue principal, after any cap
    penalty_reason: str
    cooling_off_days: int = 7
    complaint_channel_zh: str = "App“我的-投诉与建议”、客服热线400-000-0000"
    complaint_channel_en: str = "In the app under Me → Complaints, or call 400-000-0000"
    complaint_days: int = 15  # 《银行业保险业消费投诉处理管理办法》: decide and notify within 15 days
    lender_name: str = "xiaodai demo lender"  # the deployment's setting (journey.lender), zh
    lender_name_en: str | None = None  # the same lender's English name, when the deployment gives one


def _m(value: Decimal) -> str:
    return f"{value:.2f}"


def build_kfs(quote: Quote, terms: DisclosureTerms) -> dict[str, Any]:
    """The KFS as data (clause ids are stable: servicing cites them on every bill line)."""
    t = quote.terms
    fees: list[dict[str, Any]] = []
    if t.fees.upfront:
        fees.append(
            {
                "clause": "F1",
                "type": "upfront_fee",
                "basis": "fixed",
                "amount": _m(t.fees.upfront),
                "timing": t.fees.upfront_timing.value,
            }
        )
    if t.fees.monthly_fixed:
        fees.append(
            {
                "clause": "F2",
                "type": "monthly_fee",
                "basis": "fixed_per_instalment",
                "amount": _m(t.fees.monthly_fixed),
            }
        )
    if t.fees.monthly_rate_on_principal:
        fees.append(
            {
                "clause": "F3",
                "type": "instalment_fee",
                "basis": "rate_of_original_principal_per_instalment",
                "rate": str(t.fees.monthly_rate_on_principal),
                "amount": _m(quote.schedule.rows[0].fee - t.fees.monthly_fixed),
            }
        )
    return {
        "kfs_version": KFS_VERSION,
        "lender": terms.lender_name,
        **({"lender_en": terms.lender_name_en} if terms.lender_name_en else {}),
        "currency": t.currency,
        "headline": {
            "clause": "R1",
            "apr_percent": str(round_half_up(quote.apr_percent, 2)),
            "apr_basis": "IRR on the amount received, all fees included (PBOC 2021 No. 3)",
        },
        "other_rates": {
            "ear_percent": str(round_half_up(quote.cn.ear_percent or Decimal(0), 2)),
            "nominal_annual_rate_percent": str(round_half_up(t.annual_rate * 100, 4)),
            "monthly_irr_percent": str(round_half_up(quote.monthly_irr * 100, 4)),
        },
        "loan": {
            "clause": "L1",
            "principal": _m(t.principal),
            "term": t.term,
            "method": t.method.value,
            "start_date": t.start_on.isoformat(),
            "amount_received": _m(quote.net_disbursed),
        },
        "costs": {
            "total_interest": _m(quote.total_interest),
            "total_fees": _m(quote.total_fees),
            "finance_charge": _m(quote.finance_charge),
            "total_repayable": _m(quote.total_repayment),
        },
        "fees": fees,
        "schedule": [
            {
                "clause": "S1",
                "period": r.period,
                "due_date": r.due_on.isoformat(),
                "principal": _m(r.principal),
                "interest": _m(r.interest),
                "fee": _m(r.fee),
                "payment": _m(r.payment),
                "balance": _m(r.balance),
            }
            for r in quote.schedule.rows
        ],
        "penalty": {
            "clause": "P1",
            "annual_rate": str(terms.penalty_annual_rate),
            "basis": "overdue principal, per day, 360-day year",
            "reason": terms.penalty_reason,
            "cap": None
            if quote.cap is None
            else {"profile": quote.cap.profile, "limit_percent": str(quote.cap.limit_percent)},
        },
        "early_repayment": {
            "clause": "E1",
            "allowed": "any time, in full or in part",
            "interest": "only for the days actually used (Civil Code Art. 677)",
            "fee": "none",
        },
        "cooling_off": {
            "clause": "C1",
            "days": terms.cooling_off_days,
            "terms": "cancel within the window by repaying the principal only, no interest or fees",
        },
        "complaints": {
            "clause": "K1",
            "channel_zh": terms.complaint_channel_zh,
            "channel_en": terms.complaint_channel_en,
            "decision_within_days": terms.complaint_days,
        },
        "cap_check": None if quote.cap is None else quote.cap.to_json(),
    }


def canonical_json(document: dict[str, Any]) -> str:
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


@dataclass(frozen=True, slots=True)
class Snapshot:
    canonical: str
    sha256: str


def snapshot(document: dict[str, Any]) -> Snapshot:
    text = canonical_json(document)
    return Snapshot(text, hashlib.sha256(text.encode("utf-8")).hexdigest())


@dataclass(frozen=True, slots=True)
class ChargeVerdict:
    allowed: bool
    reason: str  # CHARGE_PERMITTED_BY_CLAUSE | CHARGE_NOT_DISCLOSED | CHARGE_AMOUNT_EXCEEDS_DISCLOSURE
    clause: str | None


def permits_charge(
    document: dict[str, Any], *, charge_type: str, amount: Decimal, period: int | None = None
) -> ChargeVerdict:
    """Whether the snapshot allows a charge of this type and amount (no clause, no charge)."""
    if charge_type in ("interest", "principal"):
        if period is None:
            return ChargeVerdict(False, "CHARGE_PERIOD_REQUIRED", None)
        rows = [r for r in document["schedule"] if r["period"] == period]
        if not rows:
            return ChargeVerdict(False, "CHARGE_NOT_DISCLOSED", None)
        limit = Decimal(rows[0][charge_type])
        ok = amount <= limit
        return ChargeVerdict(
            ok, "CHARGE_PERMITTED_BY_CLAUSE" if ok else "CHARGE_AMOUNT_EXCEEDS_DISCLOSURE", "S1"
        )
    if charge_type == "penalty":
        ok = Decimal(document["penalty"]["annual_rate"]) > 0
        return ChargeVerdict(
            ok, "CHARGE_PERMITTED_BY_CLAUSE" if ok else "CHARGE_NOT_DISCLOSED", "P1" if ok else None
        )
    for fee in document["fees"]:
        if fee["type"] == charge_type:
            ok = amount <= Decimal(fee["amount"])
            return ChargeVerdict(
                ok, "CHARGE_PERMITTED_BY_CLAUSE" if ok else "CHARGE_AMOUNT_EXCEEDS_DISCLOSURE", fee["clause"]
            )
    return ChargeVerdict(False, "CHARGE_NOT_DISCLOSED", None)
