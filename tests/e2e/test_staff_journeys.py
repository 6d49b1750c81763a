"""Each staff role's main task in Chromium on the seeded demo, ending in what the person reads.

Where the seed lacks what a task needs (an application to review, a collection case for the collector, a
complaint to handle, a second model to activate), the test makes it through the services first.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from e2e.demo import raw_codes, sign_in, submit, visible_text


@contextmanager
def services(demo: Any) -> Iterator[Session]:
    from xiaodai.db.session import make_engine, session_factory

    engine = make_engine(demo.database_url)
    try:
        with session_factory(engine)() as session, session.begin():
            yield session
    finally:
        engine.dispose()


def _user(session: Session, email: str) -> Any:
    from xiaodai.db.tables import UserRow

    return session.execute(select(UserRow).where(UserRow.email == email)).scalar_one()


def test_underwriter_replays_a_decision(demo_page: tuple[Any, Any, Any], demo: Any) -> None:
    from xiaodai.accounts import service as accounts
    from xiaodai.journey import service as journey

    with services(demo) as s:
        applicant = accounts.sign_up(
            s, email=f"uw-{secrets.token_hex(3)}@example.com", name="赵六", password="correct horse 1"
        )
        made = journey.submit_application(
            s,
            user=applicant,
            payload={
                "applicant": {  # only what an applicant states: the platform looks up the rest
                    "age": 30,
                    "monthly_income": "8000",
                    "monthly_debt_payments": "0",
                    "employment_type": "employed",
                    "housing": "rent",
                },
                "request": {"amount": "5000", "term": 6},
            },
            idempotency_key="uw-1",
            credit_check_consent=True,
            today=demo.business_date,
        )
        from xiaodai.db.tables import ApplicationRow

        decision_id = s.execute(
            select(ApplicationRow.decision_id).where(ApplicationRow.public_id == made["application_id"])
        ).scalar_one()
    page, _, shoot = demo_page
    sign_in(page, "underwriter@xiaodai.demo")
    assert page.url.endswith("/staff/underwriting")
    assert page.locator(f'#recent-decisions a[href="/staff/decisions/{decision_id}"]').count() == 1
    page.click(f'#recent-decisions a[href="/staff/decisions/{decision_id}"]')
    page.wait_for_load_state()
    assert page.locator("#decision-reasons li").count() >= 1
    assert raw_codes(visible_text(page)) == []
    submit(page, "#replay")
    assert page.locator("#replay-result").inner_text() == "重放结果与原决定完全一致"
    shoot("staff-underwriter-decision")


def test_risk_activates_a_model_with_a_second_persons_approval(
    demo_page: tuple[Any, Any, Any], demo: Any, tmp_path: Path
) -> None:
    from support.models import write_artifact
    from xiaodai.approvals import service as approvals
    from xiaodai.db.tables import ModelRow
    from xiaodai.underwriting import service as underwriting

    with services(demo) as s:
        original = s.execute(select(ModelRow.version).where(ModelRow.active.is_(True))).scalar_one()
        challenger = underwriting.register_model(
            s, artifact=write_artifact(tmp_path / "artifact", version="e2echallenger01"), activate=False
        ).version
    page, _, shoot = demo_page
    try:
        sign_in(page, "risk@xiaodai.demo")
        assert page.url.endswith("/staff/models")
        assert int(page.locator("#monitor-decisions").inner_text()) >= 0
        assert page.locator("#models").inner_text().count("使用中") == 1
        active_row = page.locator(f'#models tr:has-text("{original}")').inner_text()
        assert re.search(r"0\.\d{3}", active_row), active_row  # the trained model's cross-validated AUC
        row = page.locator(f'#models tr:has-text("{challenger}")')
        assert row.locator('a[href$="/card"]').count() == 0  # made by hand: no training record, no card
        missing = page.request.get(f"/staff/models/{challenger}/card")
        assert missing.status == 404
        row.locator("input[name=reason]").fill("挑战者模型在验证集上更好")
        with page.expect_navigation():
            row.locator("button.request-activation").click()
        assert challenger in page.locator("#activation-requested").inner_text()
        shoot("staff-risk-models")
        card = page.goto(f"/staff/models/{original}/card")
        assert card is not None
        assert card.status == 200
        sign_in(page, "admin@xiaodai.demo")
        page.goto("/staff/approvals")
        pending = page.locator(f'#approvals tr:has-text("{challenger}")')
        with page.expect_navigation():
            pending.locator("button.approve-button").click()
        assert "已批准并执行" in page.locator(f'#approvals tr:has-text("{challenger}")').inner_text()
        sign_in(page, "risk@xiaodai.demo")
        active = page.locator('#models tr:has-text("使用中")').inner_text()
        assert challenger in active
    finally:  # the demo's own model back in service, through the same four-eyes rule
        with services(demo) as s:
            asked = approvals.request(
                s,
                maker=_user(s, "risk@xiaodai.demo"),
                operation="model_activate",
                params={"version": original},
                reason="restore the demo model",
            )
            approvals.approve(s, checker=_user(s, "admin@xiaodai.demo"), approval_id=asked["id"])


def test_collector_contacts_a_case_through_the_policy_engine(
    demo_page: tuple[Any, Any, Any], demo: Any
) -> None:
    from xiaodai.collections.service import open_case
    from xiaodai.db.tables import CollectionCaseRow, LoanRow

    with services(demo) as s:
        collector = _user(s, "collector@xiaodai.demo")
        mine = s.execute(
            select(CollectionCaseRow.loan_id).where(CollectionCaseRow.assigned_to == collector.id)
        ).first()
        if mine is None:  # the seed made no case for the collector: open one on an overdue loan
            overdue = s.execute(select(LoanRow.id).where(LoanRow.state == "overdue").limit(1)).scalar_one()
            open_case(s, loan_id=overdue, assigned_to=collector.id)
    page, _, shoot = demo_page
    sign_in(page, "collector@xiaodai.demo")
    assert page.url.endswith("/staff/worklist")
    rows = page.locator("#worklist tr")
    assert rows.count() >= 2
    first = rows.nth(1)
    assert first.locator("td.next-allowed").inner_text().strip() != ""  # filled in: now, a time, or a hold
    with page.expect_navigation():
        first.locator("a").click()
    page.select_option("#channel", "sms")
    page.fill("#message", "您好，您的借款已逾期，请及时还款。如有困难请联系我们。")
    submit(page, "#attempt")
    verdict = page.locator("#verdict").inner_text()
    assert verdict.startswith(("允许", "拦截")), verdict
    assert raw_codes(verdict) == []
    assert page.locator("#contacts tr").count() >= 2
    assert raw_codes(visible_text(page)) == []
    shoot("staff-collector-contact")


def test_complaint_officer_closes_a_complaint(demo_page: tuple[Any, Any, Any], demo: Any) -> None:
    from xiaodai.complaints.service import file_complaint

    with services(demo) as s:
        borrower = _user(s, "borrower@xiaodai.demo")
        ack = file_complaint(
            s,
            narrative="客服电话一直打不通，我的问题两周没人处理。",
            channel="portal",
            user_id=borrower.id,
            received_at=datetime.now(tz=UTC),
        )
    public_id = ack["complaint_id"]
    page, _, shoot = demo_page
    sign_in(page, "complaint_officer@xiaodai.demo")
    assert page.url.endswith("/staff/complaints")
    with page.expect_navigation():
        page.click(f'a[href="/staff/complaints/{public_id}"]')
    page.select_option("#category", "service_efficiency")
    submit(page, "#classify")
    assert page.locator("#complaint-category").inner_text() == "服务效率与质量"
    submit(page, "#assign")
    assert page.locator("#complaint-assignee").inner_text().startswith("投诉专员")
    page.fill("#evidence-text", "调取了 400 热线通话记录：两周内 5 次未接通")
    submit(page, "#attach")
    assert "5 次未接通" in page.locator("#history").inner_text()
    page.fill("#verification_summary", "热线记录显示多次未接通")
    page.fill("#basis", "客户服务规范第3条")
    page.fill("#reasons", "投诉属实，已安排专人回访")
    page.select_option("#remedy", "apology")
    page.select_option("#root_cause", "SERVICE_RESPONSE_TIME")
    submit(page, "#close")
    assert page.locator("#complaint-status").inner_text() == "已办结"
    assert raw_codes(visible_text(page)) == []  # the file's history in words, people by name
    assert "投诉专员（投诉专员）" in page.locator("#history").inner_text()
    shoot("staff-complaint-closed")
    page.goto("/staff/complaints")
    assert int(page.locator("#kpi-closed").inner_text()) >= 1
    assert re.fullmatch(r"\d+\.\d%", page.locator("#kpi-on-time").inner_text())
    assert page.locator(f'a[href="/staff/complaints/{public_id}"]').count() == 0  # left the queue


def test_auditor_verifies_the_trail(demo_page: tuple[Any, Any, Any], demo: Any) -> None:
    page, _, shoot = demo_page
    sign_in(page, "auditor@xiaodai.demo")
    assert page.url.endswith("/staff/audit")
    length = int(page.locator("#audit-length").inner_text())
    assert length > 0
    submit(page, "#verify")
    result = page.locator("#verify-result").inner_text()
    assert result.startswith("审计链完整"), result
    assert raw_codes(visible_text(page)) == []
    shoot("staff-auditor")


def test_admin_adds_a_staff_member_who_lands_on_their_home(
    demo_page: tuple[Any, Any, Any], demo: Any
) -> None:
    page, _, shoot = demo_page
    sign_in(page, "admin@xiaodai.demo")
    assert page.url.endswith("/staff/admin")
    email = f"auditor-{secrets.token_hex(3)}@example.com"
    page.fill("#new-email", email)
    page.fill("#new-name", "新审计员")
    page.fill("#new-password", "correct horse 1")
    page.check("#role-auditor")
    submit(page, "#add-staff")
    assert email in page.locator("#admin-ack").inner_text()
    assert "新审计员" in page.locator("#staff-users").inner_text()
    shoot("staff-admin")
    sign_in(page, email, "correct horse 1")
    assert page.url.endswith("/staff/audit")
    refused = page.goto("/staff/admin")
    assert refused is not None
    assert refused.status == 403
    assert page.locator("#forbidden").count() == 1


def _referred(demo: Any) -> list[tuple[int, str, str]]:
    """The seed's referred applications still waiting: (decision id, public id, borrower email)."""
    from xiaodai.db.tables import ApplicationRow, UserRow

    with services(demo) as s:
        rows = s.execute(
            select(ApplicationRow.decision_id, ApplicationRow.public_id, UserRow.email)
            .join(UserRow, UserRow.id == ApplicationRow.user_id)
            .where(ApplicationRow.outcome == "refer")
            .order_by(ApplicationRow.id)
        ).all()
    return [(int(d or 0), str(p), str(e)) for d, p, e in rows]


