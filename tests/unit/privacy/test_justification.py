"""A justification must be a real reason (placeholders and repetition refused; the rules of
``is_real_justification`` shared with the data-protection policy); the per-shift unmask allowance."""

from __future__ import annotations

import pytest

from xiaodai.privacy.access import (
    FREE_UNMASKS_PER_SHIFT,
    MAX_UNMASKS_PER_SHIFT,
    decide_view,
    is_real_justification,
    unmask_allowance,
)


@pytest.mark.parametrize(
    "text",
    [
        "xxxxxxxxxx",
        "x" * 40,
        "aaaaaaaaab",
        "ababababab",
        "abcabcabcabc",
        "abcdabcdabcd",
        "1234567890",
        "qwertyuiop",
        "abcdefghijk",
        "test test test",
        "n/a n/a n/a n/a",
        "reason reason",
        "..........",
        "   short   ",
        "测试测试测试测试测试",
        "",
    ],
)
def test_placeholders_are_refused(text: str) -> None:
    assert not is_real_justification(text)


@pytest.mark.parametrize(
    "text",
    [
        "identity check, demo run",
        "borrower called to correct the address",
        "客户来电核实身份信息",
        "complaint 1234 callback",
        "stated by the scenario",
    ],
)
def test_real_reasons_pass(text: str) -> None:
    assert is_real_justification(text)


def test_repetition_edges() -> None:
    assert not is_real_justification("abcd abcd abcd")  # a unit of 4 repeated
    assert not is_real_justification("测试测试测试")


def test_decide_view_uses_the_same_rule_for_break_glass_and_role_unmasking() -> None:
    for glass in (False, True):
        refused = decide_view(
            {"underwriter"}, is_self=False, assigned=False, unmask=("phone",), justification="xxxxxxxxxx",
            break_glass=glass,
        )  # fmt: skip
        assert refused.reason == "JUSTIFICATION_REQUIRED"


def test_allowance_edges() -> None:
    assert unmask_allowance(FREE_UNMASKS_PER_SHIFT - 1, approved=False) == "ALLOWED"
    assert unmask_allowance(FREE_UNMASKS_PER_SHIFT, approved=False) == "UNMASK_APPROVAL_REQUIRED"
    assert unmask_allowance(FREE_UNMASKS_PER_SHIFT, approved=True) == "ALLOWED"
    assert unmask_allowance(MAX_UNMASKS_PER_SHIFT - 1, approved=True) == "ALLOWED"
    assert unmask_allowance(MAX_UNMASKS_PER_SHIFT, approved=True) == "UNMASK_RATE_LIMITED"
