"""The staff's days in the demo (shell), as hooks the world runs on each business date: collection contacts
through the policy engine (the strategy's campaign and collectors' own calls, some of which the engine
BLOCKS), complaints at every stage of their clock, data-subject requests and consents, and a charge the
signed disclosure does not allow (refused, with its reason code)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy.orm import Session

from xiaodai.collections import service as collections
from xiaodai.complaints import service as complaints
from xiaodai.complaints.extension import extend
from xiaodai.db.tables import CollectionCaseRow
from xiaodai.demo.world import Book, DayHook, at
from xiaodai.journey.charges import post_charge
from xiaodai.privacy import service as privacy

CONTACT_DAYS = 6  # the campaign and the collectors work the last days before today
CALLED = ("demo-late", "m1", "m2", "m3", "m2-fees")
NOTICE_REMEDY_CHANNELS = ["review", "mediation", "arbitration", "litigation"]


def _call(session: Session, loan_id: int, when: Any, actor: str, **extra: Any) -> dict[str, Any]:
    attempt = {"action": "contact", "channel": "call", "target": {"type": "borrower"}, "phone_id": "M1"}
    typed = collections.parse_attempt({**attempt, **extra})
    return collections.attempt_contact(session, loan_id=loan_id, attempt=typed, as_of=when, actor=actor)


def contacts(session: Session, day: date, book: Book) -> None:
    """The strategy's contacts (the campaign), then collectors' calls: at 10:30 (allowed unless a hold or
    the frequency limit says otherwise), again at 22:30 (outside the hours: blocked), and two days
    before today one to the borrower's employer (blocked)."""
    if not book.today - timedelta(days=CONTACT_DAYS) <= day < book.today:  # up to yesterday, not later
        return
    collections.run_campaign(session, as_of=at(day, 10))
    collector = f"user:{book.users['collector@xiaodai.demo']}"
    for key in CALLED:
        loan_id = book.loans.get(key)
        if loan_id is None or session.get(CollectionCaseRow, loan_id) is None:
            continue
        _call(session, loan_id, at(day, 10, 30), collector, purpose="overdue")
        _call(session, loan_id, at(day, 22, 30), collector, purpose="overdue")
        if day == book.today - timedelta(days=2):
            _call(
                session,
                loan_id,
                at(day, 11),
                collector,
                target={"type": "employer", "contact_id": "W1"},
                phone_id=None,
                purpose="workplace",
            )


def _notice(reasons: str) -> dict[str, Any]:
    return {
        "verification_summary": "核查了签署的关键信息表（KFS）快照、账单与入账记录 / checked the signed KFS "
        "snapshot, the bills and the postings",
        "basis": "《银行业保险业消费投诉处理管理办法》; the signed disclosure's clauses",
        "reasons": reasons,
        "remedies": "如不接受可申请复核、调解、仲裁或诉讼 / review, mediation, arbitration or litigation",
        "remedy_channels": NOTICE_REMEDY_CHANNELS,
    }


COMPLAINTS: list[tuple[str, str, int, str]] = [
    # (key, story, days before today received, narrative) — one at each stage of the clock
    (
        "hidden-fees",
        "demo-current",
        40,
        "放款时被扣了180元服务费，每个月还多收8元账户管理费，借款时没人告诉我这些隐藏费用。",
    ),
    (
        "employer-called",
        "m2",
        24,
        "催收员打电话到我单位，向我同事说我欠钱不还，严重影响我的工作。",
    ),
    ("penalty", "current-fees", 13, "我已经按时还款了，为什么账单上还有罚息？请核实并退还。"),
    ("fee-question", "m2-fees", 4, "I do not understand the monthly service fee on my bill. What is it for?"),
    ("new", "m1", 0, "App里还款一直失败，导致逾期，请帮我处理。"),
]


def complaint_work(session: Session, day: date, book: Book) -> None:
    """File each complaint on its day; the hidden-fees one is closed with a notice citing clauses F1/F2, the
    employer call is extended (complex, complainant told), the rest stay open at their stage."""
    for key, story, before, narrative in COMPLAINTS:
        loan_id = book.loans.get(story)
        if loan_id is None:
            continue
        received = book.today - timedelta(days=before)
        if day == received:
            filed = complaints.file_complaint(
                session,
                narrative=narrative,
                channel="app",
                received_at=at(day, 9, 10),
                user_id=book.users[book.stories[story].email],
                loan_id=loan_id,
            )
            book.complaints[key] = str(filed["complaint_id"])
    officer = f"user:{book.users['complaint_officer@xiaodai.demo']}"
    if day == book.today - timedelta(days=33) and "hidden-fees" in book.complaints:
        complaints.close(
            session,
            public_id=book.complaints["hidden-fees"],
            at=at(day, 16),
            notice=_notice(
                "服务费（条款F1，借款金额的1.5%，放款时扣收）与账户管理费（条款F2，每期8.00元）"
                "均已在签署的关键信息表中列明，并计入年化利率（IRR）。"
                " / Both fees are stated in the signed KFS (F1, F2) and included in the annual rate."
            ),
            root_cause="DISCLOSURE_READ",
            remedies=[{"kind": "none", "reason": "fees disclosed and signed; explained to the borrower"}],
            officer=officer,
        )
    if day == book.today - timedelta(days=12) and "employer-called" in book.complaints:
        extend(
            session,
            public_id=book.complaints["employer-called"],
            at=at(day, 15),
            kind="complex_to_30d",
            reason="call recordings requested from the collection team",
            notified_at=at(day, 15, 30),
            officer=officer,
        )


def privacy_work(session: Session, day: date, book: Book) -> None:
    """A correction, a consent withdrawn, a deletion request answered (partly: a closed loan's records are
    kept for their retention period)."""
    if day == book.today - timedelta(days=30):
        privacy.request_correction(
            session,
            user=book.user(session, "borrower@xiaodai.demo"),
            changes={"address": "北京市海淀区中关村大街27号3单元", "sensitive_data_consent": True},
        )
    if day == book.today - timedelta(days=7):
        privacy.withdraw_consent(
            session, user=book.user(session, "borrower18@xiaodai.demo"), kind="agency_sharing", as_of=day
        )
    if day == book.today - timedelta(days=5):
        privacy.request_deletion(session, user=book.user(session, "borrower03@xiaodai.demo"), as_of=day)


REFUSED_CHARGES: list[tuple[str, str, int, int | None]] = [
    # (story, charge type, amount fen, period): each one the signed disclosure does not allow
    ("demo-late", "late_fee", 5_000, None),  # no such fee in the KFS: CHARGE_NOT_DISCLOSED
    ("demo-current", "monthly_fee", 800, 1),  # F2 was billed with instalment 1: CHARGE_ALREADY_CHARGED
    ("demo-current", "upfront_fee", 50_000, None),  # more than F1 states: CHARGE_AMOUNT_EXCEEDS_DISCLOSURE
]


def charge_attempts(session: Session, day: date, book: Book) -> None:
    if day != book.today - timedelta(days=1):
        return
    actor = f"user:{book.users['admin@xiaodai.demo']}"  # the role that may post charges (api: staff)
    for n, (story, kind, amount, period) in enumerate(REFUSED_CHARGES):
        loan_id = book.loans.get(story)
        if loan_id is not None:
            post_charge(
                session,
                loan_id=loan_id,
                charge_type=kind,
                amount_fen=amount,
                on=day,
                idempotency_key=f"demo:charge:{n}",
                period=period,
                actor=actor,
            )


HOOKS: list[DayHook] = [complaint_work, contacts, privacy_work, charge_attempts]
