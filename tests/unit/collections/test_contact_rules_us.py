"""US Regulation F rules, each on both sides of its edge (docs/domains/collections.md, US rule matrix)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from support.contact_rules import CHI, DC, STOP, call, prior, to, us, us_case
from xiaodai.collections.contact_facts import (
    AgreedHours,
    AttorneyRepresentation,
    CallConsent,
    CeaseRequest,
    Debt,
    Dispute,
    Email,
    OptOut,
    PriorContact,
)

MON = datetime(2026, 4, 6, 10, tzinfo=CHI)  # a Monday in CDT


def week(outcome: str, n: int = 7, start: datetime = MON) -> list[PriorContact]:
    return [prior(start + timedelta(days=k), outcome) for k in range(n)]


# ----------------------------------------------------------------------------- 7-in-7 (1006.14(b)(2)-(3))


def test_seven_calls_allowed_the_eighth_presumed_harassing() -> None:
    at = MON + timedelta(days=6, hours=5)
    assert us(us_case(), call(), at, week("no_answer", 6)).allowed  # the 7th call
    blocked = us(us_case(), call(), at, week("no_answer", 7))  # the 8th
    assert blocked.reason == "FREQ_7IN7_ATTEMPTS"
    assert blocked.next_allowed_at == datetime(2026, 4, 13, 8, tzinfo=CHI)  # day 1 rolls off
    assert us(us_case(), call(), at + timedelta(days=1), week("no_answer", 7)).allowed


@pytest.mark.parametrize("outcome", ["busy_signal", "number_not_in_service"])
def test_calls_not_connected_to_the_dialled_number_are_not_counted(outcome: str) -> None:
    at = MON + timedelta(days=6, hours=5)
    history = [*week("no_answer", 6), prior(MON + timedelta(days=6), outcome)]
    assert us(us_case(), call(), at, history).allowed
    assert us(us_case(), call(), at, week(outcome, 7)).allowed


def test_limited_content_voicemails_count_and_a_voicemail_is_a_call() -> None:
    at = MON + timedelta(days=6, hours=5)
    history = week("voicemail_limited_content", 7)
    assert us(us_case(), call(), at, history).reason == "FREQ_7IN7_ATTEMPTS"
    voicemail = call(channel="voicemail", message="Hi, this is Jane from ABC. Please call 800-555-0100.")
    assert us(us_case(), voicemail, at, history).reason == "FREQ_7IN7_ATTEMPTS"
    assert us(us_case(), voicemail, at, history[1:]).reason == "ALLOWED_LIMITED_CONTENT"


def test_prior_consent_given_directly_excludes_calls_for_seven_days() -> None:
    history = week("no_answer", 7)
    given = CallConsent(MON, given_directly_to_collector=True)
    day7 = MON + timedelta(days=6, hours=5)
    assert us(us_case(flags={"prior_consent_to_call": given}), call(), day7, history).reason == (
        "ALLOWED_PRIOR_CONSENT"
    )
    # consent on file that no limit needed: plain ALLOWED (the consent did not decide)
    assert us(us_case(flags={"prior_consent_to_call": given}), call(), day7, []).reason == "ALLOWED"
    # day 8: the consent has lapsed, but the calls it covered still do not count
    day8 = MON + timedelta(days=7, hours=1)
    assert us(us_case(flags={"prior_consent_to_call": given}), call(), day8, history).allowed
    # consent given to the creditor (not directly), or not shown to be direct: no exclusion
    for direct in (False, None):
        creditor = CallConsent(MON, given_directly_to_collector=direct)
        verdict = us(us_case(flags={"prior_consent_to_call": creditor}), call(), day7, history)
        assert verdict.reason == "FREQ_7IN7_ATTEMPTS"


def test_quiet_week_after_a_conversation_day_one_is_the_conversation_day() -> None:
    talk = [prior(MON, "connected_conversation")]
    assert us(us_case(), call(), MON + timedelta(hours=2), talk).reason == "FREQ_7DAY_AFTER_CONVERSATION"
    assert us(us_case(), call(), MON + timedelta(days=6, hours=10), talk).reason == (
        "FREQ_7DAY_AFTER_CONVERSATION"
    )
    assert us(us_case(), call(), datetime(2026, 4, 13, 8, tzinfo=CHI), talk).allowed  # day 8, 08:00
    inbound = [prior(MON, "connected_conversation", initiated_by="borrower")]
    assert us(us_case(), call(), MON + timedelta(days=1), inbound).reason == "FREQ_7DAY_AFTER_CONVERSATION"


# ------------------------------------------------------------------------------- hours (1006.6(b)(1)(i))


def test_hours_follow_dst_in_the_consumer_zone() -> None:
    # Nov 1 2026: clocks fall back in Chicago; 13:30 UTC is 08:30 CDT before, 07:30 CST after
    before = datetime(2026, 10, 31, 13, 30, tzinfo=ZoneInfo("UTC"))
    assert us(us_case(), call(), before, []).allowed
    assert us(us_case(), call(), before + timedelta(days=1), []).reason == "TIME_WINDOW"
    assert us(us_case(), call(), datetime(2026, 11, 1, 8, 0, tzinfo=CHI), []).allowed  # exactly 08:00
    assert us(us_case(), call(), datetime(2026, 11, 1, 20, 59, tzinfo=CHI), []).allowed
    assert us(us_case(), call(), datetime(2026, 11, 1, 21, 0, tzinfo=CHI), []).reason == "TIME_WINDOW"


def test_a_mailing_state_in_another_zone_makes_the_location_ambiguous() -> None:
    at = datetime(2026, 4, 8, 8, 30, tzinfo=ZoneInfo("America/New_York"))
    ny = us_case(timezone="America/New_York", candidate_timezones=())
    assert us(ny, call(), at, []).allowed
    assert us(replace(ny, location_states=("CA",)), call(), at, []).reason == (
        "TIME_WINDOW_AMBIGUOUS_LOCATION"
    )
    later = at + timedelta(hours=3)  # 11:30 ET = 08:30 PT: convenient everywhere
    assert us(replace(ny, location_states=("CA",)), call(), later, []).allowed


def test_a_phone_area_code_in_another_zone_makes_the_location_ambiguous() -> None:
    evening = datetime(2026, 4, 8, 20, 30, tzinfo=CHI)  # 21:30 in New York
    assert us(us_case(location_area_codes=("312",)), call(), evening, []).allowed  # Chicago's own code
    assert us(us_case(location_area_codes=("212",)), call(), evening, []).reason == (
        "TIME_WINDOW_AMBIGUOUS_LOCATION"
    )
    assert us(us_case(location_area_codes=("212",)), call(), evening - timedelta(minutes=31), []).allowed
    # an area code that spans two zones (western Kentucky, 270: Central and Eastern) counts as both
    assert us(us_case(location_area_codes=("270",)), call(), evening, []).reason == (
        "TIME_WINDOW_AMBIGUOUS_LOCATION"
    )


def test_consumer_agreed_hours_allow_a_later_call() -> None:
    agreed = AgreedHours(time(21), time(22), initiated_by="consumer")
    late = datetime(2026, 4, 8, 21, 30, tzinfo=CHI)
    assert us(us_case(flags={"debtor_agreed_contact_hours": agreed}), call(), late, []).reason == (
        "ALLOWED_DEBTOR_AGREED"
    )
    assert us(us_case(flags={"debtor_agreed_contact_hours": agreed}), call(), late + timedelta(hours=1), [])
    assert not us(
        us_case(flags={"debtor_agreed_contact_hours": agreed}), call(), late + timedelta(hours=1), []
    ).allowed


# ------------------------------------------------------------------------------------------------- holds


def test_attorney_calls_are_allowed_and_the_consumer_is_held() -> None:
    held = us_case(flags={"represented_by_attorney": AttorneyRepresentation("Kim Law")})
    assert us(held, call(), MON, []).reason == "ATTORNEY_REPRESENTED"
    to_lawyer = to("attorney", "L1", message="Your client's balance of $2,300 on the ABC loan is past due.")
    assert us(held, to_lawyer, MON, week("no_answer", 7, MON - timedelta(days=6))).allowed
    assert us(held, to_lawyer, datetime(2026, 4, 6, 21, 30, tzinfo=CHI), []).allowed
    failed = AttorneyRepresentation("Kim Law", attorney_failed_to_respond=True)
    assert us(us_case(flags={"represented_by_attorney": failed}), call(), MON, []).allowed
    unknown = AttorneyRepresentation("?", name_and_address_known=False)
    assert us(us_case(flags={"represented_by_attorney": unknown}), call(), MON, []).allowed
    later = AttorneyRepresentation("Kim Law", notified_at=MON + timedelta(seconds=1))
    assert us(us_case(flags={"represented_by_attorney": later}), call(), MON, []).allowed


def test_dispute_pauses_collection_until_verification_is_sent() -> None:
    open_ = Dispute("written", MON - timedelta(days=3), within_validation_period=True)
    assert us(us_case(flags={"dispute": open_}), call(), MON, []).reason == "DISPUTE_PENDING_VERIFICATION"
    sent = Dispute(
        "written", MON - timedelta(days=3), within_validation_period=True, verification_sent_at=MON
    )
    assert us(us_case(flags={"dispute": sent}), call(), MON, []).allowed  # exactly when sent
    assert us(us_case(flags={"dispute": sent}), call(), MON - timedelta(seconds=1), []).reason == (
        "DISPUTE_PENDING_VERIFICATION"
    )
    # resumed collection is still subject to the other limits
    assert (
        us(
            us_case(flags={"dispute": sent}),
            call(),
            MON,
            [prior(MON - timedelta(hours=1), "connected_conversation")],
        ).reason
        == "FREQ_7DAY_AFTER_CONVERSATION"
    )
    late = Dispute("written", MON - timedelta(days=60), within_validation_period=False)
    assert us(us_case(flags={"dispute": late}), call(), MON, []).allowed
    assert us(us_case(flags={"dispute": Dispute("oral", MON)}), call(), MON, []).allowed


def test_cease_in_writing_stops_all_but_the_three_notices() -> None:
    written = CeaseRequest("written", MON - timedelta(days=1))
    assert us(us_case(flags={"cease_request": written}), call(), MON, []).reason == "CEASE_COMMUNICATION"
    notice = to("consumer", channel="letter", purpose="cease_exception_termination_notice", message=DC)
    assert us(us_case(flags={"cease_request": written}), notice, MON, []).reason == "ALLOWED_CEASE_EXCEPTION"
    assert us(us_case(flags={"cease_request": CeaseRequest("oral", MON)}), call(), MON, []).allowed
    future = CeaseRequest("written", MON + timedelta(minutes=1))
    assert us(us_case(flags={"cease_request": future}), call(), MON, []).allowed


def test_a_cease_of_unknown_form_is_honoured_an_oral_one_is_not() -> None:
    # SCENARIO_FORMAT.md leaves `form` open: a form the reader does not know arrives as None ("not known")
    unknown = CeaseRequest(None, MON - timedelta(days=1))
    assert us(us_case(flags={"cease_request": unknown}), call(), MON, []).reason == "CEASE_COMMUNICATION"
    oral = CeaseRequest("oral", MON - timedelta(days=1))
    assert us(us_case(flags={"cease_request": oral}), call(), MON, []).allowed


# -------------------------------------------------------------------------------------------- channels


def test_opt_outs_are_per_medium_and_per_number() -> None:
    opted = us_case(flags={"opted_out": (OptOut("call", "P1", at=MON - timedelta(days=1)),)})
    assert us(opted, call("P1"), MON, []).reason == "CHANNEL_OPTED_OUT"
    assert (
        us(
            opted, call("P1", channel="voicemail", message="Hi, Jane from ABC, call 800-555-0100."), MON, []
        ).reason
        == "CHANNEL_OPTED_OUT"
    )
    assert us(opted, call("P2"), MON, []).allowed
    assert us(opted, call("P1", channel="sms", message=DC + " Please call us." + STOP), MON, []).allowed


def test_workplace_number_when_the_employer_prohibits() -> None:
    assert us(us_case(flags={"employer_prohibits_contact": True}), call("W1"), MON, []).reason == (
        "WORKPLACE_PROHIBITED"
    )
    assert us(us_case(), call("W1"), MON, []).allowed


def test_employer_provided_email_only_with_the_consumers_consent_or_use() -> None:
    text = DC + " Please contact us about your account. To stop emails, click abc.example/optout."
    mail = to("consumer", channel="email", email_id="E2", message=text)
    work = Email("E2", "employer_provided", "skip_trace")
    assert us(us_case(emails=(work,)), mail, MON, []).reason == "WORK_EMAIL"
    used = Email("E2", "employer_provided", "skip_trace", consumer_emailed_from_it=True)
    assert us(us_case(emails=(used,)), mail, MON, []).allowed
    agreed = Email("E2", "employer_provided", "consumer_provided", consumer_consented=True)
    assert us(us_case(emails=(agreed,)), mail, MON, []).allowed


def test_social_media_private_message_allowed_public_post_prohibited() -> None:
    text = DC + " Please contact us about your account at abc.example." + STOP
    dm = to("consumer", channel="social_media", visibility="private_direct_message", message=text)
    assert us(us_case(), dm, MON, []).allowed
    no_opt_out = to("consumer", channel="social_media", visibility="private_direct_message", message=DC)
    assert us(us_case(), no_opt_out, MON, []).reason == "MISSING_OPT_OUT_NOTICE"
    post = to("consumer", channel="social_media", visibility="public_comment", message=text)
    verdict = us(us_case(), post, MON, [])
    assert verdict.reason == "PUBLIC_POSTING"
    assert "SOCIAL_MEDIA_PUBLIC" in verdict.reasons
    unknown = to("consumer", channel="social_media", message=text)
    assert us(us_case(), unknown, MON, []).reason == "SOCIAL_MEDIA_PUBLIC"


# ----------------------------------------------------------------- voicemail, shared lines, third parties


def test_limited_content_voicemail_needs_no_disclosure_but_debt_details_do() -> None:
    limited = call(
        channel="voicemail",
        message="Hi, this is Jane Lee calling about an account. Please call 800-555-0100.",
    )
    assert us(us_case(), limited, MON, []).reason == "ALLOWED_LIMITED_CONTENT"
    detailed = call(
        channel="voicemail", message="Jane from ABC: your balance of $412.50 is past due. Call 800-555-0100."
    )
    assert us(us_case(), detailed, MON, []).reason == "MISSING_DEBT_COLLECTOR_DISCLOSURE"
    assert us(
        us_case(), call(channel="voicemail", message=DC + " Your balance of $412.50 is past due."), MON, []
    ).allowed


def test_shared_household_line_carries_limited_content_only() -> None:
    limited = call("H1", channel="voicemail", message="Hi, this is Jane Lee. Please call 800-555-0100.")
    assert us(us_case(), limited, MON, []).reason == "ALLOWED_LIMITED_CONTENT"
    detailed = call("H1", channel="voicemail", message=DC + " Your loan balance of $412.50 is past due.")
    assert us(us_case(), detailed, MON, []).reason == "THIRD_PARTY_DISCLOSURE_RISK"


def test_third_party_location_call_once_and_never_the_debt() -> None:
    unknown = us_case(flags={"consumer_location_known": False})
    ask = to(
        "other_third_party", "N1", message="Hi, we are sending flowers to John; do you have his new address?"
    )
    assert us(unknown, ask, MON, []).reason == "ALLOWED_LOCATION_INQUIRY"
    tried = [prior(MON - timedelta(days=1), "no_answer", target="other_third_party", contact_id="N1")]
    assert us(unknown, ask, MON, tried).allowed  # an unanswered call is not a communication
    spoke = [
        prior(MON - timedelta(days=1), "connected_conversation", target="other_third_party", contact_id="N1")
    ]
    assert us(unknown, ask, MON, spoke).reason == "THIRD_PARTY_REPEAT_LOCATION"
    assert us(us_case(), ask, MON, []).reason == "THIRD_PARTY_NOT_PERMITTED"
    owes = to("other_third_party", "N1", message="John owes us money; where does he live?")
    assert us(unknown, owes, MON, []).reason == "THIRD_PARTY_DEBT_DISCLOSURE"
    spouse = to("spouse", "S1", message=DC + " John's balance of $2,300 is past due.")
    assert us(unknown, spouse, MON, []).reason == "ALLOWED_SPOUSE_IS_CONSUMER"


def test_time_barred_debt_no_suit_threat() -> None:
    barred = us_case(debt=Debt("US-1", 2000, time_barred=True))
    letter = to("consumer", channel="letter", message=DC + " We may take legal action on this account.")
    assert us(barred, letter, MON, []).reason == "TIME_BARRED_LEGAL_THREAT"
    assert us(us_case(debt=Debt("US-1", 60, balance_usd=Decimal("1"))), letter, MON, []).allowed


OUTCOMES = ["no_answer", "busy_signal", "number_not_in_service", "voicemail_limited_content"]


@given(
    st.lists(
        st.tuples(st.integers(0, 13 * 24 * 60), st.sampled_from([*OUTCOMES, "connected_conversation"])),
        max_size=20,
    ),
    st.integers(6 * 24 * 60, 13 * 24 * 60),
)
def test_an_allowed_us_call_never_breaks_either_presumption(
    prior_calls: list[tuple[int, str]], minute: int
) -> None:
    start = datetime(2026, 3, 2, 0, 0, tzinfo=CHI)  # spans the DST change of March 8
    at = start + timedelta(minutes=minute)
    history = [prior(start + timedelta(minutes=m), outcome) for m, outcome in prior_calls]
    history = [c for c in history if c.at <= at]
    verdict = us(us_case(), call(), at, history)
    if verdict.reason == "TIME_WINDOW" or not verdict.allowed:
        return
    today = at.astimezone(CHI).date()
    in_week = [c for c in history if (today - c.at.astimezone(CHI).date()).days < 7]
    assert sum(c.outcome not in ("busy_signal", "number_not_in_service") for c in in_week) + 1 <= 7
    assert not any(c.outcome == "connected_conversation" for c in in_week)
