"""``xiaodai demo seed`` builds a coherent lending business through the real services — both databases.

Every loan opens the way the borrower's loan page opens it (its disclosure snapshot); there are loans in each
state, collection cases with allowed and blocked contacts, complaints at each stage of their clock, a fee
product whose true annual rate is above its headline rate, refused charges with their reason codes. A second
run changes nothing. The seed's runtime is printed.
"""

from __future__ import annotations

import json
import time
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, inspect, select, text
from sqlalchemy.orm import Session, sessionmaker

from support.demo_model import shared_demo_model
from xiaodai.complaints import service as complaints
from xiaodai.db.tables import (
    ApplicationRow,
    ApprovalRow,
    AuditEventRow,
    CollectionCaseRow,
    ComplaintRow,
    ConsentRow,
    ContactAttemptRow,
    CreditLineRow,
    DataRequestRow,
    DisclosureRow,
    DrawdownRow,
    InstallmentRow,
    JournalEntryRow,
    LoanEventRow,
    LoanRow,
    UserRow,
)
from xiaodai.demo.cast import stories
from xiaodai.demo.seed import DEMO_PASSWORD, seed, story_loans
from xiaodai.demo.world import at
from xiaodai.documents.render import render_statement_html
from xiaodai.journey import service as journey
from xiaodai.journey.charges import charge_attempts
from xiaodai.ledger import service as ledger
from xiaodai.lines import daily_interest
from xiaodai.lines import service as lines
from xiaodai.money.money import Money
from xiaodai.notify import service as notify
from xiaodai.payments import service as payments
from xiaodai.servicing.eod import STEPS, last_completed_day
from xiaodai.underwriting import service as underwriting

TODAY = date(2026, 12, 5)


