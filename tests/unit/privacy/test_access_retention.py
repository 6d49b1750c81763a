"""Least privilege (who may unmask what) and the retention planner behind deletion requests."""

from __future__ import annotations

from datetime import date

import pytest

from xiaodai.privacy.access import decide_view, is_real_justification
from xiaodai.privacy.retention import Subject, add_years, plan

WHY = "borrower called about a disputed payment"


@pytest.mark.parametrize(
    ("roles", "assigned", "unmask", "why", "expected"),
    [
        ({"risk"}, True, (), "", (False, "NEED_TO_KNOW")),
        ({"collector"}, False, (), "", (False, "ACCESS_NOT_ASSIGNED")),
        ({"collector"}, True, (), "", (True, "ALLOWED_MASKED")),
        ({"collector"}, True, ("phone",), "", (False, "JUSTIFICATION_REQUIRED")),
        ({"collector"}, True, ("phone",), WHY, (True, "ALLOWED")),
        ({"collector"}, True, ("id_number",), WHY, (False, "NEED_TO_KNOW")),
        ({"underwriter"}, False, ("id_number", "bank_card"), WHY, (True, "ALLOWED")),
        ({"auditor"}, False, (), "", (True, "ALLOWED_MASKED")),
        ({"auditor"}, False, ("phone",), WHY, (False, "NEED_TO_KNOW")),
        ({"admin"}, False, ("emergency_contacts",), WHY, (True, "ALLOWED")),
        (set(), False, (), "", (False, "NEED_TO_KNOW")),
        ({"underwriter"}, False, ("salary",), WHY, (False, "UNKNOWN_FIELD")),
    ],
)
def test_decide_view(
    roles: set[str], assigned: bool, unmask: tuple[str, ...], why: str, expected: tuple[bool, str]
) -> None:
    verdict = decide_view(roles, is_self=False, assigned=assigned, unmask=unmask, justification=why)
    assert (verdict.allowed, verdict.reason) == expected
    if verdict.allowed:
        assert verdict.unmask == unmask


def test_break_glass_needs_a_reason_and_is_marked() -> None:
    assert decide_view({"risk"}, is_self=False, assigned=False, break_glass=True).reason == (
        "JUSTIFICATION_REQUIRED"
    )
    verdict = decide_view(
        {"collector"}, is_self=False, assigned=False, unmask=("phone",), justification=WHY, break_glass=True
    )
    assert (verdict.allowed, verdict.reason) == (True, "BREAK_GLASS")


def test_self_always_sees_own_data() -> None:
    assert decide_view(set(), is_self=True, assigned=False, unmask=("id_number",)).allowed


def _by(items: list, category: str):  # type: ignore[no-untyped-def]
    return next(i for i in items if i.category == category)


def test_loan_in_force_keeps_everything_but_declined_applications() -> None:
    items = plan(
        Subject(
            as_of=date(2026, 11, 29),
            loans_in_force=1,
            relationship_ended_on=None,
            had_relationship=True,
            has_emergency_contacts=True,
            declined_applications=2,
        )
    )
    assert _by(items, "id_number").reason == "CONTRACT_IN_FORCE"
    assert _by(items, "emergency_contacts").reason == "CONTRACT_IN_FORCE"
    assert _by(items, "declined_applications").action == "delete"
    assert _by(items, "account").action == "retain"


def test_closed_relationship_keeps_kyc_ten_years_and_complaints_three() -> None:
    items = plan(
        Subject(
            as_of=date(2026, 11, 29),
            loans_in_force=0,
            relationship_ended_on=date(2024, 2, 29),
            had_relationship=True,
            complaints=((5, date(2025, 1, 10)), (6, None), (7, date(2020, 1, 1))),
            has_emergency_contacts=True,
            has_bank_card=True,
        )
    )
    assert _by(items, "id_number").until == date(2034, 2, 28)
    assert _by(items, "bank_card").reason == "AML_RETENTION"
    assert _by(items, "emergency_contacts").action == "delete"
    assert (_by(items, "complaint:5").reason, _by(items, "complaint:5").until) == (
        "COMPLAINT_FILE",
        date(2028, 1, 10),
    )
    assert _by(items, "complaint:6").reason == "COMPLAINT_OPEN"
    assert _by(items, "complaint:7").action == "delete"
    assert _by(items, "account").until is None  # an open complaint has no end date yet


def test_applicant_without_a_loan_can_erase_everything() -> None:
    items = plan(
        Subject(
            as_of=date(2026, 11, 29),
            loans_in_force=0,
            relationship_ended_on=None,
            had_relationship=False,
            declined_applications=1,
        )
    )
    assert all(i.action == "delete" for i in items)


def test_add_years_clamps_leap_day() -> None:
    assert add_years(date(2024, 2, 29), 1) == date(2025, 2, 28)
    assert add_years(date(2024, 2, 29), 4) == date(2028, 2, 29)


