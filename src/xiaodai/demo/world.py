"""The demo's history, lived day by day through the real services (shell).

For every business date from the first loan's start to ``today``: applications are submitted and decided
(``journey.submit_application`` → the active model and policy), approved offers are signed on the key-facts
statement they were shown (``journey.offer_kfs`` / ``journey.sign_offer``: disclosure snapshot, disbursement),
borrowers pay what their story says (``journey.repay``, ``servicing.prepay``), hardship plans and write-offs
go through their own services (the write-off through maker-checker approval), the staff's day happens
(``staff_work``), and end of day closes the date (``servicing.eod.run_day``: billing, penalties, buckets,
collection cases).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from xiaodai.approvals import service as approvals
from xiaodai.db.session import session_factory
from xiaodai.db.tables import LoanRow, UserRow
from xiaodai.demo.applicants import Features, applicant, pick
from xiaodai.demo.cast import Story
from xiaodai.features.providers.bureau import CreditReport
from xiaodai.journey import service as journey
from xiaodai.money.money import Money
from xiaodai.servicing import payoff
from xiaodai.servicing.adjustments import hardship_extension
from xiaodai.servicing.eod import run_day
from xiaodai.servicing.loans import installments
from xiaodai.servicing.views import loan_view
from xiaodai.underwriting.policy import default_policy
from xiaodai.underwriting.service import active_model, model_inputs

CHINA = ZoneInfo("Asia/Shanghai")
Progress = Callable[[str, int, int], None]
DayHook = Callable[[Session, date, "Book"], None]


def at(day: date, hour: int, minute: int = 0) -> datetime:
    """A moment of a business date, China time (stored in UTC by the services)."""
    return datetime.combine(day, time(hour, minute), tzinfo=CHINA)


@dataclass
class Book:
    """What the world has made so far: loans and applications by story key, and who is who."""

    today: date
    users: dict[str, int] = field(default_factory=dict)  # email → user id
    stories: dict[str, Story] = field(default_factory=dict)
    loans: dict[str, int] = field(default_factory=dict)  # story key → loan id
    applications: dict[str, str] = field(default_factory=dict)  # story key → application public id
    complaints: dict[str, str] = field(default_factory=dict)  # complaint key → public id
    outcomes: dict[str, str] = field(default_factory=dict)
    payments: dict[date, list[tuple[str, int, int]]] = field(default_factory=lambda: defaultdict(list))

    def user(self, session: Session, email: str) -> UserRow:
        row = session.get(UserRow, self.users[email])
        assert row is not None
        return row


# What the platform knows about a new applicant: nothing owed, nothing late, no history (the grade pick
# scores the profile as the decision service will, before the person's first loan)
NEW_APPLICANT: dict[str, Any] = {
    "exposure_outstanding": "0.00",
    "worst_dpd_now": 0,
    "worst_dpd_12m": 0,
    "loans_repaid": 0,
    "on_time_ratio": None,
    "applications_last_30d": 0,
    "complaints_12m": 0,
    "hardship_plans": 0,
    "blocklisted": False,
}


def _grade_of(session: Session) -> Callable[[Story], Callable[[Any], str]]:
    """The grade a stated profile gets for a story's request (amount, term), with the model inputs the
    decision service would build (``underwriting.service.model_inputs``) for a new applicant whose credit
    file is the one the seed stages for the story's person (``Story.bureau``; clean by default)."""
    model = active_model(session)
    policy = default_policy()

    def for_story(story: Story) -> Callable[[Any], str]:
        staged = {"subject_ref": "", "report_on": "", "found": True, **dict(story.bureau)}
        known = {**CreditReport.from_json(staged).features(), **NEW_APPLICANT}

        def grade(stated: Any) -> str:
            inputs, _ = model_inputs(model, {**known, **stated})
            return policy.grade_for(model.scorer.score_row(inputs).pd).grade

        return grade

    return for_story


def _true_age(session: Session, user_id: int, day: date) -> int | None:
    """The age the ID number on file gives on ``day`` (what an honest applicant states), if there is one."""
    from xiaodai.db.tables import PersonalDataRow
    from xiaodai.privacy.keys import current_ring
    from xiaodai.privacy.store import read_fields
    from xiaodai.privacy.validation import age_on, birth_date_from_id

    number = read_fields(current_ring(), session.get(PersonalDataRow, user_id)).get("id_number")
    birth = birth_date_from_id(str(number)) if number else None
    return None if birth is None else age_on(birth, day)


def _application(story: Story, features: Features, age: int | None) -> dict[str, Any]:
    """Only what the applicant states — their true age: the decision checks it against the ID number on file.
    Whether they are overdue here is the platform's to look up (the ``declined-overdue`` story is a borrower
    with a late loan on the book applying again)."""
    return {
        "applicant": applicant(age=age or 24 + len(story.key) % 30, profile=features),
        "request": {"amount": str(story.amount), "term": story.term},
    }


def _plan_payments(session: Session, book: Book, story: Story, loan_id: int, *, after: date) -> None:
    """The story's payments on the loan's schedule as signed (or as a hardship plan moved it): instalments
    falling due after ``after``, up to ``book.today``."""
    today = book.today
    rows = [r for r in installments(session, loan_id) if r.active]
    for n, row in enumerate(sorted(rows, key=lambda r: r.period)):
        if story.pays is not None and n >= story.pays:
            break
        pay_on = row.due_on + timedelta(days=story.late_days)
        if pay_on <= after:
            continue
        if pay_on > today or (story.prepay_on is not None and pay_on >= story.prepay_on):
            break
        if story.hardship_on is not None and pay_on >= story.hardship_on:
            break
        amount = row.principal_fen + row.interest_fen + row.fee_fen
        if story.partial:
            amount //= 2
        book.payments[pay_on].append((story.key, loan_id, amount))


