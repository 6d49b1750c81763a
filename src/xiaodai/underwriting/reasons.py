"""Adverse-action style reasons: the features that cost the applicant the most points.

For each feature the shortfall is (the feature's best possible points − the points obtained); the reasons
are the largest shortfalls, in plain zh/en language. Protected attributes are never reasons.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from xiaodai.underwriting.artifact import CompiledScorecard
from xiaodai.underwriting.scorer import FeatureScore


@dataclass(frozen=True, slots=True)
class Reason:
    code: str
    text_zh: str
    text_en: str
    points: float = 0.0

    def to_json(self) -> dict[str, object]:
        return {"code": self.code, "zh": self.text_zh, "en": self.text_en, "points": round(self.points, 2)}


def score_reasons(
    card: CompiledScorecard,
    features: Iterable[FeatureScore],
    *,
    protected: Iterable[str] = (),
    limit: int = 4,
) -> list[Reason]:
    banned = {p.lower() for p in protected}
    ranked = sorted(
        (f for f in features if f.name.lower() not in banned and f.shortfall > 1e-9),
        key=lambda f: (-f.shortfall, f.name),
    )
    out = []
    for f in ranked[:limit]:
        zh_name = card.labels_zh.get(f.name, f.name)
        en_name = card.labels_en.get(f.name, f.name.replace("_", " "))
        value = "缺失" if f.label == "missing" else f.label
        out.append(
            Reason(
                f"SCORE_{f.name.upper()}",
                f"{zh_name}（{value}）使评分降低约{f.shortfall:.0f}分",
                f"{en_name} ({'missing' if f.label == 'missing' else f.label}) lowered the score by about "
                f"{f.shortfall:.0f} points",
                f.shortfall,
            )
        )
    return out


POLICY_TEXT = {
    "KO_AGE_BELOW_MIN": ("申请人未达到最低年龄要求", "The applicant is below the minimum age"),
    "KO_AGE_ABOVE_MAX": ("申请人超过最高年龄限制", "The applicant is above the maximum age"),
    "KO_INCOME_MISSING": ("未提供可核实的收入", "No verifiable income was provided"),
    "KO_DTI_TOO_HIGH": ("现有负债占收入比例过高", "Existing debt payments are too high relative to income"),
    "KO_EXISTING_OVERDUE": ("您在本平台有逾期未还的借款", "A loan with us is overdue"),
    "KO_VELOCITY": ("近期申请次数过多", "Too many recent credit applications"),
    "KO_BUREAU_OVERDUE_NOW": (
        "征信报告显示您在其他机构有当前逾期",
        "Your credit report shows a debt overdue now at another lender",
    ),
    "KO_BUREAU_SERIOUS_DELINQUENCY": (
        "征信报告显示曾连续逾期三个月及以上",
        "Your credit report shows three or more consecutive months overdue",
    ),
    "KO_BUREAU_REPEATED_OVERDUE": (
        "征信报告显示近24个月逾期月份较多",
        "Your credit report shows many overdue months in the last 24",
    ),
    "KO_BLOCKLIST": ("申请信息命中风险名单", "The application matched a risk list"),
    "KO_AGE_ID_MISMATCH": (
        "申报的年龄与身份证件上的出生日期不符",
        "The stated age does not match the birth date in the ID number",
    ),
    "RISK_TOO_HIGH": ("综合信用评分低于审批标准", "The overall credit score is below our approval standard"),
    "REFER_RISK_BAND": ("需人工复核：评分处于边界区间", "Manual review: the score is in the borderline band"),
    "NO_AFFORDABLE_AMOUNT": (
        "按收入测算的可负担月供不足以支持最低借款金额",
        "The affordable monthly payment does not support the minimum loan amount",
    ),
    "PRICE_OVER_CAP": ("在利率上限内无法给出报价", "No offer is possible within the rate cap"),
    "PRICE_CAP_UNAVAILABLE": (
        "暂时无法核验利率上限，暂不出具报价",
        "The rate cap cannot be checked now, so no offer is made",
    ),
}


def policy_reason(code: str) -> Reason:
    zh, en = POLICY_TEXT.get(code, (code, code))
    return Reason(code, zh, en)
