"""Serving path and decisions: compiled scorer (row = batch), knock-outs, grades, price within cap,
affordability, reasons that never name a protected attribute."""

from __future__ import annotations

import math
from decimal import Decimal

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from support.models import CARD
from support.models import assembled_application as application
from xiaodai.pricing.caps import default_cap_book
from xiaodai.underwriting.decision import Application, ApplicationError, decide
from xiaodai.underwriting.policy import PolicyError, default_policy, parse_policy
from xiaodai.underwriting.scorer import CompiledScorer

SCORER = CompiledScorer(CARD)
POLICY = default_policy()
BOOK = default_cap_book()


def run(app: dict[str, object]) -> dict[str, object]:
    return decide(
        Application.from_json(app),
        scorer=SCORER,
        model_version="m1",
        policy=POLICY,
        cap_book=BOOK,
        protected=("Age", "Marital"),
    ).to_json()


def test_row_scoring_follows_the_bins() -> None:
    result = SCORER.score_row({"Seniority": 5, "Home": "parents", "Income": None, "Records": "unknown"})
    assert [f.points for f in result.features] == [155.0, 140.0, 110.0, 90.0]
    assert result.score == 495.0
    assert math.isclose(result.pd, CARD.pd_from_score(495.0))
    assert SCORER.score_row({"Seniority": "abc"}).features[0].bin_index == -1


@given(
    st.lists(
        st.tuples(
            st.one_of(st.none(), st.floats(-5, 40)),
            st.sampled_from(["owner", "rent", "x", None]),
            st.one_of(st.none(), st.floats(0, 400)),
            st.sampled_from(["no", "yes", None]),
        ),
        min_size=1,
        max_size=30,
    )
)
def test_batch_equals_rows(rows: list[tuple[float | None, str | None, float | None, str | None]]) -> None:
    columns = {
        "Seniority": np.array([np.nan if r[0] is None else r[0] for r in rows]),
        "Home": [r[1] for r in rows],
        "Income": np.array([np.nan if r[2] is None else r[2] for r in rows]),
        "Records": [r[3] for r in rows],
    }
    batch = SCORER.score_batch(columns)
    single = [
        SCORER.score_row({"Seniority": r[0], "Home": r[1], "Income": r[2], "Records": r[3]}).score
        for r in rows
    ]
    assert np.allclose(batch, single)


def test_good_applicant_is_approved_with_a_capped_offer() -> None:
    result = run(application())
    assert result["outcome"] == "approve"
    offer = result["offer"]
    assert isinstance(offer, dict)
    assert Decimal(offer["apr_percent"]) <= 24
    assert Decimal(offer["principal"]) <= Decimal(offer["credit_limit"]) <= 30000
    assert offer["cap"]["reason"] == "CAP_WITHIN_LIMIT"


def test_affordability_limits_the_amount() -> None:
    result = run(
        application(
            applicant__monthly_income="2500", applicant__monthly_debt_payments="0", request__amount="30000"
        )
    )
    offer = result["offer"]
    assert isinstance(offer, dict)
    assert Decimal(offer["payment"]) <= Decimal("2500") * Decimal("0.30")


@pytest.mark.parametrize(
    ("override", "code"),
    [
        ({"applicant__age": 17}, "KO_AGE_BELOW_MIN"),
        ({"applicant__monthly_income": None}, "KO_INCOME_MISSING"),
        ({"applicant__monthly_debt_payments": "6000"}, "KO_DTI_TOO_HIGH"),
        ({"applicant__worst_dpd_now": 12}, "KO_EXISTING_OVERDUE"),
        ({"applicant__applications_last_30d": 9}, "KO_VELOCITY"),
        ({"applicant__blocklisted": True}, "KO_BLOCKLIST"),
    ],
)
def test_knock_out_rules(override: dict[str, object], code: str) -> None:
    result = run(application(**override))
    assert result["outcome"] == "decline"
    assert result["reasons"][0]["code"] == code  # type: ignore[index]
    assert result["offer"] is None


def test_weak_applicant_declined_with_readable_reasons_never_protected() -> None:
    result = run(
        application(
            features__Seniority=0, features__Home="rent", features__Income=50, features__Records="yes"
        )
    )
    assert result["outcome"] == "decline"
    codes = [r["code"] for r in result["reasons"]]  # type: ignore[index, union-attr]
    assert codes[0] == "RISK_TOO_HIGH"
    assert "SCORE_RECORDS" in codes
    assert not any("AGE" in c or "MARITAL" in c for c in codes)
    assert all(r["zh"] and r["en"] for r in result["reasons"])  # type: ignore[index, union-attr]
    assert len(result["reasons"]) <= 4  # type: ignore[arg-type]


def test_decision_is_deterministic() -> None:
    assert run(application()) == run(application())


def test_bad_application_and_policy() -> None:
    with pytest.raises(ApplicationError, match="missing"):
        Application.from_json({"application_id": "x"})
    with pytest.raises(ApplicationError):
        Application.from_json({"application_id": "x", "as_of": "nope"})
    with pytest.raises(PolicyError):
        parse_policy("{}")


def test_bad_applicant_values_never_pass_a_knock_out() -> None:
    with pytest.raises(ApplicationError, match="age"):
        Application.from_json({**application(), "applicant": {"monthly_income": "9000"}})
    with pytest.raises(ApplicationError, match="is not an amount"):
        Application.from_json(application(request__amount="-5"))
    for income in ("Infinity", "1e400"):
        result = run(application(applicant__monthly_income=income))
        assert result["outcome"] == "decline"
        assert result["reasons"][0]["code"] == "KO_INCOME_MISSING"  # type: ignore[index]
    for income in ("NaN", "sNaN"):
        with pytest.raises(ApplicationError, match="malformed"):
            Application.from_json(application(applicant__monthly_income=income))
    with pytest.raises(ApplicationError):
        Application.from_json(application(applicant__age="sNaN"))
    with pytest.raises(ApplicationError):
        Application.from_json(application(applicant__age="old"))


def test_batch_treats_padding_and_text_like_rows() -> None:
    columns = {
        "Seniority": ["abc", 8],
        "Home": [" owner", "owner"],
        "Income": [180, 180],
        "Records": ["no", "no"],
    }
    batch = SCORER.score_batch(columns)
    rows = [SCORER.score_row({k: v[i] for k, v in columns.items()}).score for i in range(2)]
    assert list(batch) == rows


def test_an_unverifiable_cap_declines_at_once() -> None:
    from dataclasses import replace

    policy = replace(POLICY, cap_profile="cn-private-4xlpr")
    result = decide(
        Application.from_json(application()), scorer=SCORER, model_version="m1", policy=policy, cap_book=BOOK
    ).to_json()
    assert result["reasons"][0]["code"] == "PRICE_CAP_UNAVAILABLE"  # type: ignore[index]
