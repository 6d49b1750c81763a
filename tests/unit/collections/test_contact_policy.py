"""Contact-policy engine: hours (DST, midnight, ambiguous zones), frequency, holds, third parties."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from xiaodai.collections.contact_facts import (
    AgreedHours,
    AttorneyRepresentation,
    Dispute,
    Flags,
    Hardship,
    OptOut,
    Phone,
    ThirdParty,
    Unreachable,
)
from xiaodai.collections.contact_policy import (
    Attempt,
    Context,
    PriorContact,
    ProfileError,
    derive_profile,
    evaluate,
    load_profile,
)

CN = load_profile("CN")
US = load_profile("US_RegF")
SH = ZoneInfo("Asia/Shanghai")
CHI = ZoneInfo("America/Chicago")


def cn_ctx(**flags: Any) -> Context:
    return Context(
        timezone="Asia/Shanghai",
        phones=(Phone("M1", "mobile"),),
        flags=Flags(consumer_location_known=True, **flags),
    )


def us_ctx(zones: list[str] | None = None, **flags: Any) -> Context:
    zones = zones or ["America/Chicago"]
    return Context(
        timezone=zones[0],
        candidate_timezones=tuple(zones),
        phones=(Phone("P1", "mobile"), Phone("W1", "work")),
        flags=Flags(consumer_location_known=True, **flags),
        collector_role="third_party_debt_collector",
        first_communication_done=True,
    )


CALL_CN = Attempt("contact", "call", phone_id="M1")
CALL_US = Attempt("contact", "call", phone_id="P1")


def call(
    at: datetime, outcome: str = "no_answer", phone: str = "M1", target: str = "borrower"
) -> PriorContact:
    return PriorContact(at, target, "call", phone, None, "agent", outcome)


@pytest.mark.parametrize(
    ("hh", "mm", "decision"),
    [(7, 59, "block"), (8, 0, "allow"), (21, 59, "allow"), (22, 0, "block"), (0, 0, "block")],
)
def test_cn_window_is_half_open(hh: int, mm: int, decision: str) -> None:
    verdict = evaluate(CN, cn_ctx(), [], CALL_CN, datetime(2026, 3, 10, hh, mm, tzinfo=SH))
    assert verdict.decision == decision
    if decision == "block":
        assert verdict.reason == "TIME_WINDOW"


def test_debtor_agreement_allows_evening_contact() -> None:
    verdict = evaluate(
        CN,
        cn_ctx(
            debtor_agreed_contact_hours=AgreedHours(
                time(22), time(23), initiated_by="borrower", evidence="recording R-1"
            )
        ),
        [],
        CALL_CN,
        datetime(2026, 3, 10, 22, 30, tzinfo=SH),
    )
    assert verdict.reason == "ALLOWED_DEBTOR_AGREED"


def test_us_window_follows_dst() -> None:
    # 8:30 in Chicago is fine on both sides of the March DST change; 7:59 never is
    for day in (7, 9):
        assert evaluate(US, us_ctx(), [], CALL_US, datetime(2026, 3, day, 8, 30, tzinfo=CHI)).allowed
        assert not evaluate(US, us_ctx(), [], CALL_US, datetime(2026, 3, day, 7, 59, tzinfo=CHI)).allowed
    # the same UTC instant is 8:30 CDT but 7:30 CST: the zone rules decide, not a fixed offset
    utc_instant = datetime(2026, 3, 9, 13, 30, tzinfo=ZoneInfo("UTC"))
    assert evaluate(US, us_ctx(), [], CALL_US, utc_instant).allowed
    assert not evaluate(US, us_ctx(), [], CALL_US, utc_instant - timedelta(days=2)).allowed


def test_every_candidate_zone_must_fit() -> None:
    verdict = evaluate(
        US,
        us_ctx(["America/New_York", "America/Los_Angeles"]),
        [],
        CALL_US,
        datetime(2026, 4, 8, 8, 30, tzinfo=ZoneInfo("America/New_York")),
    )
    assert verdict.reason == "TIME_WINDOW_AMBIGUOUS_LOCATION"


def test_cn_connected_and_attempt_limits_count_the_local_day() -> None:
    day = datetime(2026, 3, 10, 9, 0, tzinfo=SH)
    three = [call(day + timedelta(hours=h), "connected_conversation") for h in range(3)]
    assert evaluate(CN, cn_ctx(), three, CALL_CN, day + timedelta(hours=5)).reason == "FREQ_CONNECTED_LIMIT"
    # yesterday's conversations don't count
    assert evaluate(
        CN,
        cn_ctx(),
        [call(c.at - timedelta(days=1), c.outcome) for c in three],
        CALL_CN,
        day + timedelta(hours=5),
    ).allowed
    six = [call(day + timedelta(minutes=20 * k)) for k in range(6)]
    assert evaluate(CN, cn_ctx(), six, CALL_CN, day + timedelta(hours=5)).reason == "FREQ_ATTEMPT_LIMIT"
    # another number of the same debtor is another contact method
    other = Attempt("contact", "call", phone_id="M2")
    assert evaluate(CN, cn_ctx(), six, other, day + timedelta(hours=5)).allowed
    # the borrower calling in is never limited
    inbound = Attempt("answer_inbound", "call", phone_id="M1")
    assert evaluate(CN, cn_ctx(), three + six, inbound, day + timedelta(hours=5)).allowed


def test_us_quiet_week_and_seven_in_seven() -> None:
    conversation = datetime(2026, 4, 7, 14, 0, tzinfo=CHI)
    history = [call(conversation, "connected_conversation", "P1", "consumer")]
    assert (
        evaluate(US, us_ctx(), history, CALL_US, datetime(2026, 4, 13, 10, tzinfo=CHI)).reason
        == "FREQ_7DAY_AFTER_CONVERSATION"
    )
    assert evaluate(US, us_ctx(), history, CALL_US, datetime(2026, 4, 14, 10, tzinfo=CHI)).allowed
    seven = [call(datetime(2026, 4, 1 + k, 10, tzinfo=CHI), "no_answer", "P1", "consumer") for k in range(7)]
    assert (
        evaluate(US, us_ctx(), seven, CALL_US, datetime(2026, 4, 7, 15, tzinfo=CHI)).reason
        == "FREQ_7IN7_ATTEMPTS"
    )
    assert evaluate(
        US, us_ctx(), seven, CALL_US, datetime(2026, 4, 8, 15, tzinfo=CHI)
    ).allowed  # day 1 rolled off
    busy = [call(c.at, "busy_signal", "P1", "consumer") for c in seven]
    assert evaluate(US, us_ctx(), busy, CALL_US, datetime(2026, 4, 7, 15, tzinfo=CHI)).allowed


@given(
    st.lists(
        st.tuples(
            st.integers(0, 13 * 60),
            st.sampled_from(["no_answer", "connected_conversation", "voicemail_limited_content"]),
        ),
        max_size=12,
    ),
    st.integers(0, 13 * 60),
)
def test_an_allowed_attempt_never_breaks_a_frequency_limit(prior: list[tuple[int, str]], minute: int) -> None:
    start = datetime(2026, 3, 10, 8, 0, tzinfo=SH)
    history = sorted(
        (call(start + timedelta(minutes=m), outcome) for m, outcome in prior), key=lambda c: c.at
    )
    at = start + timedelta(minutes=minute)
    history = [c for c in history if c.at <= at]
    verdict = evaluate(CN, cn_ctx(), history, CALL_CN, at)
    if verdict.allowed:
        after = [*history, call(at, "connected_conversation")]
        connected = sum(c.outcome == "connected_conversation" for c in after)
        assert connected <= 3
        assert len(after) <= 6


def test_holds_and_channels() -> None:
    at = datetime(2026, 4, 8, 10, tzinfo=CHI)
    assert (
        evaluate(US, us_ctx(represented_by_attorney=AttorneyRepresentation("x")), [], CALL_US, at).reason
        == "ATTORNEY_REPRESENTED"
    )
    assert (
        evaluate(
            US, us_ctx(employer_prohibits_contact=True), [], Attempt("contact", "call", phone_id="W1"), at
        ).reason
        == "WORKPLACE_PROHIBITED"
    )
    opted = us_ctx(opted_out=(OptOut("call", "*", at=datetime(2026, 4, 6, 10, tzinfo=CHI)),))
    assert evaluate(US, opted, [], CALL_US, at).reason == "CHANNEL_OPTED_OUT"
    assert (
        evaluate(
            CN, cn_ctx(dispute=Dispute("written")), [], CALL_CN, datetime(2026, 3, 10, 10, tzinfo=SH)
        ).reason
        == "DISPUTE_PENDING_VERIFICATION"
    )


def test_third_parties_cn() -> None:
    ctx = Context(
        timezone="Asia/Shanghai",
        contacts=(
            ThirdParty("E1", "emergency_contact", "friend", "borrower_provided_at_application"),
            ThirdParty("A1", "other_third_party", source="device_address_book"),
        ),
    )
    at = datetime(2026, 3, 10, 10, tzinfo=SH)
    ask = Attempt(
        "contact",
        "call",
        target_type="emergency_contact",
        contact_id="E1",
        message="您好，请转告张三尽快联系我们。",
    )
    assert evaluate(CN, ctx, [], ask, at).reason == "THIRD_PARTY_DEBTOR_REACHABLE"
    lost = replace(ctx, flags=Flags(debtor_unreachable=Unreachable("unreachable")))
    assert evaluate(CN, lost, [], ask, at).reason == "ALLOWED_THIRD_PARTY_LOCATION"
    harvested = Attempt("contact", "call", target_type="other_third_party", contact_id="A1", message="您好")
    assert evaluate(CN, lost, [], harvested, at).reason == "CONTACT_SOURCE_UNLAWFUL"


def test_derived_profiles_may_only_tighten() -> None:
    strict = derive_profile(
        {
            "extends": "CN",
            "name": "lender-x",
            "allowed_hours": ["09:00", "20:00"],
            "frequency": {"max_connected_collector_initiated_voice_per_debtor_per_day": 2},
        }
    )
    at = datetime(2026, 3, 10, 8, 30, tzinfo=SH)
    assert evaluate(CN, cn_ctx(), [], CALL_CN, at).allowed
    assert evaluate(strict, cn_ctx(), [], CALL_CN, at).reason == "TIME_WINDOW"
    with pytest.raises(ProfileError, match="widen"):
        derive_profile({"extends": "CN", "allowed_hours": ["07:00", "22:00"]})
    with pytest.raises(ProfileError, match="raise"):
        derive_profile({"extends": "US_RegF", "frequency": {"max_calls_per_7_days_per_debt": 9}})
    with pytest.raises(ProfileError, match="unknown"):
        load_profile("XX")


def test_cn_complaint_and_hardship_plan_holds() -> None:
    at = datetime(2026, 3, 10, 10, tzinfo=SH)
    assert evaluate(CN, cn_ctx(complaint_hold=True), [], CALL_CN, at).reason == "HOLD_COMPLAINT"
    plan = cn_ctx(hardship=Hardship(declared=True, plan_active=True))
    assert evaluate(CN, plan, [], CALL_CN, at).reason == "HOLD_HARDSHIP_PLAN"
    offer = Attempt(
        "contact",
        "sms",
        phone_id="M1",
        purpose="hardship_offer",
        message="【某某借款】您的还款计划已调整，详情请在App查看。",
    )
    assert evaluate(CN, plan, [], offer, at).allowed
    assert evaluate(
        CN, cn_ctx(hardship=Hardship(declared=True)), [], CALL_CN, at
    ).allowed  # declared, no plan: not a hold