@pytest.fixture(scope="session")
def demo_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo's trained model (``train_demo_model``), once per run for every worker (support/demo_model.py);
    each database registers the same artifact."""
    return shared_demo_model(tmp_path_factory)


def _counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {
            table: int(conn.execute(text(f'SELECT count(*) FROM "{table}"')).scalar_one())
            for table in inspect(engine).get_table_names()
        }


def _user(s: Session, email: str) -> UserRow:
    return s.execute(select(UserRow).where(UserRow.email == email)).scalar_one()


@pytest.fixture
def world(
    engine: Engine,
    factory: sessionmaker[Session],
    demo_model: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> sessionmaker[Session]:
    monkeypatch.setenv("XIAODAI_MODEL_DIR", str(tmp_path / "models"))
    with factory() as s, s.begin():
        underwriting.register_model(s, artifact=demo_model, activate=True)
    started = time.perf_counter()
    report = seed(engine, today=TODAY, workdir=tmp_path, loans=20)
    elapsed = time.perf_counter() - started
    with capsys.disabled():
        print(
            f"\n[demo seed] {engine.dialect.name}: {elapsed:.1f} s for {report.loans_total} loans "
            "(20 background; model trained once per session)"
        )
    assert report.loans_created == report.loans_total > 20
    before = _counts(engine)
    again = seed(engine, today=TODAY, workdir=tmp_path, loans=20)
    assert again.loans_created == 0
    assert _counts(engine) == before  # a second run changes nothing, in any table
    return factory


def _every_loan_is_what_the_journey_produced_and_opens(world: sessionmaker[Session]) -> None:
    with world() as s:
        loans = list(s.execute(select(LoanRow)).scalars())
        assert loans
        for loan in loans:
            assert loan.borrower_id is not None
            owner = s.get(UserRow, loan.borrower_id)
            assert owner is not None
            if loan.line_id is not None:  # drawn on a credit line: its drawdown, the line's decision
                drawn = s.execute(select(DrawdownRow).where(DrawdownRow.loan_id == loan.id)).scalar_one()
                assert drawn.line_id == loan.line_id
                application = s.execute(
                    select(ApplicationRow).where(
                        ApplicationRow.decision_id == s.get(CreditLineRow, loan.line_id).decision_id  # type: ignore[union-attr]
                    )
                ).scalar_one()
                assert application.loan_id is None  # the offer became the line, not a loan
            else:
                application = s.execute(
                    select(ApplicationRow).where(ApplicationRow.loan_id == loan.id)
                ).scalar_one()
            assert application.outcome == "approve"
            assert application.decision_id is not None
            detail = journey.loan_detail(s, user=owner, loan_id=loan.id, today=TODAY)  # what /loans/N shows
            snapshot = journey.disclosure_for(s, loan.id)
            assert detail["disclosure"]["sha256"] == snapshot.sha256
            kfs = json.loads(snapshot.canonical_json)
            assert kfs["loan"]["start_date"] == loan.start_on.isoformat() == loan.disbursed_on.isoformat()
            assert snapshot.signed_at.date() in (loan.start_on, loan.start_on - timedelta(days=1))  # UTC
        demo = _user(s, "borrower@xiaodai.demo")
        mine = journey.my_loans(s, user=demo)
        drawdowns = {r.loan_id for r in s.execute(select(DrawdownRow)).scalars()}
        assert len([row for row in mine if row["id"] not in drawdowns]) == 4  # the four stories' loans
        assert len([row for row in mine if row["id"] in drawdowns]) == 2  # and two drawn on the line
        for row in mine:  # the statement the borrower downloads renders from the same detail
            detail = journey.loan_detail(s, user=demo, loan_id=row["id"], today=TODAY)
            html = render_statement_html(
                {
                    "loan": detail,
                    "kfs_sha256": detail["disclosure"]["sha256"],
                    "generated_on": TODAY.isoformat(),
                    "borrower_name": demo.name,
                },
                "zh",
            )
            assert detail["disclosure"]["sha256"][:12] in html


def _loans_in_every_state(world: sessionmaker[Session]) -> None:
    with world() as s:
        states = dict(s.execute(select(LoanRow.state, func.count()).group_by(LoanRow.state)).all())
        assert {"active", "settled", "overdue", "written-off"} <= set(states)
        buckets = set(s.execute(select(LoanRow.bucket).where(LoanRow.state == "overdue")).scalars())
        assert {"M1", "M2", "M3", "M4+"} <= buckets
        # repaid early: settled before the last instalment was due (a full prepayment in the journal)
        early = s.execute(
            select(func.count())
            .select_from(LoanRow)
            .where(
                LoanRow.state == "settled",
                LoanRow.closed_on
                < select(func.max(InstallmentRow.due_on))
                .where(InstallmentRow.loan_id == LoanRow.id, InstallmentRow.schedule_version == 1)
                .scalar_subquery(),
            )
        ).scalar_one()
        assert early >= 2
        hardship = (
            s.execute(
                select(LoanRow.state)
                .join(LoanEventRow, LoanEventRow.loan_id == LoanRow.id)
                .where(LoanEventRow.kind == "hardship-extension")
            )
            .scalars()
            .all()
        )
        assert hardship == ["active"]  # arrears paid, the rest moved: current again, in its plan
        written = s.execute(
            select(ApprovalRow).where(ApprovalRow.operation == "write_off", ApprovalRow.status == "executed")
        ).scalar_one()
        assert written.checker_id is not None
        assert written.checker_id != written.maker_id
        off = s.get(LoanRow, json.loads(written.params_json)["loan_id"])
        assert off is not None
        assert off.state == "written-off"
        pending = s.execute(
            select(ApprovalRow).where(ApprovalRow.operation == "write_off", ApprovalRow.status == "pending")
        ).scalar_one()
        assert s.get(LoanRow, json.loads(pending.params_json)["loan_id"]).dpd > 180  # type: ignore[union-attr]
        outcomes = set(s.execute(select(ApplicationRow.outcome)).scalars())
        assert outcomes == {"approve", "decline", "refer"}
        cooling = s.execute(
            select(func.count()).select_from(LoanRow).where(LoanRow.cooling_off_until >= TODAY)
        )
        assert cooling.scalar_one() >= 1


def _collections_cases_and_contacts(world: sessionmaker[Session]) -> None:
    with world() as s:
        collector = _user(s, "collector@xiaodai.demo").id
        overdue = set(s.execute(select(LoanRow.id).where(LoanRow.state == "overdue")).scalars())
        cases = dict(s.execute(select(CollectionCaseRow.loan_id, CollectionCaseRow.assigned_to)).all())
        assert overdue
        assert overdue <= set(cases)  # every overdue loan has its case
        assert {cases[k] for k in overdue} == {collector}
        decisions = dict(
            s.execute(
                select(ContactAttemptRow.decision, func.count()).group_by(ContactAttemptRow.decision)
            ).all()
        )
        assert decisions.get("allow", 0) > 0
        assert decisions.get("block", 0) > 0
        blocked = set(
            s.execute(select(ContactAttemptRow.reason).where(ContactAttemptRow.decision == "block")).scalars()
        )
        assert {"TIME_WINDOW", "HOLD_COMPLAINT"} <= blocked


def _complaints_at_each_stage(world: sessionmaker[Session]) -> None:
    now = at(TODAY, 18)
    with world() as s:
        rows = list(s.execute(select(ComplaintRow)).scalars())
        clocks = {r.public_id: complaints.sla(s, r, now) for r in rows}
        closed = [r for r in rows if r.status == "closed"]
        assert len(closed) == 1
        assert closed[0].root_cause == "DISCLOSURE_READ"
        assert json.loads(closed[0].decision_json or "{}")["notice"]["basis"]
        assert clocks[closed[0].public_id]["sla_status"] == "on_time"
        open_ = [r for r in rows if r.status != "closed"]
        received = {r.public_id: complaints._aware(r.received_at).date() for r in open_}
        deadline = {p: date.fromisoformat(clocks[p]["regulatory_deadline"][:10]) for p in received}
        assert any(d == TODAY for d in received.values())  # new: came in today
        assert any(
            TODAY - d >= timedelta(days=3) and deadline[p] - TODAY > timedelta(days=7)
            for p, d in received.items()
        )  # acknowledged, well within its clock
        assert any(
            timedelta(0) <= deadline[p] - TODAY <= timedelta(days=3) for p in received
        )  # near deadline
        extended = [
            p
            for p in received
            if clocks[p]["reason"] != "SLA_OPEN_BREACHED" and deadline[p] - received[p] > timedelta(days=20)
        ]
        assert extended  # an extension notified in time moved its deadline to 30 days


def _fee_product_and_refused_charges(world: sessionmaker[Session]) -> None:
    with world() as s:
        fee_loans = list(s.execute(select(LoanRow).where(LoanRow.product == "everyday")).scalars())
        assert fee_loans
        for loan in fee_loans:
            kfs = json.loads(journey.disclosure_for(s, loan.id).canonical_json)
            nominal = Decimal(loan.annual_rate) * 100
            assert Decimal(kfs["headline"]["apr_percent"]) > nominal
            assert {f["clause"] for f in kfs["fees"]} == {"F1", "F2"}
            assert loan.upfront_fee_fen > 0
            assert loan.monthly_fee_fen == 800
        # an overdue fee loan's bill: the monthly fee line cites F2, the penalty its capped clause P1
        owner_of = {loan.id: loan.borrower_id for loan in fee_loans}
        late = next(loan for loan in fee_loans if loan.state == "overdue")
        owner = s.get(UserRow, owner_of[late.id])
        assert owner is not None
        detail = journey.loan_detail(s, user=owner, loan_id=late.id, today=TODAY)
        assert {line["clause"] for line in detail["bill"] if line["item"] == "fee"} == {"F2"}
        assert {f["clause"] for f in detail["fee_terms"]} == {"F1", "F2"}
        refused = set(
            s.execute(select(AuditEventRow.reason).where(AuditEventRow.action == "charge")).scalars()
        )
        assert refused == {
            "CHARGE_NOT_DISCLOSED",
            "CHARGE_ALREADY_CHARGED",
            "CHARGE_AMOUNT_EXCEEDS_DISCLOSURE",
        }
        demo = _user(s, "borrower@xiaodai.demo")
        shown = [a for loan in journey.my_loans(s, user=demo) for a in charge_attempts(s, loan_id=loan["id"])]
        assert len(shown) == 3
        assert not any(a["posted"] for a in shown)  # what a staff page shows for the borrower's loans
        posted = s.execute(
            select(func.count()).select_from(JournalEntryRow).where(JournalEntryRow.event == "charge")
        ).scalar_one()
        assert posted == 0


def _privacy_and_every_role_has_something_true(world: sessionmaker[Session]) -> None:
    with world() as s:
        kinds = set(s.execute(select(DataRequestRow.kind)).scalars())
        assert {"correction", "deletion"} <= kinds
        withdrawn = s.execute(
            select(func.count()).select_from(ConsentRow).where(ConsentRow.withdrawn_at.is_not(None))
        ).scalar_one()
        assert withdrawn >= 1
        assert (
            s.execute(
                select(func.count()).select_from(ApplicationRow).where(ApplicationRow.outcome == "refer")
            ).scalar_one()
            >= 1
        )  # the underwriter's queue
        assert (
            s.execute(select(func.count()).select_from(AuditEventRow)).scalar_one() > 100
        )  # the auditor's trail
        from xiaodai.accounts.service import HASHER, roles_of

        for role in ("underwriter", "collector", "complaint_officer", "risk", "auditor", "admin"):
            staff = _user(s, f"{role}@xiaodai.demo")  # the credentials the README and the browser tests use
            assert role in roles_of(staff)
            assert HASHER.verify(staff.password_hash, DEMO_PASSWORD)
        assert HASHER.verify(_user(s, "borrower@xiaodai.demo").password_hash, DEMO_PASSWORD)


def _signed_times_are_the_business_dates(world: sessionmaker[Session]) -> None:
    with world() as s:
        first = s.execute(select(func.min(DisclosureRow.signed_at))).scalar_one()
        assert first is not None
        stamp = first if isinstance(first, datetime) else datetime.fromisoformat(str(first))
        assert stamp.date() < TODAY - timedelta(days=200)


def _stories_by_key(world: sessionmaker[Session]) -> None:
    with world() as s:
        loans = story_loans(s)
        assert set(loans) == {story.key for story in stories(TODAY)} | {"demo-line"}
        assert loans["demo-line"] is None  # the line's application: granted as a line, not signed as a loan
        assert loans["referred"] is None
        assert loans["declined-risk"] is None
        fee_late = s.get(LoanRow, loans["m2-fees"])
        assert fee_late is not None
        assert (fee_late.product, fee_late.state, fee_late.bucket) == ("everyday", "overdue", "M2")
        hardship = s.get(LoanRow, loans["hardship"])
        assert hardship is not None
        assert hardship.state == "active"


def _the_demo_borrowers_line_card_and_reminders(world: sessionmaker[Session]) -> None:
    """What the demo borrower finds: my line with an instalment and a daily-interest drawdown, both paid out
    to their bound card through the channel, something due this month, reminders in the inbox."""
    with world() as s:
        demo = _user(s, "borrower@xiaodai.demo")
        view = lines.line_view(s, user=demo, today=TODAY)
        assert view["state"] == "active"
        assert view["can_draw"] is True
        assert Decimal(view["available"]) > 0
        assert sorted(d["plan"] for d in view["drawdowns"]) == ["daily", "instalment"]
        (card,) = payments.list_cards(s, borrower_id=demo.id)
        assert (card["status"], card["default"]) == ("bound", True)
        for drawn in view["drawdowns"]:
            assert drawn["state"] == "active"
            assert drawn["disbursement"]["status"] == "succeeded"
            assert drawn["disbursement"]["destination"] == card["masked"]  # paid out to the bound card
        daily = next(d for d in view["drawdowns"] if d["plan"] == "daily")
        # 800 repaid twelve days after the draw: first the interest of those twelve days at the daily rate
        used = daily_interest.interest_fen(200_000, Decimal(view["rate"]["annual_rate"]), 12)
        assert Money.of(daily["principal_outstanding"]).to_minor() == 200_000 - (80_000 - used)
        assert view["due_this_month"]["items"]
        assert view["next_due"] is not None
        kinds = {m["kind"] for m in notify.inbox(s, borrower_id=demo.id)}
        assert {"pre_due", "due_today"} & kinds
        assert lines.check_commitments(s) == []
        assert ledger.check(s) == []


def _a_later_day_only_runs_end_of_day(world: sessionmaker[Session], engine: Engine, tmp_path: Path) -> None:
    before = _counts(engine)
    later = seed(engine, today=TODAY + timedelta(days=3), workdir=tmp_path, loans=20)
    assert later.loans_created == 0
    assert last_completed_day(engine) == TODAY + timedelta(days=3)
    after = _counts(engine)
    assert after["loans"] == before["loans"]
    assert after["applications"] == before["applications"]
    assert after["eod_steps"] == before["eod_steps"] + 3 * len(STEPS)


def test_demo_world(world: sessionmaker[Session], engine: Engine, tmp_path: Path) -> None:
    """One seed per database (it takes a while), every check on it."""
    _every_loan_is_what_the_journey_produced_and_opens(world)
    _loans_in_every_state(world)
    _collections_cases_and_contacts(world)
    _complaints_at_each_stage(world)
    _fee_product_and_refused_charges(world)
    _privacy_and_every_role_has_something_true(world)
    _signed_times_are_the_business_dates(world)
    _stories_by_key(world)
    _the_demo_borrowers_line_card_and_reminders(world)
    _a_later_day_only_runs_end_of_day(world, engine, tmp_path)


def test_an_interrupted_seed_is_refused_before_anything_is_written(
    engine: Engine, factory: sessionmaker[Session], tmp_path: Path
) -> None:
    from xiaodai.accounts.service import sign_up
    from xiaodai.demo.seed import SeedError

    with factory() as s, s.begin():  # what a seed stopped on its first days leaves: a story's application
        uid = sign_up(s, email="borrower05@xiaodai.demo", name="借款人", password=DEMO_PASSWORD).id
        s.add(
            ApplicationRow(
                public_id="a" * 32, user_id=uid, idempotency_key=f"{uid}:demo:m1", payload_json="{}"
            )
        )
    before = _counts(engine)
    with pytest.raises(SeedError, match="stopped half way"):
        seed(engine, today=TODAY, workdir=tmp_path, loans=0)
    assert _counts(engine) == before