def _open(session: Session, book: Book, story: Story, features: Features, day: date) -> None:
    user = book.user(session, story.email)
    submitted = journey.submit_application(
        session,
        user=user,
        payload=_application(story, features, _true_age(session, user.id, day)),
        idempotency_key=f"demo:{story.key}",
        credit_check_consent=True,
        today=day,
        submitted_at=at(day, 9, 30),
    )
    public_id = submitted["application_id"]
    book.applications[story.key] = public_id
    book.outcomes[story.key] = str(submitted["outcome"])
    if submitted["outcome"] != "approve" or not story.sign:
        return
    for product in dict.fromkeys((story.product, "standard")):  # a fee product that does not fit: standard
        request = journey.OfferRequest(product=product)
        try:
            shown = journey.offer_kfs(session, user=user, public_id=public_id, request=request, today=day)
        except journey.JourneyError:
            continue
        signed = journey.sign_offer(
            session,
            user=user,
            public_id=public_id,
            request=request,
            seen_sha256=shown["sha256"],
            ip="203.0.113.7",
            lang=user.lang,
            today=day,
            signed_at=at(day, 9, 45),
        )
        book.loans[story.key] = int(signed["loan_id"])
        _plan_payments(session, book, story, int(signed["loan_id"]), after=day)
        return


def _events_of_day(session: Session, book: Book, story: Story, day: date, staff: dict[str, int]) -> None:
    loan_id = book.loans.get(story.key)
    if loan_id is None:
        return
    if story.prepay_on == day and _is_open(session, loan_id):
        payoff.prepay(session, loan_id=loan_id, on=day, idempotency_key=f"demo:{story.key}:prepay")
    if story.hardship_on == day:
        schedule = loan_view(session, loan_id=loan_id, as_of=day)["schedule"]
        arrears_fen = sum(Money.of(r["outstanding"]).to_minor() for r in schedule if r["status"] == "overdue")
        hardship_extension(
            session,
            loan_id=loan_id,
            months=3,
            on=day,
            idempotency_key=f"demo:{story.key}:hardship",
            reason="income cut after a hospital stay; arrears paid, remaining instalments moved 3 months",
            approved_by=f"user:{staff['risk@xiaodai.demo']}",
        )
        loan = session.get(LoanRow, loan_id)
        arrears_fen += loan.penalties_outstanding_fen if loan else 0  # the late days' penalty too
        if arrears_fen:
            journey.repay(
                session,
                user=book.user(session, story.email),
                loan_id=loan_id,
                amount_fen=arrears_fen,
                on=day,
                key=f"demo:{story.key}:arrears",
            )
        _plan_payments(session, book, replace(story, pays=None, hardship_on=None), loan_id, after=day)


def _is_open(session: Session, loan_id: int) -> bool:
    loan = session.get(LoanRow, loan_id)
    return loan is not None and loan.state in ("active", "overdue")


def _write_off(session: Session, book: Book, story: Story, day: date) -> None:
    """A collector asks to write the loan off; risk approves (four eyes) unless the story says pending."""
    loan_id = book.loans.get(story.key)
    if loan_id is None or story.write_off is None:
        return
    maker = book.user(session, "collector@xiaodai.demo")
    asked = approvals.request(
        session,
        maker=maker,
        operation="write_off",
        params={"loan_id": loan_id, "on": day.isoformat()},
        reason=f"over 180 days past due, no payment since the first instalment (loan {loan_id})",
    )
    if story.write_off == "approved":
        approvals.approve(session, checker=book.user(session, "risk@xiaodai.demo"), approval_id=asked["id"])


def live(
    engine: Engine,
    cast: list[Story],
    book: Book,
    *,
    day_hooks: list[DayHook],
    progress: Progress | None = None,
) -> None:
    """Run the world from the first story's start through ``book.today`` (end of day included)."""
    factory = session_factory(engine)
    today = book.today
    book.stories.update({s.key: s for s in cast})
    starts: dict[date, list[Story]] = defaultdict(list)
    for story in cast:
        starts[story.start_on].append(story)
    first = min(starts)
    with factory() as session:
        grade_of = _grade_of(session)
        staff = {
            u.email: u.id for u in session.execute(select(UserRow).where(UserRow.kind == "staff")).scalars()
        }
    events = [s for s in cast if s.prepay_on or s.hardship_on]
    offs = {s.key: s for s in cast if s.write_off}
    days = (today - first).days + 1
    for n in range(days):
        day = first + timedelta(days=n)
        with factory() as session, session.begin():
            for story in starts.get(day, []):
                profile = pick(grade_of(story), story.grades, amount=str(story.amount), term=story.term)
                _open(session, book, story, profile, day)
            for key, loan_id, amount in book.payments.pop(day, []):
                payer = book.user(session, book.stories[key].email)
                journey.repay(
                    session,
                    user=payer,
                    loan_id=loan_id,
                    amount_fen=amount,
                    on=day,
                    key=f"demo:{key}:{day.isoformat()}",
                )
            for story in events:
                _events_of_day(session, book, story, day, staff)
            for story in offs.values():
                wanted = today - timedelta(days=20) if story.write_off == "approved" else today
                if day == wanted:
                    _write_off(session, book, story, day)
            for hook in day_hooks:
                hook(session, day, book)
        run_day(engine, day)
        if progress:
            progress("days", n + 1, days)
