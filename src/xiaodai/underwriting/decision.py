"""The credit decision, pure: knock-out rules → score → PD → grade → price and limit → offer.

Given the same application, scorer and policy it always returns the same ``Decision`` (no clock, no I/O),
which is what makes ``xiaodai decision replay`` exact.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_DOWN, Decimal
from typing import Any

from xiaodai.money.money import MoneyError
from xiaodai.money.parse import parse_amount_fen
from xiaodai.pricing.caps import CapBook, CapReason
from xiaodai.pricing.quote import CapExceededError, Quote, build_quote
from xiaodai.pricing.schedule import LoanTerms, Method
from xiaodai.underwriting.policy import Policy
from xiaodai.underwriting.reasons import Reason, policy_reason, score_reasons
from xiaodai.underwriting.scorer import CompiledScorer

RATE_STEP = Decimal("0.005")
ABSOLUTE_MAX = Decimal("30000")
MAX_TERM = 24


class ApplicationError(ValueError):
    """The application cannot be decided (malformed or missing fields)."""


# Fields the knock-out rules read: missing ones are an incomplete application, never a silent pass.
# ``worst_dpd_now`` and ``applications_last_30d`` are platform values the decision service looks up.
REQUIRED_APPLICANT = ("age", "worst_dpd_now", "applications_last_30d")


@dataclass(frozen=True, slots=True)
class Application:
    application_id: str
    applicant: Mapping[str, Any]  # the assembled catalogue features (application, platform, bureau, …)
    features: Mapping[str, Any]  # model features
    amount: Decimal
    term: int
    as_of: date

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> Application:
        try:
            request = raw.get("request", {})
            asked = request.get("amount", "0")
            if isinstance(asked, int) and not isinstance(asked, bool):
                asked = str(asked)  # a whole number of CNY given as a JSON number
            try:  # 0: whatever the applicant is eligible for
                amount = Decimal(parse_amount_fen(asked, what="request.amount", allow_zero=True)) / 100
            except MoneyError as exc:
                raise ApplicationError(str(exc)) from None
            term = int(request.get("term", 12))
            applicant = dict(raw.get("applicant", {}))
            missing = [f for f in REQUIRED_APPLICANT if applicant.get(f) in (None, "")]
            if missing:
                raise ApplicationError(f"the application is missing applicant fields: {', '.join(missing)}")
            for name in REQUIRED_APPLICANT:
                if not Decimal(str(applicant[name])).is_finite():
                    raise ApplicationError(f"applicant field {name} must be a finite number")
            income = applicant.get("monthly_income")
            debts = applicant.get("monthly_debt_payments")
            if "debt_to_income" not in applicant and income not in (None, "") and debts not in (None, ""):
                income_value = Decimal(str(income))
                if income_value > 0:
                    applicant["debt_to_income"] = str(Decimal(str(debts)) / income_value)
            return cls(
                str(raw["application_id"]),
                applicant,
                dict(raw.get("features", {})),
                amount,
                term,
                date.fromisoformat(str(raw["as_of"])),
            )
        except KeyError as exc:
            raise ApplicationError(f"application is missing {exc.args[0]!r}") from exc
        except ApplicationError:
            raise
        except (ValueError, ArithmeticError, TypeError) as exc:
            raise ApplicationError(f"malformed application: {exc}") from exc


@dataclass(frozen=True, slots=True)
class Offer:
    principal: Decimal
    term: int
    annual_rate: Decimal
    limit: Decimal
    allowed_terms: tuple[int, int]
    quote: Quote

    def to_json(self) -> dict[str, Any]:
        q = self.quote
        return {
            "principal": f"{self.principal:.2f}",
            "term": self.term,
            "annual_rate": str(self.annual_rate),
            "apr_percent": str(round(q.apr_percent, 4)),
            "payment": f"{q.payment:.2f}",
            "total_repayment": f"{q.total_repayment:.2f}",
            "credit_limit": f"{self.limit:.2f}",
            "allowed_terms": {"min": self.allowed_terms[0], "max": self.allowed_terms[1]},
            "cap": q.cap.to_json() if q.cap else None,
        }


@dataclass(frozen=True, slots=True)
class Decision:
    application_id: str
    outcome: str  # approve | decline | refer
    score: float | None
    pd: float | None
    grade: str | None
    reasons: tuple[Reason, ...]
    offer: Offer | None
    model_version: str
    policy_version: str
    features_used: Mapping[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {
            "application_id": self.application_id,
            "outcome": self.outcome,
            "score": None if self.score is None else round(self.score, 6),
            "pd": None if self.pd is None else round(self.pd, 8),
            "grade": self.grade,
            "reasons": [r.to_json() for r in self.reasons],
            "offer": None if self.offer is None else self.offer.to_json(),
            "model_version": self.model_version,
            "policy_version": self.policy_version,
        }


def _affordable_principal(payment: Decimal, rate: Decimal, term: int) -> Decimal:
    if payment <= 0:
        return Decimal(0)
    r = rate / 12
    if r == 0:
        return payment * term
    return payment * (1 - (1 + r) ** -term) / r


def decide(
    application: Application,
    *,
    scorer: CompiledScorer,
    model_version: str,
    policy: Policy,
    cap_book: CapBook,
    protected: tuple[str, ...] = (),
) -> Decision:
    features_used = {name: application.features.get(name) for name in scorer.feature_names}

    def done(
        outcome: str,
        reasons: list[Reason],
        *,
        score: float | None = None,
        pd: float | None = None,
        grade: str | None = None,
        offer: Offer | None = None,
    ) -> Decision:
        return Decision(
            application.application_id,
            outcome,
            score,
            pd,
            grade,
            tuple(reasons[:4]),
            offer,
            model_version,
            policy.version,
            features_used,
        )

    knocked = [policy_reason(rule.code) for rule in policy.knock_out if rule.fires(application.applicant)]
    if knocked:
        return done("decline", knocked)
    result = scorer.score_row(application.features)
    grade = policy.grade_for(result.pd)
    reasons = score_reasons(scorer.card, result.features, protected=protected)
    if grade.decision == "decline" or grade.annual_rate is None:
        return done(
            "decline",
            [policy_reason("RISK_TOO_HIGH"), *reasons],
            score=result.score,
            pd=result.pd,
            grade=grade.grade,
        )
    income = Decimal(str(application.applicant.get("monthly_income") or 0))
    debts = Decimal(str(application.applicant.get("monthly_debt_payments") or 0))
    affordable_payment = income * policy.affordability_share - debts
    max_term = min(grade.max_term, MAX_TERM)
    term = min(max(application.term, policy.min_term), max_term)
    rate = grade.annual_rate
    cap = cap_book.profile(policy.cap_profile)
    while True:
        limit = min(ABSOLUTE_MAX, grade.max_limit, _affordable_principal(affordable_payment, rate, term))
        limit = (limit / policy.limit_rounding).to_integral_value(rounding=ROUND_DOWN) * policy.limit_rounding
        if limit < policy.min_principal:
            return done(
                "decline",
                [policy_reason("NO_AFFORDABLE_AMOUNT"), *reasons],
                score=result.score,
                pd=result.pd,
                grade=grade.grade,
            )
        principal = min(application.amount if application.amount > 0 else limit, limit)
        principal = max(principal, policy.min_principal)
        terms = LoanTerms(
            principal=principal,
            term=term,
            method=Method.parse(policy.method),
            annual_rate=rate,
            start_on=application.as_of,
        )
        try:
            quote = build_quote(terms, cap=cap, cap_book=cap_book)
            break
        except CapExceededError as refused:
            if refused.verdict.reason is not CapReason.EXCEEDED:  # the cap cannot be evaluated: no offer
                return done(
                    "decline",
                    [policy_reason("PRICE_CAP_UNAVAILABLE")],
                    score=result.score,
                    pd=result.pd,
                    grade=grade.grade,
                )
            rate -= RATE_STEP
            if rate < 0:
                return done(
                    "decline",
                    [policy_reason("PRICE_OVER_CAP")],
                    score=result.score,
                    pd=result.pd,
                    grade=grade.grade,
                )
    offer = Offer(principal, term, rate, limit, (policy.min_term, max_term), quote)
    if grade.decision == "refer":
        return done(
            "refer",
            [policy_reason("REFER_RISK_BAND"), *reasons],
            score=result.score,
            pd=result.pd,
            grade=grade.grade,
            offer=offer,
        )
    return done("approve", reasons, score=result.score, pd=result.pd, grade=grade.grade, offer=offer)
