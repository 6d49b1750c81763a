"""Reminders and notices through the contact-policy engine, on SQLite and PostgreSQL: T−3/T−1/T0 planned
once, quiet hours, the daily cap and holds block with their reason codes (and only passing reasons are
tried again), the message screen applies to every text, marketing opt-out is honoured and legal notices
ignore it, a failed debit is notified, the inbox shows what was sent."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from support.payment_books import borrower
from xiaodai.db.tables import (
    CollectionCaseRow,
    ComplaintRow,
    LoanRow,
    NoticeOutboxRow,
    NoticeRow,
)
from xiaodai.notify import service
from xiaodai.notify.senders import SimulatedSender

CN = ZoneInfo("Asia/Shanghai")
DUE = date(2026, 2, 10)  # first instalment of the standard loan (start 2026-01-10): 902.58


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=CN)


def owned_loan(
    factory: sessionmaker[Session], new_loan: Callable[..., int], who: int | None = None
) -> tuple[int, int]:
    who = who or borrower(factory)
    loan_id = new_loan()
    with factory() as s, s.begin():
        row = s.get(LoanRow, loan_id)
        assert row is not None
        row.borrower_id = who
    return who, loan_id


def run(factory: sessionmaker[Session], day: date, when: datetime, sender: SimulatedSender) -> dict[str, Any]:
    with factory() as s, s.begin():
        return service.run_reminders(s, day=day, as_of=when, sender=sender)


def decisions(factory: sessionmaker[Session], borrower_id: int) -> list[tuple[str, str, str, str]]:
    """(notice kind, channel, decision, reason) in the order decided."""
    with factory() as s:
        rows = s.execute(
            select(NoticeRow.kind, NoticeOutboxRow.channel, NoticeOutboxRow.decision, NoticeOutboxRow.reason)
            .join(NoticeRow, NoticeRow.id == NoticeOutboxRow.notice_id)
            .where(NoticeOutboxRow.borrower_id == borrower_id)
            .order_by(NoticeOutboxRow.id)
        ).all()
        return [tuple(r) for r in rows]  # type: ignore[misc]


def test_t3_t1_t0_each_once_and_the_inbox_shows_them(
    factory: sessionmaker[Session], new_loan: Callable[..., int]
) -> None:
    who, loan_id = owned_loan(factory, new_loan)
    sender = SimulatedSender()
    assert (
        run(factory, DUE - timedelta(days=4), at(DUE - timedelta(days=4), 10), sender)["notices_created"] == 0
    )
    first = run(factory, DUE - timedelta(days=3), at(DUE - timedelta(days=3), 10), sender)
    assert first["notices_created"] == 1
    assert first["sent"] == 2  # app inbox + SMS (the default choices)
    again = run(factory, DUE - timedelta(days=3), at(DUE - timedelta(days=3), 11), sender)
    assert (again["notices_created"], again["allow"], again["sent"]) == (0, 0, 0)  # idempotent per date
    assert (
        run(factory, DUE - timedelta(days=2), at(DUE - timedelta(days=2), 10), sender)["notices_created"] == 0
    )
    run(factory, DUE - timedelta(days=1), at(DUE - timedelta(days=1), 10), sender)
    run(factory, DUE, at(DUE, 10), sender)
    assert [(k, c, d) for k, c, d, _ in decisions(factory, who)] == [
        ("pre_due", "app_inbox", "allow"),
        ("pre_due", "sms", "allow"),
        ("pre_due", "app_inbox", "allow"),
        ("pre_due", "sms", "allow"),
        ("due_today", "app_inbox", "allow"),
        ("due_today", "sms", "allow"),
    ]
    assert len(sender.sent) == 6
    with factory() as s:
        box = service.inbox(s, borrower_id=who)
        keys = sorted(json.loads(n.payload_json)["step"] for n in s.execute(select(NoticeRow)).scalars())
    assert keys == ["T-1", "T-3", "T0"]
    assert len(box) == 6
    assert "902.58" in box[0]["body"]
    assert f"#{loan_id}" in box[0]["body"]
    assert {m["channel"] for m in box} == {"app_inbox", "sms"}


def test_a_paid_instalment_or_a_loan_in_arrears_is_not_reminded(
    factory: sessionmaker[Session], new_loan: Callable[..., int]
) -> None:
    who, loan_id = owned_loan(factory, new_loan)
    with factory() as s, s.begin():
        loan = s.get(LoanRow, loan_id)
        assert loan is not None
        loan.state, loan.dpd = "overdue", 5  # collections' business, not a reminder's
    run(factory, DUE - timedelta(days=3), at(DUE - timedelta(days=3), 10), SimulatedSender())
    assert decisions(factory, who) == []


def test_quiet_hours_block_sms_with_the_reason_and_a_later_run_that_day_sends_it(
    factory: sessionmaker[Session], new_loan: Callable[..., int]
) -> None:
    who, _ = owned_loan(factory, new_loan)
    sender = SimulatedSender()
    day = DUE - timedelta(days=3)
    night = run(factory, day, at(day, 7, 30), sender)
    assert decisions(factory, who) == [
        ("pre_due", "app_inbox", "allow", "ALLOWED"),
        ("pre_due", "sms", "block", "TIME_WINDOW"),
    ]
    assert night["notices"] == {"open": 1}  # the SMS may still go today
    assert [c for _, c, _ in sender.sent] == ["app_inbox"]  # the inbox disturbs no one: not an hours channel
    run(factory, day, at(day, 8, 0), sender)  # 08:00 is inside the window
    assert decisions(factory, who)[-1] == ("pre_due", "sms", "allow", "ALLOWED")
    assert [c for _, c, _ in sender.sent] == ["app_inbox", "sms"]
    run(factory, day, at(day, 9), sender)
    assert len(decisions(factory, who)) == 3  # nothing left to decide
    with factory() as s:
        assert s.execute(select(NoticeRow.status)).scalar_one() == "sent"


def test_a_blocked_sms_is_not_retried_after_its_day(
    factory: sessionmaker[Session], new_loan: Callable[..., int]
) -> None:
    who, _ = owned_loan(factory, new_loan)
    day = DUE - timedelta(days=3)
    run(factory, day, at(day, 22, 0), SimulatedSender())  # 22:00: the window is half open
    assert decisions(factory, who)[-1] == ("pre_due", "sms", "block", "TIME_WINDOW")
    with factory() as s, s.begin():
        service.drain(s, as_of=at(day + timedelta(days=1), 10))
    assert len(decisions(factory, who)) == 2
    with factory() as s:
        notice = s.execute(select(NoticeRow)).scalar_one()
        assert (notice.status, notice.reason) == ("sent", "ALLOWED")  # the inbox copy went


def test_the_daily_cap_blocks_the_third_sms_of_the_day(
    factory: sessionmaker[Session], new_loan: Callable[..., int]
) -> None:
    who, _ = owned_loan(factory, new_loan)
    owned_loan(factory, new_loan, who)
    owned_loan(factory, new_loan, who)  # three loans, all due on the same day
    run(factory, DUE, at(DUE, 10), SimulatedSender())
    sms = [(d, r) for _, c, d, r in decisions(factory, who) if c == "sms"]
    assert sms == [("allow", "ALLOWED"), ("allow", "ALLOWED"), ("block", "FREQ_NOTICE_DAILY_LIMIT")]
    inbox = [d for _, c, d, _ in decisions(factory, who) if c == "app_inbox"]
    assert inbox == ["allow"] * 3  # the cap is per channel; the inbox has none


def test_holds_block_reminders_but_not_the_legal_notice(
    factory: sessionmaker[Session], new_loan: Callable[..., int]
) -> None:
    who, loan_id = owned_loan(factory, new_loan)
    with factory() as s, s.begin():
        s.add(
            ComplaintRow(
                public_id="C-notify-1",
                user_id=who,
                loan_id=loan_id,
                channel="portal",
                received_at=at(DUE, 9),
                narrative="fee dispute",
                category="fees",
                status="open",
            )
        )
    day = DUE - timedelta(days=1)
    run(factory, day, at(day, 10), SimulatedSender())
    assert decisions(factory, who) == [
        ("pre_due", "app_inbox", "block", "HOLD_COMPLAINT"),
        ("pre_due", "sms", "block", "HOLD_COMPLAINT"),
    ]
    run(factory, day, at(day, 11), SimulatedSender())
    assert len(decisions(factory, who)) == 2  # a hold is not a passing reason: not tried again
    from xiaodai.notify import enqueue_notice  # the entry point other domains use

    with factory() as s, s.begin():
        made = enqueue_notice(
            s,
            who,
            "limit_decrease",
            {"old_limit": "20000.00", "new_limit": "10000.00", "reason": "BUREAU_DETERIORATION"},
            business_date=day,
            as_of=at(day, 11),
        )
    assert [(d["channel"], d["decision"]) for d in made["decisions"]] == [
        ("app_inbox", "allow"),
        ("sms", "allow"),
    ]


def test_a_hardship_plan_on_the_collection_case_holds_reminders(
    factory: sessionmaker[Session], new_loan: Callable[..., int]
) -> None:
    who, loan_id = owned_loan(factory, new_loan)
    with factory() as s, s.begin():
        context = {"borrower": {"timezone": "Asia/Shanghai"}, "flags": {"hardship": {"plan_active": True}}}
        s.add(CollectionCaseRow(loan_id=loan_id, profile="CN", context_json=json.dumps(context)))
    day = DUE - timedelta(days=3)
    run(factory, day, at(day, 10), SimulatedSender())
    assert {r for _, _, _, r in decisions(factory, who)} == {"HOLD_HARDSHIP_PLAN"}


def test_the_message_screen_applies_to_every_notice_legal_ones_included(
    factory: sessionmaker[Session], new_loan: Callable[..., int]
) -> None:
    who = borrower(factory)
    with factory() as s, s.begin():
        made = service.enqueue_notice(
            s,
            who,
            "limit_freeze",
            {"reason": "不还钱就等着坐牢吧"},  # a caller's free text is screened like any message
            business_date=DUE,
            as_of=at(DUE, 10),
        )
    assert {d["decision"] for d in made["decisions"]} == {"block"}
    assert {d["reason"] for d in made["decisions"]} == {"CONTENT_FALSE_LEGAL_THREAT"}
    assert made["decisions"][0]["rule_version"].endswith("+notice-2026.12-1")


def test_marketing_opt_out_is_honoured_legal_notices_ignore_the_choices(
    factory: sessionmaker[Session], new_loan: Callable[..., int]
) -> None:
    who = borrower(factory)
    with factory() as s, s.begin():
        prefs = service.set_preferences(s, borrower_id=who, sms=False, marketing_opt_out=True)
    assert (prefs["sms"], prefs["marketing_opt_out"], prefs["app_inbox"]) == (False, True, True)
    with factory() as s, s.begin():
        offer = service.enqueue_notice(
            s, who, "limit_increase_offer", {"new_limit": "30000.00"}, business_date=DUE, as_of=at(DUE, 10)
        )
        legal = service.enqueue_notice(
            s,
            who,
            "limit_decrease",
            {"old_limit": "20000.00", "new_limit": "5000.00", "reason": "BUREAU_DETERIORATION"},
            business_date=DUE,
            as_of=at(DUE, 10),
        )
    assert [(d["channel"], d["decision"], d["reason"]) for d in offer["decisions"]] == [
        ("app_inbox", "suppress", "MARKETING_OPTED_OUT")
    ]
    assert offer["status"] == "suppressed"
    assert [(d["channel"], d["decision"], d["reason"]) for d in legal["decisions"]] == [
        ("app_inbox", "allow", "ALLOWED"),
        ("sms", "allow", "LEGAL_NOTICE_OVERRIDES_PREFERENCE"),  # SMS is off, the notice goes anyway
    ]
    with factory() as s, s.begin():
        service.set_preferences(s, borrower_id=who, marketing_opt_out=False, email=True)
        other = service.enqueue_notice(
            s,
            who,
            "limit_increase_offer",
            {"new_limit": "30000.00"},
            business_date=DUE + timedelta(days=1),
            as_of=at(DUE + timedelta(days=1), 10),
        )
    assert [(d["channel"], d["decision"]) for d in other["decisions"]] == [
        ("app_inbox", "allow"),
        ("email", "allow"),
    ]


def test_a_failed_debit_is_notified_once(
    factory: sessionmaker[Session], new_loan: Callable[..., int]
) -> None:
    from support.payment_books import debited_loan
    from xiaodai.payments import service as payments
    from xiaodai.payments.debit_policy import default_policy
    from xiaodai.payments.sandbox_channel import SandboxChannel, Scenario
    from xiaodai.privacy.keys import current_ring

    channel = SandboxChannel(scripted={"0002": Scenario.INSUFFICIENT})
    who, _, _ = debited_loan(factory, new_loan, channel, "0002")
    with factory() as s, s.begin():
        payments.run_debits(s, channel=channel, ring=current_ring(), on=DUE, policy=default_policy())
    run(factory, DUE, at(DUE, 10), SimulatedSender())
    run(factory, DUE, at(DUE, 12), SimulatedSender())
    kinds = [(k, c, d) for k, c, d, _ in decisions(factory, who)]
    assert ("debit_failed", "sms", "allow") in kinds
    assert sum(1 for k, c, _ in kinds if k == "debit_failed" and c == "sms") == 1
    with factory() as s:
        body = (
            s.execute(
                select(NoticeOutboxRow.body)
                .join(NoticeRow, NoticeRow.id == NoticeOutboxRow.notice_id)
                .where(NoticeRow.kind == "debit_failed")
            )
            .scalars()
            .first()
        )
    assert body is not None
    assert "余额不足" in body  # the reason in the borrower's words


@pytest.mark.parametrize(
    ("kind", "payload", "message"),
    [
        ("limit_typo", {}, "unknown notice kind"),
        ("limit_decrease", {"old_limit": "1.00"}, "lacks"),
        ("limit_increase", {"old_limit": 1.5, "new_limit": "2.00"}, "never floats"),
    ],
)
def test_bad_notices_are_refused_and_nothing_is_stored(
    factory: sessionmaker[Session], kind: str, payload: dict[str, Any], message: str
) -> None:
    who = borrower(factory)
    with pytest.raises(service.NoticeError, match=message), factory() as s, s.begin():
        service.enqueue_notice(s, who, kind, payload, business_date=DUE, as_of=at(DUE, 10))
    with factory() as s:
        assert s.execute(select(func.count()).select_from(NoticeRow)).scalar_one() == 0


def test_the_same_channel_is_never_allowed_twice_for_a_notice(
    factory: sessionmaker[Session], new_loan: Callable[..., int]
) -> None:
    """The partial unique index: a second allowed row for (notice, channel) is refused by the database."""
    from sqlalchemy.exc import IntegrityError

    who = borrower(factory)
    with factory() as s, s.begin():
        made = service.enqueue_notice(
            s,
            who,
            "limit_increase",
            {"old_limit": "1.00", "new_limit": "2.00"},
            business_date=DUE,
            as_of=at(DUE, 10),
        )
    with factory() as s:
        address = s.execute(
            select(NoticeOutboxRow.address_ref).where(NoticeOutboxRow.channel == "sms")
        ).scalar_one()
    second = NoticeOutboxRow(
        notice_id=made["notice_id"],
        borrower_id=who,
        channel="sms",
        address_ref=address,
        lang="zh",
        body="again",
        decided_at=at(DUE, 11),
        decision="allow",
        reason="ALLOWED",
        reasons="[]",
        rule_version="x",
        status="queued",
    )
    with pytest.raises(IntegrityError), factory() as s, s.begin():
        s.add(second)


def test_two_dispatchers_at_once_send_each_message_once(factory: sessionmaker[Session]) -> None:
    import threading

    people = [borrower(factory) for _ in range(10)]
    with factory() as s, s.begin():
        for who in people:
            service.enqueue_notice(
                s,
                who,
                "limit_increase",
                {"old_limit": "1.00", "new_limit": "2.00"},
                business_date=DUE,
                as_of=at(DUE, 10),
            )
    senders = [SimulatedSender(), SimulatedSender()]
    gate = threading.Barrier(2)

    def dispatcher(sender: SimulatedSender) -> None:
        gate.wait()
        with factory() as s, s.begin():
            service.dispatch(s, sender=sender, as_of=at(DUE, 10, 1))

    threads = [threading.Thread(target=dispatcher, args=(x,)) for x in senders]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    sent = [outbox_id for x in senders for outbox_id, _, _ in x.sent]
    assert len(sent) == 20  # inbox + SMS for each
    assert len(set(sent)) == 20  # none twice
    with factory() as s:
        statuses = set(s.execute(select(NoticeOutboxRow.status)).scalars())
    assert statuses == {"sent"}


def test_the_cli_sets_choices_and_lists_decisions(
    factory: sessionmaker[Session], cli: Callable[..., Any]
) -> None:
    who = borrower(factory)
    prefs = cli("notify", "prefs", "--borrower", str(who), "--no-sms", "--no-marketing", "--json")
    assert (prefs["sms"], prefs["marketing_opt_out"]) == (False, True)
    assert cli("notify", "prefs", "--borrower", str(who), "--json")["sms"] is False
    assert "does not exist" in cli("notify", "prefs", "--borrower", "999999", "--sms", code=2).stderr
    with factory() as s, s.begin():
        service.enqueue_notice(
            s, who, "limit_increase_offer", {"new_limit": "30000.00"}, business_date=DUE, as_of=at(DUE, 10)
        )
    listed = cli("notify", "list", "--date", DUE.isoformat(), "--json")
    assert [(n["kind"], [d["reason"] for d in n["decisions"]]) for n in listed] == [
        ("limit_increase_offer", ["MARKETING_OPTED_OUT"])
    ]
    table = cli("notify", "list", "--borrower", str(who), "--lang", "en").stdout
    assert "Kind" in table
    assert "suppress" in table
    assert "YYYY-MM-DD" in cli("notify", "run", "--date", "2026-2-1", code=2).stderr


def test_a_reminder_decided_only_after_its_day_is_never_sent(
    factory: sessionmaker[Session], new_loan: Callable[..., int]
) -> None:
    who, _ = owned_loan(factory, new_loan)
    with factory() as s, s.begin():
        assert service.plan_reminders(s, day=DUE) == 1  # planned, not decided (e.g. the run died here)
    with factory() as s, s.begin():
        service.drain(s, as_of=at(DUE + timedelta(days=1), 10))
    assert decisions(factory, who) == []  # "due today" the day after would be wrong
    with factory() as s:
        notice = s.execute(select(NoticeRow)).scalar_one()
        assert (notice.status, notice.reason) == ("blocked", "NOTICE_EXPIRED")
    with factory() as s, s.begin():  # a legal notice is still owed: it goes, late
        service.enqueue_notice(
            s, who, "limit_freeze", {"reason": "FRAUD_REVIEW"}, business_date=DUE - timedelta(days=10)
        )
    with factory() as s, s.begin():
        service.drain(s, as_of=at(DUE, 10))
    assert [(k, d) for k, _, d, _ in decisions(factory, who)] == [("limit_freeze", "allow")] * 2
