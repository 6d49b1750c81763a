"""A product code the file's vocabulary lacks is reported as the vocabulary's code for the same rule; the
product's code stays in ``reasons`` and the decision never changes (conformance/vocabulary.py)."""

from __future__ import annotations

from typing import Any

import pytest

from xiaodai.conformance.vocabulary import in_vocabulary

VOCABULARY = frozenset(
    {"ALLOWED", "SLA_BREACH_15D", "SLA_BREACH_60D_MAX", "EXTENSION_NOT_NOTIFIED", "NEED_TO_KNOW"}
)


@pytest.mark.parametrize(
    ("reason", "reasons", "reported"),
    [
        ("REVIEW_REQUEST_IN_TIME", ["REVIEW_REQUEST_IN_TIME"], "ALLOWED"),
        ("CLOSE_ALLOWED", ["CLOSE_ALLOWED"], "ALLOWED"),
        ("EXTENSION_NO_REASON", ["EXTENSION_NO_REASON"], "EXTENSION_NOT_NOTIFIED"),
        ("SLA_OPEN_BREACHED", ["SLA_OPEN_BREACHED", "SLA_BREACH_15D"], "SLA_BREACH_15D"),
        # past a valid 30-day extension: the vocabulary has no code for that limit, the product's code stays
        ("SLA_OPEN_BREACHED", ["SLA_OPEN_BREACHED", "SLA_BREACH_30D"], "SLA_OPEN_BREACHED"),
        ("EXTENSION_AFTER_DEADLINE", ["EXTENSION_AFTER_DEADLINE", "SLA_BREACH_15D"], "SLA_BREACH_15D"),
        ("SLA_OPEN_BREACHED", ["SLA_OPEN_BREACHED", "SLA_BREACH_60D_MAX"], "SLA_BREACH_60D_MAX"),
        # no broader code for the rule: reported as it is
        ("REGULATOR_FEEDBACK_LATE", ["REGULATOR_FEEDBACK_LATE", "SLA_MET"], "REGULATOR_FEEDBACK_LATE"),
        ("REVIEW_OPEN_BREACHED", ["REVIEW_OPEN_BREACHED"], "REVIEW_OPEN_BREACHED"),
    ],
)
def test_reported_in_the_files_vocabulary(reason: str, reasons: list[str], reported: str) -> None:
    result: dict[str, Any] = {"decision": "block", "reason": reason, "reasons": reasons}
    out = in_vocabulary(result, VOCABULARY)
    assert out["reason"] == reported
    assert out["decision"] == "block"
    assert reason in out["reasons"]


def test_a_code_in_the_vocabulary_or_no_vocabulary_is_left_alone() -> None:
    result = {"decision": "allow", "reason": "CLOSE_ALLOWED", "reasons": ["CLOSE_ALLOWED"]}
    assert in_vocabulary(result, None)["reason"] == "CLOSE_ALLOWED"
    assert in_vocabulary(result, VOCABULARY | {"CLOSE_ALLOWED"})["reason"] == "CLOSE_ALLOWED"