def test_underwriter_approves_and_declines_referred_applications(
    demo_page: tuple[Any, Any, Any], demo: Any
) -> None:
    waiting = _referred(demo)
    assert len(waiting) >= 2, "the demo seeds two referred applications"
    (approved, approved_app, approved_email), (declined, declined_app, declined_email) = waiting[:2]
    page, _, shoot = demo_page
    sign_in(page, "underwriter@xiaodai.demo")
    for decision_id in (approved, declined):
        assert page.locator(f'#referred a[href="/staff/decisions/{decision_id}"]').count() == 1
    queue = page.locator("#referred").inner_text()
    for raw in ("缺失", "missing", "Price", "[", "SCORE_"):  # reasons in the catalogue's words, as the page
        assert raw not in queue, (raw, queue)
    with page.expect_navigation():
        page.click(f'#referred a[href="/staff/decisions/{approved}"]')
    cited = page.locator("#decision-reasons").inner_text()
    assert "所购商品价格" not in cited  # as the applicant reads it: catalogue features only
    assert "缺失" not in cited
    page.fill("#review-note", "收入流水已核实")
    submit(page, "#review-approve")
    assert page.locator("#review-ack").inner_text() == "已批准，借款人现在可以查看并签署要约"
    assert "已批准" in page.locator("#review-result").inner_text()
    assert "审批员" in page.locator("#review-result").inner_text()  # the reviewer by name, not user:N
    assert raw_codes(visible_text(page)) == []
    page.goto(f"/staff/decisions/{declined}")
    submit(page, "#review-decline")  # no reason chosen: refused on the page, in Chinese
    assert page.locator("#review-error").inner_text() == "拒绝须至少选择一个原因"
    page.fill("#review-note", "工资流水与所填收入不符")
    page.locator('#review-form label:has-text("所填收入未能核实") input').check()
    submit(page, "#review-decline")
    assert page.locator("#review-reasons").inner_text().strip() == "所填收入未能核实"
    shoot("staff-underwriter-review")
    page.goto("/staff/underwriting")
    for decision_id in (approved, declined):  # both left the queue
        assert page.locator(f'#referred a[href="/staff/decisions/{decision_id}"]').count() == 0

    sign_in(page, approved_email)
    page.goto(f"/applications/{approved_app}")
    assert page.locator("#outcome").inner_text() == "已批准"
    assert page.locator("#offer").count() == 1
    assert page.locator("#sign").count() == 1
    assert "经人工复核批准" in visible_text(page)
    sign_in(page, declined_email)
    page.goto(f"/applications/{declined_app}")
    assert page.locator("#outcome").inner_text() == "未获批准"
    assert page.locator("#offer").count() == 0
    assert "所填收入未能核实" in visible_text(page)
    assert "工资流水" not in visible_text(page)  # the internal note stays internal


