"""CN profile rules, each on both sides of its edge (docs/domains/collections.md, CN rule matrix)."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from decimal import Decimal

from support.contact_rules import SH, call, cn, cn_case, prior, to
from xiaodai.collections.contact_facts import AgreedHours, Debt, Dispute, ThirdParty, Unreachable

DAY = datetime(2026, 3, 10, 9, 0, tzinfo=SH)
LOST = {"debtor_unreachable": Unreachable("unreachable", "3 days no answer", DAY - timedelta(days=3))}
ASK = "您好，我们是某某公司，请转告张三尽快回电400-000-0000。"


def test_hours_midnight_and_the_debtors_own_agreement() -> None:
    assert cn(cn_case(), call("M1"), datetime(2026, 3, 10, 0, 0, tzinfo=SH)).reason == "TIME_WINDOW"
    assert cn(cn_case(), call("M1"), datetime(2026, 3, 10, 7, 59, 59, tzinfo=SH)).reason == "TIME_WINDOW"
    assert cn(cn_case(), call("M1"), datetime(2026, 3, 10, 8, 0, tzinfo=SH)).allowed
    own = AgreedHours(time(21), time(0, 30), initiated_by="borrower", evidence="录音 R-7")
    late = datetime(2026, 3, 11, 0, 15, tzinfo=SH)  # after midnight, inside the agreed window
    assert cn(cn_case(flags={"debtor_agreed_contact_hours": own}), call("M1"), late).reason == (
        "ALLOWED_DEBTOR_AGREED"
    )
    assert not cn(
        cn_case(flags={"debtor_agreed_contact_hours": own}), call("M1"), late + timedelta(minutes=15)
    ).allowed  # 00:30: the agreed window is half-open
    lost = {"debtor_agreed_contact_hours": own, **LOST}
    to_friend = to("emergency_contact", "E1", message=ASK)
    assert cn(cn_case(flags=lost), to_friend, late).reason == "TIME_WINDOW"  # the debtor's hours, not theirs
    pushed = AgreedHours(time(21), time(0, 30), initiated_by="agent", evidence="录音 R-8")
    assert (
        cn(cn_case(flags={"debtor_agreed_contact_hours": pushed}), call("M1"), late).reason == "TIME_WINDOW"
    )
    unproven = AgreedHours(time(21), time(0, 30), initiated_by="borrower", evidence=None)
    assert cn(cn_case(flags={"debtor_agreed_contact_hours": unproven}), call("M1"), late).reason == (
        "TIME_WINDOW"
    )


def test_three_connected_conversations_a_day_ai_voice_included() -> None:
    two = [
        prior(DAY, "connected_conversation", phone="M1", target="borrower"),
        prior(
            DAY + timedelta(hours=1),
            "connected_conversation",
            phone="M1",
            target="borrower",
            initiated_by="ai_voice",
        ),
    ]
    at = DAY + timedelta(hours=5)
    assert cn(cn_case(), call("M1"), at, two).allowed
    three = [*two, prior(DAY + timedelta(hours=2), "connected_conversation", phone="M1", target="borrower")]
    assert cn(cn_case(), call("M1"), at, three).reason == "FREQ_CONNECTED_LIMIT"
    inbound = [
        *two,
        prior(
            DAY + timedelta(hours=2),
            "connected_conversation",
            phone="M1",
            target="borrower",
            initiated_by="borrower",
        ),
    ]
    assert cn(cn_case(), call("M1"), at, inbound).allowed
    # yesterday 23:59 is another local day
    yesterday = [
        prior(
            datetime(2026, 3, 9, 21, 59, tzinfo=SH) + timedelta(minutes=k),
            "connected_conversation",
            phone="M1",
            target="borrower",
        )
        for k in range(3)
    ]
    assert cn(cn_case(), call("M1"), datetime(2026, 3, 10, 8, 0, tzinfo=SH), yesterday).allowed


def test_six_dial_attempts_per_number_per_day() -> None:
    five = [
        prior(DAY + timedelta(minutes=10 * k), "busy_signal", phone="M1", target="borrower") for k in range(5)
    ]
    at = DAY + timedelta(hours=4)
    assert cn(cn_case(), call("M1"), at, five).allowed
    six = [*five, prior(DAY + timedelta(hours=1), "no_answer", phone="M1", target="borrower")]
    verdict = cn(cn_case(), call("M1"), at, six)
    assert verdict.reason == "FREQ_ATTEMPT_LIMIT"
    assert verdict.next_allowed_at == datetime(2026, 3, 11, 8, 0, tzinfo=SH)
    assert cn(cn_case(), call("H1"), at, six).allowed  # another number is another contact method


def test_address_book_contacts_are_unlawful_whatever_the_reachability() -> None:
    for flags in ({}, LOST):
        verdict = cn(cn_case(flags=flags), to("other_third_party", "A1", message=ASK), DAY)
        assert verdict.reason == "CONTACT_SOURCE_UNLAWFUL"
    assert cn(cn_case(flags=LOST), to("emergency_contact", "E1", message=ASK), DAY).reason == (
        "ALLOWED_THIRD_PARTY_LOCATION"
    )


def test_third_parties_only_when_unreachable_and_stop_at_refusal() -> None:
    assert (
        cn(cn_case(), to("emergency_contact", "E1", message=ASK), DAY).reason
        == "THIRD_PARTY_DEBTOR_REACHABLE"
    )
    soon = {"debtor_unreachable": Unreachable("unreachable", since=DAY + timedelta(hours=1))}
    assert cn(cn_case(flags=soon), to("emergency_contact", "E1", message=ASK), DAY).reason == (
        "THIRD_PARTY_DEBTOR_REACHABLE"
    )
    refusal = [
        prior(
            DAY - timedelta(days=1),
            "connected_conversation",
            target="emergency_contact",
            contact_id="E1",
            phone=None,
            note="对方明确拒绝，要求不要再打",
        )
    ]
    assert cn(cn_case(flags=LOST), to("emergency_contact", "E1", message=ASK), DAY, refusal).reason == (
        "THIRD_PARTY_REFUSED"
    )
    fine = [
        prior(
            DAY - timedelta(days=1),
            "connected_conversation",
            target="emergency_contact",
            contact_id="E1",
            phone=None,
            note="答应转告",
        )
    ]
    assert cn(cn_case(flags=LOST), to("emergency_contact", "E1", message=ASK), DAY, fine).allowed


def test_no_debt_details_and_no_demand_to_third_parties() -> None:
    tell = to("emergency_contact", "E1", message="张三在我司的借款已逾期，欠款1200元。")
    assert cn(cn_case(flags=LOST), tell, DAY).reason == "THIRD_PARTY_DEBT_DISCLOSURE"
    pay = to("emergency_contact", "E1", message="请您替他还一下这笔钱。")
    assert cn(cn_case(flags=LOST), pay, DAY).reason == "THIRD_PARTY_COLLECTION_DEMAND"


def _contact_refusing(refused: bool, at: datetime | None) -> ThirdParty:
    return ThirdParty(
        "E1",
        "emergency_contact",
        "friend",
        "borrower_provided_at_application",
        refused_contact=refused,
        refused_at=at,
    )


def test_a_refusal_is_on_file_from_its_time() -> None:
    # Examiner pass (issue 13): a refusal recorded with a time counts from that time, like a cease or opt-out
    ask = to("emergency_contact", "E1", message=ASK)
    for refused, at, reason in [
        (True, DAY, "THIRD_PARTY_REFUSED"),  # refused exactly now
        (True, DAY + timedelta(seconds=1), "ALLOWED_THIRD_PARTY_LOCATION"),  # one second later
        (True, None, "THIRD_PARTY_REFUSED"),  # no time: the flag
        (False, DAY - timedelta(days=1), "THIRD_PARTY_REFUSED"),  # a time on file is a refusal
    ]:
        case = cn_case(flags=LOST, contacts=(_contact_refusing(refused, at),))
        assert cn(case, ask, DAY).reason == reason, (refused, at)


def test_debt_words_a_few_characters_apart_are_still_the_debt() -> None:
    tell = to("emergency_contact", "E1", message="你好，张三欠了我们公司的钱一直不还，请他联系我们。")
    assert cn(cn_case(flags=LOST), tell, DAY).reason == "THIRD_PARTY_DEBT_DISCLOSURE"
    polite = to("emergency_contact", "E1", message="身体欠佳的话不必回电，方便时请转告他联系我们，谢谢。")
    assert cn(cn_case(flags=LOST), polite, DAY).reason == "ALLOWED_THIRD_PARTY_LOCATION"


def test_a_spouse_pays_only_when_shown_liable() -> None:
    demand = to("spouse", "S1", message="您丈夫的借款已逾期，请您尽快代为还款。", purpose="payment_demand")
    assert cn(cn_case(), demand, DAY).reason == "THIRD_PARTY_NOT_DEBT_RELATED"
    liable = cn_case(
        contacts=(
            ThirdParty(
                "S1",
                "spouse",
                "spouse",
                "borrower_provided_at_application",
                debt_related_evidence="夫妻共同借款合同签字",
            ),
        )
    )
    assert cn(liable, demand, DAY).allowed


def test_no_demand_above_the_lawful_cost_cap() -> None:
    debt = Debt(
        "CN-1", 12, amount_due_cny=Decimal("1234.56"), amount_above_legal_cost_cap_cny=Decimal("100.00")
    )
    case = cn_case(debt=debt)
    at_cap = call(
        "M1", channel="sms", message="您本期应还1134.56元，请按时还款。", demand_amount_cny=Decimal("1134.56")
    )
    assert cn(case, at_cap, DAY).allowed
    one_fen_over = call(
        "M1", channel="sms", message="您本期应还1134.57元。", demand_amount_cny=Decimal("1134.57")
    )
    assert cn(case, one_fen_over, DAY).reason == "EXCESS_COST_COLLECTION"
    booked = call("M1", channel="sms", message="您本期应还1,234.56元，请尽快还款。")
    assert cn(case, booked, DAY).reason == "EXCESS_COST_COLLECTION"
    assert cn(case, call("M1", purpose="payment_demand"), DAY).reason == "EXCESS_COST_COLLECTION"
    assert cn(cn_case(debt=Debt("CN-1", 12, amount_due_cny=Decimal("1234.56"))), booked, DAY).allowed
    offer = call("M1", channel="sms", purpose="hardship_offer", message="如还款有困难，可在App申请协商。")
    assert cn(case, offer, DAY).allowed


def test_dispute_hold_lifts_when_verification_is_sent() -> None:
    held = Dispute("oral", DAY - timedelta(days=1))
    assert cn(cn_case(flags={"dispute": held}), call("M1"), DAY).reason == "DISPUTE_PENDING_VERIFICATION"
    done = Dispute("oral", DAY - timedelta(days=1), verification_completed_at=DAY)
    assert cn(cn_case(flags={"dispute": done}), call("M1"), DAY).allowed


def test_public_notice_is_public_posting_not_a_third_party_code() -> None:
    poster = to("public", channel="public_notice", message="张三欠款不还，特此曝光。")
    verdict = cn(cn_case(), poster, DAY)
    assert verdict.reason == "PUBLIC_POSTING"
    assert "CONTENT_PRIVACY_EXPOSURE" in verdict.reasons


def test_shared_household_line_no_debt_details_in_a_text() -> None:
    assert cn(cn_case(), call("H1", channel="sms", message="张先生您好，请回电400-000-0000。"), DAY).allowed
    detailed = call("H1", channel="sms", message="您的借款已逾期12天，请尽快还款。")
    assert cn(cn_case(), detailed, DAY).reason == "THIRD_PARTY_DISCLOSURE_RISK"
    assert cn(cn_case(), call("M1", channel="sms", message="您的借款已逾期12天，请尽快还款。"), DAY).allowed