@pytest.mark.parametrize(
    "why",
    ["", "   ", "xxxxxxxxxx", "test", "n/a", "N/A N/A N/A", "1111111111", "aaaaabbbbb", "this is a test",
     "test test test", "verification", "核实身份", "哈哈哈哈哈哈", "need to check", "asdfghjkl qwerty"],
)  # fmt: skip
def test_a_placeholder_is_not_a_justification(why: str) -> None:
    assert not is_real_justification(why)
    verdict = decide_view(
        {"underwriter"}, is_self=False, assigned=False, unmask=("id_number",), justification=why
    )
    assert (verdict.allowed, verdict.reason) == (False, "JUSTIFICATION_REQUIRED")
    assert not decide_view(
        {"admin"}, is_self=False, assigned=False, justification=why, break_glass=True
    ).allowed


@pytest.mark.parametrize(
    "why",
    [
        WHY,
        "identity check for application review",
        "借款人来电投诉扣款失败",
        "核实借款人身份",
        "ticket 12345 dispute",
    ],
)
def test_a_real_justification_is_accepted(why: str) -> None:
    assert is_real_justification(why)
    verdict = decide_view(
        {"underwriter"}, is_self=False, assigned=False, unmask=("id_number",), justification=why
    )
    assert (verdict.allowed, verdict.reason, verdict.reasons) == (True, "ALLOWED", ("ALLOWED",))


def test_justification_length_edges() -> None:
    assert not is_real_justification("card fail")  # 9 characters
    assert is_real_justification("card fails")  # 10
    assert not is_real_justification("核实身份")  # 4 Chinese characters
    assert is_real_justification("核实其身份")  # 5


def test_a_field_the_role_may_not_unmask_is_need_to_know_whatever_the_justification() -> None:
    verdict = decide_view(
        {"collector"}, is_self=False, assigned=True, unmask=("id_number",), justification=""
    )
    assert verdict.reasons == ("NEED_TO_KNOW", "JUSTIFICATION_REQUIRED")
    verdict = decide_view(
        {"collector"}, is_self=False, assigned=True, unmask=("id_number",), justification=WHY
    )
    assert verdict.reasons == ("NEED_TO_KNOW",)


def test_a_credit_report_is_kept_three_years_after_the_pull_without_holding_the_account() -> None:
    subject = Subject(
        as_of=date(2029, 3, 1),
        loans_in_force=0,
        relationship_ended_on=None,
        had_relationship=False,
        bureau_reports=((7, date(2026, 3, 1)), (9, date(2026, 3, 2))),
    )
    items = {i.category: i for i in plan(subject)}
    assert (items["bureau_report:7"].action, items["bureau_report:7"].reason) == ("delete", "DELETABLE")
    kept = items["bureau_report:9"]
    assert (kept.action, kept.reason, kept.until) == ("retain", "DECISION_RECORDS", date(2029, 3, 2))
    assert items["account"].action == "delete"  # the report is kept, processing restricted; not the login
    assert list(items)[-1] == "account"


def test_a_complaint_filed_since_the_pull_holds_the_report_as_its_evidence() -> None:
    def report(complaints: tuple[tuple[date, date | None], ...]) -> tuple[str, str, date | None]:
        subject = Subject(
            as_of=date(2030, 1, 1),
            loans_in_force=0,
            relationship_ended_on=None,
            had_relationship=False,
            bureau_reports=((7, date(2026, 3, 1)),),
            complaint_periods=complaints,
        )
        item = {i.category: i for i in plan(subject)}["bureau_report:7"]
        return item.action, item.reason, item.until

    assert report(()) == ("delete", "DELETABLE", None)  # past its own floor (2029-03-01)
    # open, filed after the pull: held for as long as it is open, whatever the date
    assert report(((date(2026, 5, 1), None),)) == ("retain", "COMPLAINT_OPEN", None)
    # filed before the pull: not about the decision that report informed
    assert report(((date(2026, 2, 1), None),)) == ("delete", "DELETABLE", None)
    # closed: kept as long as the complaint file, when that is later than the report's own floor
    assert report(((date(2026, 5, 1), date(2027, 6, 30)),)) == ("retain", "COMPLAINT_FILE", date(2030, 6, 30))
    assert report(((date(2026, 5, 1), date(2026, 6, 30)),)) == ("delete", "DELETABLE", None)
    # the latest file wins; an open one beats any date
    assert report(((date(2026, 4, 1), date(2027, 1, 2)), (date(2026, 5, 1), date(2027, 6, 30)))) == (
        "retain",
        "COMPLAINT_FILE",
        date(2030, 6, 30),
    )
    assert report(((date(2026, 4, 1), date(2027, 1, 2)), (date(2029, 12, 1), None))) == (
        "retain",
        "COMPLAINT_OPEN",
        None,
    )
