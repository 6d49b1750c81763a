"""Adverse-action style reasons: the features that cost the applicant the most points.

For each feature the shortfall is (the feature's best possible points − the points obtained); the reasons
are the largest shortfalls, in plain zh/en language. Protected attributes are never reasons.

What the applicant reads (``applicant_reasons``, ``positive_factors``) cites only model features that have a
catalogue source (``explainable``): a column a model was trained on that xiaodai never collects (a public
set's "Price", "Assets") is not the applicant's doing and is never cited; "not given" is cited only for a
feature the application form asks. Approved applicants also read what raised their score.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from xiaodai.features.catalogue import Catalogue
from xiaodai.features.model_inputs import ModelInputMapping
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


@dataclass(frozen=True, slots=True)
class Explainable:
    """Which of a model's features may be cited to the applicant.

    ``sourced``: computed from catalogue features (the applicant's stated values, platform or bureau facts);
    ``asked``: computed only from what the application form asks (so "not given" is the applicant's own)."""

    sourced: frozenset[str]
    asked: frozenset[str]


def explainable(
    feature_names: Iterable[str], *, catalogue: Catalogue, mapping: ModelInputMapping
) -> Explainable:
    """A model feature is cited when it is a catalogue feature or a mapped column computed from them."""
    features = catalogue.by_name()
    columns = {c.name: c for c in mapping.columns}
    sourced: set[str] = set()
    asked: set[str] = set()
    for name in feature_names:
        if name in features:
            sources: tuple[str, ...] = (name,)
        elif name in columns and columns[name].op != "missing" and columns[name].sources:
            sources = columns[name].sources
        else:
            continue  # no catalogue source: never cited
        if not all(s in features for s in sources):
            continue
        sourced.add(name)
        if all(features[s].source == "application" for s in sources):
            asked.add(name)
    return Explainable(frozenset(sourced), frozenset(asked))


def _names(card: CompiledScorecard, name: str) -> tuple[str, str]:
    en = card.labels_en.get(name, name.replace("_", " "))
    return card.labels_zh.get(name, name), en[:1].upper() + en[1:]


def applicant_reasons(
    card: CompiledScorecard,
    features: Iterable[FeatureScore],
    *,
    allowed: Explainable,
    protected: Iterable[str] = (),
    limit: int = 4,
) -> list[Reason]:
    """What lowered the score, phrased for the person (no bin intervals): only features ``allowed`` cites,
    "not given" only for a feature the form asks."""
    banned = {p.lower() for p in protected}
    ranked = sorted(
        (
            f
            for f in features
            if f.name.lower() not in banned
            and f.shortfall > 1e-9
            and f.name in allowed.sourced
            and (f.label != "missing" or f.name in allowed.asked)
        ),
        key=lambda f: (-f.shortfall, f.name),
    )
    out = []
    for f in ranked[:limit]:
        zh, en = _names(card, f.name)
        if f.label == "missing":
            text = (f"未填写{zh}，评分因此降低", f"{en} was not given, which lowered the score")
        else:
            text = (f"{zh}使评分降低", f"{en} lowered the score")
        out.append(Reason(f"SCORE_{f.name.upper()}", *text, f.shortfall))
    return out


def positive_factors(
    card: CompiledScorecard,
    features: Sequence[FeatureScore],
    *,
    allowed: Explainable,
    protected: Iterable[str] = (),
    limit: int = 3,
) -> list[Reason]:
    """What raised the score: cited features whose points are in the upper half of the feature's range
    (best first by points above the feature's worst)."""
    banned = {p.lower() for p in protected}
    bins = {b.name: b for b in card.features}
    gains = []
    labels = {f.name: f.label.strip().lower() for f in features}
    for f in features:
        b = bins.get(f.name)
        if b is None or f.label == "missing" or f.name.lower() in banned or f.name not in allowed.sourced:
            continue
        worst = min((*b.points, b.missing_points))
        best = b.max_points
        if best - worst <= 1e-9 or f.points - worst <= (best - worst) / 2:
            continue
        gains.append((f.points - worst, f.name))
    out = []
    for gain, name in sorted(gains, key=lambda g: (-g[0], g[1]))[:limit]:
        zh, en = _names(card, name)
        if labels[name] == "no":  # a yes/no column at "no" ("Adverse credit records": none)
            zh, en = f"无{zh}", f"No {en[:1].lower()}{en[1:]}"
        out.append(Reason(f"POSITIVE_{name.upper()}", f"{zh}提高了评分", f"{en} raised the score", gain))
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


# An underwriter's reasons for declining a referred application (the borrower reads them; codes are stored).
REVIEW_DECLINE_TEXT = {
    "UW_INCOME_NOT_VERIFIED": ("所填收入未能核实", "The income stated could not be verified"),
    "UW_AFFORDABILITY": (
        "综合您的收入与支出，月供可能超出可承受范围",
        "Given your income and outgoings, the monthly payment may not be affordable",
    ),
    "UW_INCONSISTENT_INFORMATION": (
        "申请信息与其他记录不一致",
        "The application did not match other records",
    ),
    "UW_CREDIT_HISTORY": (
        "信用记录经人工复核未达到审批标准",
        "On review, the credit history does not meet our standard",
    ),
    "UW_EMPLOYMENT_UNSTABLE": (
        "工作稳定性经人工复核未达到要求",
        "On review, employment is not stable enough",
    ),
}
REVIEW_APPROVED = ("经人工复核批准", "Approved after review by an underwriter")


def policy_reason(code: str) -> Reason:
    zh, en = POLICY_TEXT.get(code) or REVIEW_DECLINE_TEXT.get(code) or (code, code)
    return Reason(code, zh, en)