def test_admin_changes_roles_and_keeps_the_last_admin(demo_page: tuple[Any, Any, Any], demo: Any) -> None:
    from xiaodai.accounts import service as accounts

    email = f"clerk-{secrets.token_hex(3)}@example.com"
    with services(demo) as s:
        clerk = accounts.sign_up(
            s, email=email, name="新员工", password="correct horse 1", kind="staff", roles=("collector",)
        ).id
        admin = _user(s, "admin@xiaodai.demo").id
        second = _user(s, "security@xiaodai.demo").id
    page, _, shoot = demo_page
    try:
        sign_in(page, "admin@xiaodai.demo")
        row = page.locator(f'#staff-users tr[data-user="{clerk}"]')
        row.locator(f"#roles-{clerk}-collector").uncheck()
        row.locator(f"#roles-{clerk}-underwriter").check()
        submit(page, f"#save-roles-{clerk}")
        assert email in page.locator("#roles-ack").inner_text()
        assert page.locator(f'#staff-users tr[data-user="{clerk}"] td.roles-now').inner_text() == "审批员"
        # the demo's second admin steps down to auditor; then the only admin left unticks their own admin
        # role: refused on the page, in Chinese, nothing changed; the second admin is made admin again
        page.locator(f"#roles-{second}-admin").uncheck()
        page.locator(f"#roles-{second}-auditor").check()
        submit(page, f"#save-roles-{second}")
        assert page.locator(f'#staff-users tr[data-user="{second}"] td.roles-now').inner_text() == "审计员"
        page.locator(f"#roles-{admin}-admin").uncheck()
        page.locator(f"#roles-{admin}-auditor").check()
        submit(page, f"#save-roles-{admin}")
        assert page.locator("#admin-error").inner_text() == "不能移除最后一位管理员的管理员角色"
        assert page.locator(f'#staff-users tr[data-user="{admin}"] td.roles-now').inner_text() == "管理员"
        assert raw_codes(visible_text(page)) == []
        page.locator(f"#roles-{second}-admin").check()
        page.locator(f"#roles-{second}-auditor").uncheck()
        submit(page, f"#save-roles-{second}")
        assert page.locator(f'#staff-users tr[data-user="{second}"] td.roles-now').inner_text() == "管理员"
        shoot("staff-admin-roles")
        sign_in(page, email, "correct horse 1")
        assert page.url.endswith("/staff/underwriting")  # lands on the new role's home
    finally:  # the demo's admins as they were, whatever happened above
        from xiaodai.db.tables import UserRow

        with services(demo) as s:
            for user_id in (admin, second):
                row_ = s.get(UserRow, user_id)
                assert row_ is not None
                row_.roles = "admin"
