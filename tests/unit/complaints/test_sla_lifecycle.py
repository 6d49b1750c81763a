"""The whole life of a complaint, rule by rule on both sides of each edge (pure core and the scenario edge):
resubmissions, senior approval, regulator feedback, CFPB final responses, the review's two clocks, the
stored-event codec and the scenario translation's errors."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from xiaodai.complaints.event_codec import event_from_json, event_to_json
from xiaodai.complaints.sla import (
    Acknowledged,
    Approver,
    CompanyFinalResponse,
    CompanyResponse,
    Complaint,
    DecisionNotified,
    Event,
    Extension,
    ExternalAppraisal,
    FeedbackToRegulator,
    FixedHolidayCalendar,
    Resubmission,
    ReviewDecisionNotified,
    ReviewRequested,
    default_sla_book,
    evaluate_sla,
)
from xiaodai.complaints.sla_review import evaluate_review_eligibility, evaluate_review_sla
from xiaodai.conformance.complaint_scenarios import (
    evaluate_complaint_scenario,
    parse_event,
    scenario_to_inputs,
)

CST = ZoneInfo("Asia/Shanghai")
NONE = FixedHolidayCalendar(frozenset())
NOTICE = ("verification_summary", "basis", "reasons", "remedies:核查/调解/仲裁/诉讼")
RECEIVED = datetime(2026, 3, 2, 10, tzinfo=CST)
ACK = Acknowledged(datetime(2026, 3, 2, 11, tzinfo=CST))
LATER = datetime(2027, 1, 1, tzinfo=CST)


def at(m: int, d: int, hh: int = 10, mm: int = 0, ss: int = 0) -> datetime:
    return datetime(2026, m, d, hh, mm, ss, tzinfo=CST)


def cn(**kw: Any) -> Complaint:
    return Complaint(id="C", received_at=RECEIVED, channel=kw.pop("channel", "app"), **kw)


def sla(events: list[Event], as_of: datetime = LATER, complaint: Complaint | None = None, **kw: Any) -> Any:
    return evaluate_sla("CN", complaint or cn(), events, kw.get("calendar", NONE), as_of)


# --- resubmissions


def test_resubmission_with_new_facts_restarts_from_its_day() -> None:
    events: list[Event] = [ACK, Resubmission(at(3, 10), new_facts=True)]
    assert sla([*events, DecisionNotified(at(3, 25, 23, 59, 59), NOTICE)]).reason == "SLA_MET_CLOCK_RESTARTED"
    late = sla([*events, DecisionNotified(at(3, 26, 0, 0), NOTICE)])
    assert (late.reason, late.regulatory_deadline.date()) == ("SLA_BREACH_15D", date(2026, 3, 25))


def test_resubmission_without_new_facts_merges_clock_unchanged() -> None:
    events: list[Event] = [ACK, Resubmission(at(3, 10), new_facts=False)]
    v = sla([*events, DecisionNotified(at(3, 17, 23), NOTICE)])
    assert (v.reason, v.reasons, v.clock_started_on) == (
        "SLA_MET",
        ("SLA_MET", "DUPLICATE_MERGED"),
        date(2026, 3, 2),
    )
    assert sla([*events, DecisionNotified(at(3, 18, 0, 1), NOTICE)]).reason == "SLA_BREACH_15D"


def test_extension_before_a_restart_does_not_carry_over() -> None:
    complex_ext = Extension(at(3, 5), "complex_to_30d", complainant_notified_at=at(3, 5))
    v = sla([ACK, complex_ext, Resubmission(at(3, 10), new_facts=True), DecisionNotified(at(3, 30), NOTICE)])
    assert (v.reason, v.days_allowed) == ("SLA_BREACH_15D", 15)


# --- senior approval (CN special +30) and PBOC approval


NOTIFIED_0328 = at(3, 28)


def _special(approver: Approver | None, notified: datetime | None = NOTIFIED_0328) -> list[Event]:
    return [
        ACK,
        Extension(at(3, 12), "complex_to_30d", complainant_notified_at=at(3, 12)),
        Extension(at(3, 28), "special_plus_30d", approved_by=approver, complainant_notified_at=notified),
        DecisionNotified(at(4, 20), NOTICE),
    ]


@pytest.mark.parametrize(
    ("approver", "reason"),
    [
        (Approver("王", "head_office_senior_executive"), "SLA_MET_EXTENDED_60D"),
        (Approver("王", "总行高级管理人员"), "SLA_MET_EXTENDED_60D"),
        (Approver("总行分管副行长"), "SLA_MET_EXTENDED_60D"),  # no role: the name says it
        (Approver("王", "complaint_handling_head"), "EXTENSION_NOT_APPROVED"),
        (Approver("王", "branch_officer"), "EXTENSION_NOT_APPROVED"),
        (None, "EXTENSION_NOT_APPROVED"),
    ],
)
def test_special_extension_needs_a_senior_approver(approver: Approver | None, reason: str) -> None:
    assert sla(_special(approver)).reason == reason


def test_special_extension_senior_but_not_notified_does_not_extend() -> None:
    v = sla(_special(Approver("王", "HQ senior executive"), notified=None))
    assert (v.reason, v.days_allowed) == ("EXTENSION_NOT_NOTIFIED", 30)


def _pboc(ext: Extension) -> Any:
    complaint = cn(forwarded_by="PBOC_branch", channel="regulator_transfer")
    events = [ACK, ext, DecisionNotified(at(3, 30), NOTICE), FeedbackToRegulator(at(3, 30, 15))]
    return evaluate_sla("CN", complaint, events, NONE, LATER)


@pytest.mark.parametrize(
    ("approver", "reason_text", "notified", "code"),
    [
        (Approver("李", "complaint_handling_head"), "需核实", at(3, 12), "SLA_MET_EXTENDED_60D"),
        (None, "需核实", at(3, 12), "EXTENSION_NOT_APPROVED"),
        (Approver("李", "complaint_handling_head"), None, at(3, 12), "EXTENSION_NO_REASON"),
        (Approver("李", "complaint_handling_head"), "需核实", None, "EXTENSION_NOT_NOTIFIED"),
        (Approver("李", "complaint_handling_head"), "需核实", at(3, 18), "EXTENSION_NOT_NOTIFIED"),
    ],
)
def test_pboc_complex_extension(
    approver: Approver | None, reason_text: str | None, notified: datetime | None, code: str
) -> None:
    v = _pboc(Extension(at(3, 12), "pboc_complex", approver, notified, reason_text))
    assert (v.profile, v.reason) == ("CN_PBOC", code)


# --- regulator feedback


def test_regulator_feedback_on_the_last_day_and_one_day_past() -> None:
    complaint = cn(forwarded_by="PBOC", channel="regulator_transfer")
    base: list[Event] = [ACK, DecisionNotified(at(3, 16), NOTICE)]
    ok = evaluate_sla("CN", complaint, [*base, FeedbackToRegulator(at(3, 17, 23, 59))], NONE, LATER)
    late = evaluate_sla("CN", complaint, [*base, FeedbackToRegulator(at(3, 18, 0, 1))], NONE, LATER)
    none = evaluate_sla("CN", complaint, base, NONE, LATER)
    assert (ok.status, ok.reason) == ("on_time", "SLA_MET")
    assert (late.status, late.reason) == ("breach", "REGULATOR_FEEDBACK_LATE")
    assert (none.status, none.reasons[-1]) == ("on_time", "REGULATOR_FEEDBACK_NOT_RECORDED")
    pending = evaluate_sla("CN", complaint, base, NONE, at(3, 16, 12))
    assert "REGULATOR_FEEDBACK_PENDING" in pending.reasons


def test_feedback_is_not_required_from_an_unforwarded_complaint() -> None:
    v = sla([ACK, DecisionNotified(at(3, 16), NOTICE), FeedbackToRegulator(at(3, 20))])
    assert v.reasons == ("SLA_MET",)


# --- CFPB


def _cfpb(events: list[Event], as_of: datetime = LATER) -> Any:
    complaint = Complaint(
        id="X", received_at=at(3, 31), forwarded_by="CFPB", date_sent_to_company=date(2026, 4, 1)
    )
    return evaluate_sla("US_RegF", complaint, events, NONE, as_of)


NY = ZoneInfo("America/New_York")


def ny(m: int, d: int, hh: int = 12) -> datetime:
    return datetime(2026, m, d, hh, tzinfo=NY)


def test_cfpb_response_day_15_and_16() -> None:
    assert _cfpb([CompanyResponse(ny(4, 16, 23), "In progress")]).timely_response == "Yes"
    assert _cfpb([CompanyResponse(ny(4, 17, 0), "In progress")]).timely_response == "No"


def test_cfpb_final_response_day_60_and_61() -> None:
    on_time = _cfpb([CompanyResponse(ny(4, 10), "In progress"), CompanyFinalResponse(ny(5, 31))])
    late = _cfpb([CompanyResponse(ny(4, 10), "In progress"), CompanyFinalResponse(ny(6, 1))])
    assert (on_time.status, on_time.reasons) == ("on_time", ("CFPB_TIMELY", "CFPB_FINAL_WITHIN_60D"))
    assert (late.status, late.reason, late.timely_response) == ("breach", "CFPB_FINAL_OVER_60D", "Yes")


def test_cfpb_final_response_whatever_its_wording_is_final() -> None:
    v = _cfpb([CompanyFinalResponse(ny(4, 5), "In progress")])
    assert "CFPB_FINAL_WITHIN_60D" in v.reasons


# --- review: eligibility (30 days from the notice) and its own 30-day clock


DECIDED = DecisionNotified(at(3, 16), NOTICE)


def eligible(as_of: datetime, calendar: FixedHolidayCalendar = NONE) -> Any:
    return evaluate_review_eligibility("CN", cn(), [ACK, DECIDED], calendar, as_of)


def test_review_may_be_requested_to_24_00_of_day_30_not_on_day_31() -> None:
    day30 = eligible(at(4, 15, 23, 59, 59))
    day31 = eligible(at(4, 16, 0, 0, 0))
    assert (day30.decision, day30.reason) == ("allow", "REVIEW_REQUEST_IN_TIME")
    assert (day31.decision, day31.reason) == ("block", "REVIEW_REQUEST_OUT_OF_TIME")
    assert day30.regulatory_deadline == datetime(2026, 4, 15, 23, 59, 59, tzinfo=CST)


def test_review_window_holiday_last_day_moves() -> None:
    moved = eligible(at(4, 16, 12), FixedHolidayCalendar(frozenset({date(2026, 4, 15)})))
    assert (moved.decision, moved.regulatory_deadline.date()) == ("allow", date(2026, 4, 16))


def test_review_before_any_decision_and_under_cfpb() -> None:
    assert evaluate_review_eligibility("CN", cn(), [ACK], NONE, at(3, 5)).reason == "REVIEW_NO_DECISION"
    cfpb = Complaint(id="X", received_at=at(3, 1), forwarded_by="CFPB")
    assert evaluate_review_eligibility("CN", cfpb, [], NONE, at(3, 5)).reason == "REVIEW_NOT_APPLICABLE"


def review(extra: list[Event], as_of: datetime = LATER) -> Any:
    return evaluate_review_sla("CN", cn(), [ACK, DECIDED, ReviewRequested(at(3, 20)), *extra], NONE, as_of)


def test_review_decided_by_day_30_of_the_request_and_one_past() -> None:
    met = review([ReviewDecisionNotified(at(4, 19, 23, 59))])
    late = review([ReviewDecisionNotified(at(4, 20, 0, 1))])
    assert (met.status, met.reason) == ("on_time", "REVIEW_SLA_MET")
    assert (late.status, late.reason) == ("breach", "REVIEW_SLA_BREACH_30D")
    assert met.regulatory_deadline == datetime(2026, 4, 19, 23, 59, 59, tzinfo=CST)


def test_open_review_on_time_then_breached() -> None:
    assert review([], at(4, 19, 23, 59)).reason == "REVIEW_OPEN_ON_TIME"
    assert (review([], at(4, 20, 0, 1)).status, review([], at(4, 20, 0, 1)).reason) == (
        "breach",
        "REVIEW_OPEN_BREACHED",
    )


def test_review_requested_out_of_time_runs_no_clock() -> None:
    events: list[Event] = [ACK, DECIDED, ReviewRequested(at(4, 16, 9))]
    v = evaluate_review_sla("CN", cn(), events, NONE, LATER)
    assert (v.status, v.reason) == ("on_time", "REVIEW_REQUEST_OUT_OF_TIME")


def test_review_sla_without_a_request_is_a_missing_fact() -> None:
    with pytest.raises(ValueError, match="review_requested"):
        evaluate_review_sla("CN", cn(), [ACK, DECIDED], NONE, LATER)


# --- the stored-event codec


@given(
    st.sampled_from(
        [
            ACK,
            DecisionNotified(at(3, 16), NOTICE),
            Extension(at(3, 12), "special_plus_30d", Approver("王", "HQ"), at(3, 12), "r", None),
            ExternalAppraisal(date(2026, 3, 5), date(2026, 3, 9), at(3, 5), "司法鉴定"),
            Resubmission(at(3, 10), new_facts=True, summary="录音"),
            Resubmission(at(3, 10), new_facts=False),
            ReviewRequested(at(3, 20)),
            ReviewDecisionNotified(at(4, 1)),
            FeedbackToRegulator(at(3, 17), "PBOC_branch", ("result",)),
            CompanyResponse(at(4, 1), "In progress"),
            CompanyFinalResponse(at(4, 2), "Closed with explanation"),
        ]
    )
)
def test_codec_round_trips_every_event(event: Event) -> None:
    assert event_from_json(event_to_json(event)) == event


def test_codec_rejects_unknown_types_and_naive_times() -> None:
    with pytest.raises(ValueError, match="'note'"):
        event_from_json({"type": "note", "at": "2026-03-02T10:00:00+08:00"})
    with pytest.raises(ValueError, match="UTC offset"):
        event_from_json({"type": "acknowledged", "at": "2026-03-02T10:00:00"})


# --- the scenario edge


def test_unknown_event_type_kind_and_action_raise_naming_them() -> None:
    with pytest.raises(ValueError, match="'mediation'"):
        parse_event({"type": "mediation", "at": "2026-03-02"}, CST)
    with pytest.raises(ValueError, match="'very_complex'"):
        parse_event({"type": "extension", "kind": "very_complex", "at": "2026-03-02"}, CST)
    with pytest.raises(ValueError, match=r"extension\.at"):
        parse_event({"type": "extension", "kind": "complex_to_30d"}, CST)
    scenario = {
        "suite": "complaint_sla",
        "profile": "CN",
        "given": {"complaint": {"id": "1", "received_at": "2026-03-02T10:00:00+08:00"}},
        "when": {"action": "predict_outcome"},
    }
    with pytest.raises(ValueError, match="'predict_outcome'"):
        evaluate_complaint_scenario(scenario)


def test_approved_by_as_object_or_string() -> None:
    obj = parse_event(
        {
            "type": "extension",
            "kind": "special_plus_30d",
            "at": "2026-03-28",
            "approved_by": {"name": "王", "role": "HQ"},
        },
        CST,
    )
    text = parse_event(
        {"type": "extension", "kind": "special_plus_30d", "at": "2026-03-28", "approved_by": "总行高管"}, CST
    )
    assert isinstance(obj, Extension)
    assert isinstance(text, Extension)
    assert obj.approved_by == Approver("王", "HQ")
    assert text.approved_by == Approver("总行高管")
    book = default_sla_book()
    assert book.is_senior(obj.approved_by.role, obj.approved_by.name)
    assert book.is_senior(None, "总行高管")
    assert not book.is_senior("complaint_handling_head", "总行高管")  # the role decides when given


def test_holiday_calendar_key_replaces_the_builtin_even_when_empty() -> None:
    given_ = {"complaint": {"id": "1", "received_at": "2026-09-16T11:00:00+08:00"}, "events": []}
    _, _, builtin, _ = scenario_to_inputs(given_)
    _, _, empty, _ = scenario_to_inputs({**given_, "holiday_calendar": []})
    assert builtin.is_holiday(date(2026, 10, 1))
    assert not empty.is_holiday(date(2026, 10, 1))


def test_as_of_defaults_to_the_last_event() -> None:
    scenario = {
        "suite": "complaint_sla",
        "profile": "CN",
        "given": {
            "complaint": {"id": "1", "received_at": "2026-03-02T10:00:00+08:00"},
            "events": [{"type": "acknowledged", "at": "2026-03-02T11:00:00+08:00"}],
        },
        "when": {"action": "evaluate_sla"},
    }
    # evaluated at the acknowledgement, the complaint is open and on time (not "breached in 2100")
    assert evaluate_complaint_scenario(scenario)["reason"] == "SLA_OPEN_ON_TIME"


def test_pboc_extension_under_a_cn_kind_name_extends_to_what_the_kind_says() -> None:
    head = Approver("李", "complaint_handling_head")
    to_30 = _pboc(Extension(at(3, 12), "complex_to_30d", head, at(3, 12), "需核实"))
    assert (to_30.reason, to_30.days_allowed) == ("SLA_MET_EXTENDED_30D", 30)
    unreasoned = _pboc(Extension(at(3, 12), "complex_to_30d", head, at(3, 12), None))
    assert (unreasoned.reason, unreasoned.days_allowed) == ("EXTENSION_NO_REASON", 15)
