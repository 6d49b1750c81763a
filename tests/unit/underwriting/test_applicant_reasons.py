"""What the applicant reads about their score: only features with a catalogue source, "not given" only for
what the form asks, phrased without bin intervals, and what raised the score too."""

from __future__ import annotations

from xiaodai.features.catalogue import default_catalogue
from xiaodai.features.model_inputs import default_mapping
from xiaodai.underwriting.artifact import CompiledScorecard, FeatureBins
from xiaodai.underwriting.reasons import applicant_reasons, explainable, positive_factors, score_reasons
from xiaodai.underwriting.scorer import CompiledScorer


def _card() -> CompiledScorecard:
    """Columns as the demo's CreditScoring model has them: two the catalogue never supplies (Price, Assets),
    stated ones (Income, Seniority), a looked-up one (Records), a protected one (Age)."""
    labels = ("[-inf, 100)", "[100, 200)", "[200, inf)")

    def numeric(name: str, points: tuple[float, ...], missing: float) -> FeatureBins:
        return FeatureBins(name, "numeric", points, missing, splits=(100.0, 200.0), labels=labels)

    return CompiledScorecard(
        features=(
            numeric("Price", (40.0, 50.0, 60.0), 10.0),
            numeric("Assets", (40.0, 50.0, 60.0), 5.0),
            numeric("Income", (10.0, 40.0, 70.0), 0.0),
            numeric("Seniority", (20.0, 30.0, 45.0), 15.0),
            numeric("Age", (0.0, 20.0, 40.0), 0.0),
            FeatureBins(
                "Records",
                kind="categorical",
                points=(60.0, 0.0),
                missing_points=30.0,
                categories=(("no",), ("yes",)),
                labels=("no", "yes"),
            ),
        ),
        labels_zh={
            "Income": "月收入",
            "Seniority": "工作年限",
            "Records": "不良记录",
            "Price": "所购商品价格",
        },
        labels_en={
            "Income": "Monthly income",
            "Seniority": "Years at current job",
            "Records": "Adverse credit records",
            "Price": "Price of goods purchased",
        },
    )


def test_only_catalogue_features_are_cited() -> None:
    card = _card()
    scorer = CompiledScorer(card)
    allowed = explainable(scorer.feature_names, catalogue=default_catalogue(), mapping=default_mapping())
    assert allowed.sourced == {"Income", "Seniority", "Records", "Age"}
    assert allowed.asked == {"Income", "Seniority", "Age"}  # Records is looked up, never asked
    row = {"Income": 250, "Seniority": 150, "Records": None, "Age": 30}  # no bureau file: Records missing
    scored = scorer.score_row(row).features
    # the model's own ranking cites the columns nobody asked for, as "missing", with bin intervals
    raw = [r.text_en for r in score_reasons(card, scored, protected=("Age",))]
    assert "Price of goods purchased (missing) lowered the score by about 50 points" in raw
    reasons = applicant_reasons(card, scored, allowed=allowed, protected=("Age",))
    assert [r.text_en for r in reasons] == ["Years at current job lowered the score"]
    assert [r.text_zh for r in reasons] == ["工作年限使评分降低"]
    assert all("[" not in r.text_en and "missing" not in r.text_en for r in reasons)
    positive = positive_factors(card, scored, allowed=allowed, protected=("Age",))
    assert [r.text_en for r in positive] == ["Monthly income raised the score"]


def test_not_given_only_for_what_the_form_asks_and_a_clean_record_helps() -> None:
    card = _card()
    scorer = CompiledScorer(card)
    allowed = explainable(scorer.feature_names, catalogue=default_catalogue(), mapping=default_mapping())
    scored = scorer.score_row({"Income": 50, "Seniority": None, "Records": "no", "Age": 70}).features
    reasons = applicant_reasons(card, scored, allowed=allowed, protected=("Age",))
    assert [r.text_en for r in reasons] == [
        "Monthly income lowered the score",
        "Years at current job was not given, which lowered the score",
    ]
    assert reasons[1].text_zh == "未填写工作年限，评分因此降低"
    positive = positive_factors(card, scored, allowed=allowed, protected=("Age",))
    assert [(r.code, r.text_zh, r.text_en) for r in positive] == [
        ("POSITIVE_RECORDS", "无不良记录提高了评分", "No adverse credit records raised the score")
    ]  # Age is protected: never a factor either way
