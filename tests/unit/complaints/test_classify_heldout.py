"""Classifier accuracy on the held-out narratives (never tuned on) and on the tuning set.

Run with ``-s`` to see the figures:
``pytest -s -p no:xdist tests/unit/complaints/test_classify_heldout.py``. The held-out figure reported in
docs/domains/complaints.md is read from the doc, so the doc and the measurement cannot drift apart.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from xiaodai.complaints.classify import classify

ROOT = Path(__file__).parents[3]
GOLDEN = ROOT / "tests" / "golden" / "complaints"
DOC = ROOT / "docs" / "domains" / "complaints.md"
MARGIN = 0.03  # a later, honest pattern change may cost a case or so; more than that must be reported


def _load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((GOLDEN / name).read_text(encoding="utf-8"))
    return data


def measure(name: str) -> dict[str, float]:
    """Share of cases whose (product, issue, sub_issue) all match, and the product / issue shares."""
    data = _load(name)
    products = data["products"]
    exact = product = issue = 0
    for case in data["cases"]:
        got = classify(case["narrative"]).to_json()
        want = (products[case["product"]], case["issue"], case["sub_issue"])
        product += got["product"] == want[0]
        issue += (got["product"], got["issue"]) == want[:2]
        exact += (got["product"], got["issue"], got["sub_issue"]) == want
    n = len(data["cases"])
    return {"n": n, "exact": exact / n, "product": product / n, "issue": issue / n}


def _reported() -> float:
    match = re.search(
        r"Held-out accuracy \(exact product/issue/sub-issue\): \*\*(\d+(?:\.\d+)?)%\*\*",
        DOC.read_text("utf-8"),
    )
    assert match, "docs/domains/complaints.md must report the held-out accuracy"
    return float(match.group(1)) / 100


def test_heldout_set_is_large_mixed_and_disjoint_from_tuning() -> None:
    held, tuning = _load("classify_heldout.json"), _load("classify_tuning.json")
    langs = [c["lang"] for c in held["cases"]]
    assert len(langs) >= 40
    assert langs.count("zh") >= 15
    assert langs.count("en") >= 15
    assert not {c["narrative"] for c in held["cases"]} & {c["narrative"] for c in tuning["cases"]}


def test_heldout_accuracy_is_at_least_the_reported_figure() -> None:
    figures = measure("classify_heldout.json")
    print(f"\nheld-out: {figures}")
    assert figures["exact"] >= _reported() - MARGIN, figures


def test_tuning_set_accuracy() -> None:
    figures = measure("classify_tuning.json")
    print(f"\ntuning: {figures}")
    assert figures["exact"] >= 0.95, figures
