"""The reminder policy (pure): the steps a day calls for, channels by category and choice, the daily cap, how
our rules combine with the engine's verdict, texts in both languages."""

from __future__ import annotations

import json
from datetime import date, timedelta
from importlib import resources

import pytest
from hypothesis import given
from hypothesis import strategies as st

from xiaodai.notify.reminder_policy import (
    FREQ_NOTICE_DAILY_LIMIT,
    LEGAL_NOTICE_OVERRIDES_PREFERENCE,
    MARKETING_OPTED_OUT,
    Category,
    ChannelPlan,
    PolicyError,
    Preferences,
    decide,
    default_policy,
    from_document,
)

POLICY = default_policy()
DUE = date(2026, 2, 10)


def test_reminder_steps_are_the_policys_days() -> None:
    steps = {d: POLICY.reminder_step(DUE, DUE - timedelta(days=d)) for d in range(-2, 6)}
    assert steps == {
        -2: None,
        -1: None,
        0: ("due_today", "T0"),
        1: ("pre_due", "T-1"),
        2: None,
        3: ("pre_due", "T-3"),
        4: None,
        5: None,
    }
    assert POLICY.reminder_horizon() == (0, 1, 3)


def _channels(category: Category, **prefs: bool) -> list[tuple[str, str | None, tuple[str, ...]]]:
    return [(p.channel, p.suppressed, p.notes) for p in POLICY.channels(category, Preferences(**prefs))]


def test_channels_follow_the_choices_except_for_legal_notices() -> None:
    assert _channels(Category.SERVICING) == [("app_inbox", None, ()), ("sms", None, ())]
    assert _channels(Category.SERVICING, sms=False) == [("app_inbox", None, ())]
    assert _channels(Category.SERVICING, sms=False, email=True) == [
        ("app_inbox", None, ()),
        ("email", None, ()),
    ]
    assert _channels(Category.LEGAL, sms=False, marketing_opt_out=True) == [
        ("app_inbox", None, ()),
        ("sms", None, (LEGAL_NOTICE_OVERRIDES_PREFERENCE,)),
    ]
    assert _channels(Category.LEGAL, email=True) == [
        ("app_inbox", None, ()),
        ("sms", None, ()),
        ("email", None, ()),
    ]
    assert _channels(Category.MARKETING, marketing_opt_out=True) == [
        ("app_inbox", MARKETING_OPTED_OUT, ()),
        ("sms", MARKETING_OPTED_OUT, ()),
    ]


@given(sms=st.booleans(), email=st.booleans(), opt_out=st.booleans())
def test_every_category_reaches_the_inbox_and_legal_notices_always_reach_sms(
    sms: bool, email: bool, opt_out: bool
) -> None:
    prefs = Preferences(sms=sms, email=email, marketing_opt_out=opt_out)
    for category in Category:
        plans = {p.channel: p for p in POLICY.channels(category, prefs)}
        assert "app_inbox" in plans
        assert ("sms" in plans) == (sms or category is Category.LEGAL)
        assert ("email" in plans) == email
        suppressed = {p.suppressed for p in plans.values()}
        assert suppressed == ({MARKETING_OPTED_OUT} if category is Category.MARKETING and opt_out else {None})


def test_the_cap_is_per_channel_and_spares_legal_notices() -> None:
    assert not POLICY.over_daily_cap(Category.SERVICING, "sms", 1)
    assert POLICY.over_daily_cap(Category.SERVICING, "sms", 2)
    assert POLICY.over_daily_cap(Category.MARKETING, "email", 2)
    assert not POLICY.over_daily_cap(Category.LEGAL, "sms", 50)
    assert not POLICY.over_daily_cap(Category.SERVICING, "app_inbox", 50)


def test_the_engine_reason_stays_primary_and_the_cap_is_added() -> None:
    sms = ChannelPlan("sms")
    both = decide(
        "block", "TIME_WINDOW", ("TIME_WINDOW",), "2026.12-1", policy=POLICY, category=Category.SERVICING,
        channel=sms, allowed_today=2,
    )  # fmt: skip
    assert (both.decision, both.reason, both.reasons) == (
        "block",
        "TIME_WINDOW",
        ("TIME_WINDOW", FREQ_NOTICE_DAILY_LIMIT),
    )
    cap = decide(
        "allow", "ALLOWED", ("ALLOWED",), "2026.12-1", policy=POLICY, category=Category.SERVICING,
        channel=sms, allowed_today=2,
    )  # fmt: skip
    assert (cap.decision, cap.reason) == ("block", FREQ_NOTICE_DAILY_LIMIT)
    legal = decide(
        "allow", "ALLOWED", ("ALLOWED",), "2026.12-1", policy=POLICY, category=Category.LEGAL,
        channel=ChannelPlan("sms", None, (LEGAL_NOTICE_OVERRIDES_PREFERENCE,)), allowed_today=9,
    )  # fmt: skip
    assert (legal.decision, legal.reason) == ("allow", LEGAL_NOTICE_OVERRIDES_PREFERENCE)
    assert legal.rule_version == "2026.12-1+notice-2026.12-1"


def test_texts_in_both_languages_and_bad_payloads_refused() -> None:
    rule = POLICY.kind("debit_failed")
    payload = {"loan_id": 7, "amount": "902.58", "reason": "CARD_FROZEN"}
    assert "银行卡冻结" in POLICY.render(rule, "zh", payload)
    assert "card frozen" in POLICY.render(rule, "en", payload)
    assert "UNKNOWN_CODE" in POLICY.render(rule, "en", {**payload, "reason": "UNKNOWN_CODE"})
    with pytest.raises(PolicyError, match="lacks"):
        POLICY.render(rule, "zh", {"loan_id": 7})
    with pytest.raises(PolicyError, match="floats"):
        POLICY.render(rule, "zh", {**payload, "amount": 902.58})
    with pytest.raises(PolicyError, match="unknown notice kind"):
        POLICY.kind("nope")


def test_every_kind_renders_its_template_and_a_broken_policy_is_refused() -> None:
    raw = json.loads(resources.files("xiaodai.notify").joinpath("data/notice_policy.json").read_text("utf-8"))
    assert set(raw["templates"]) >= {POLICY.kind(k).template for k in POLICY.kinds()}
    for name in POLICY.kinds():
        for lang in ("zh", "en"):
            assert raw["templates"][POLICY.kind(name).template][lang]
    raw["kinds"]["pre_due"]["template"] = "missing"
    with pytest.raises(PolicyError, match="unknown template"):
        from_document(raw)
    del raw["channels"]
    with pytest.raises(PolicyError, match="channels"):
        from_document(raw)
