"""The complaint officer's pages: the queue (by deadline) with the month's KPIs, and one complaint's file
with every step — classify (override), assign, attach evidence, extend (with approval where the rule needs
it), decide the remedy and close with the decision notice. Auditors read; they change nothing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from xiaodai.complaints import handling
from xiaodai.complaints import service as complaints
from xiaodai.complaints.closing import root_causes
from xiaodai.db.tables import UserRow
from xiaodai.web.errors_i18n import localise
from xiaodai.web.routes import PostedForm, _check_csrf, _lang, _page, _require, _run

router = APIRouter(include_in_schema=False)
REMEDIES = (
    "explanation",
    "apology",
    "waive_penalty",
    "waive_fee",
    "waive_interest",
    "refund_fee",
    "refund_interest",
    "credit_report_correction_request",
    "none",
)
BAR_WIDTH = 300


def _bars(values: dict[str, Any] | list[tuple[str, int]], t: dict[str, str]) -> list[dict[str, Any]]:
    items = list(values.items()) if isinstance(values, dict) else list(values)
    top = max((float(v or 0) for _, v in items), default=0) or 1
    return [
        {
            "label": t.get(f"category_{k}") or t.get(f"rootcause_{k}") or str(k),
            "value": v,
            "width": int(BAR_WIDTH * float(v or 0) / top),
        }
        for k, v in items
    ]


@router.get("/staff/complaints", response_class=HTMLResponse)
def staff_complaints(request: Request) -> Response:
    def action(session: Session) -> Response:
        from xiaodai.complaints.report import current_month, monthly_report
        from xiaodai.web.i18n import translator

        _require(request, session, "complaint_officer", "auditor")
        t = translator(_lang(request))
        now = datetime.now(tz=UTC)
        report = monthly_report(session, month=current_month(now.date()), as_of=now)
        causes = dict(report["top_root_causes"])
        cause_labels = root_causes()
        lang = _lang(request)
        return _page(
            request,
            "staff_complaints.html",
            session,
            queue=complaints.queue(session, as_of=now),
            report=report,
            closed=closed_on_time(session, month=report["month"], as_of=now),
            bars=_bars(report["per_10k_active"] or {}, t),
            causes=[
                {**bar, "label": cause_labels.get(code, {}).get(lang, bar["label"])}
                for bar, code in zip(_bars(causes, t), causes, strict=True)
            ],
        )

    return _run(request, action, "staff_complaints.html", queue=[], report={}, bars=[], causes=[])


def closed_on_time(session: Session, *, month: str, as_of: datetime) -> dict[str, Any]:
    """The month's on-time rate over complaints *closed* (an open complaint is not yet on time): how many
    closed, how many on time, the rate — None when none closed (the page shows "—", not 100 %)."""
    from xiaodai.db.tables import ComplaintRow

    year, number = (int(part) for part in month.split("-"))
    start = datetime(year, number, 1, tzinfo=UTC)  # the monthly report's own bounds (UTC)
    end = datetime(year + number // 12, number % 12 + 1, 1, tzinfo=UTC)
    rows = session.execute(select(ComplaintRow).where(ComplaintRow.status == "closed")).scalars()
    closed = [
        r
        for r in rows
        if r.closed_at
        and start <= (r.closed_at if r.closed_at.tzinfo else r.closed_at.replace(tzinfo=UTC)) < end
    ]
    on_time = sum(1 for r in closed if complaints.sla(session, r, as_of)["sla_status"] == "on_time")
    return {"closed": len(closed), "on_time": on_time, "rate": on_time / len(closed) if closed else None}


def _officers(session: Session) -> list[UserRow]:
    staff = session.execute(select(UserRow).where(UserRow.kind == "staff").order_by(UserRow.id)).scalars()
    return [u for u in staff if {"complaint_officer", "admin"} & set(u.roles.split(","))]


def _file(request: Request, session: Session, public_id: str, status: int = 200, **extra: Any) -> Response:
    user = _require(request, session, "complaint_officer", "auditor")
    row = complaints.get(session, public_id)
    now = datetime.now(tz=UTC)
    from xiaodai.complaints.classify import default_taxonomy

    taxonomy = default_taxonomy()
    return _page(
        request,
        "staff_complaint.html",
        session,
        status=status,
        complaint=row,
        clock=complaints.sla(session, row, now),
        history=handling.history(session, public_id=public_id),
        pending=handling.pending_extensions(session, public_id=public_id),
        categories=[c.id for c in taxonomy.categories],
        officers=_officers(session),
        remedies=REMEDIES,
        root_causes=root_causes(),
        may_write=any(r in user.roles.split(",") for r in ("complaint_officer", "admin")),
        me=user,
        **extra,
    )


@router.get("/staff/complaints/{public_id}", response_class=HTMLResponse)
def staff_complaint(request: Request, public_id: str) -> Response:
    return _run(request, lambda s: _file(request, s, public_id), "forbidden.html")


def _fields(posted: FormData) -> dict[str, str]:
    return {k: str(v) for k, v in posted.items() if isinstance(v, str)}


def _write(request: Request, public_id: str, form: dict[str, str], step: Callable[..., Any]) -> Response:
    def action(session: Session) -> Response:
        _check_csrf(request, form.get("csrf", ""))
        user = _require(request, session, "complaint_officer")
        try:
            with session.begin_nested():
                step(session, user, datetime.now(tz=UTC))
        except complaints.ComplaintError as exc:
            return _file(request, session, public_id, status=400, error=localise(str(exc), _lang(request)))
        return RedirectResponse(f"/staff/complaints/{public_id}", status_code=303)

    return _run(request, action, "forbidden.html")


@router.post("/staff/complaints/{public_id}/classify")
def classify(request: Request, public_id: str, posted: PostedForm) -> Response:
    form = _fields(posted)

    def step(session: Session, user: UserRow, at: datetime) -> None:
        complaints.reclassify(
            session,
            public_id=public_id,
            category=form.get("category", ""),
            sub_issue=form.get("sub_issue") or None,
            officer=f"user:{user.id}",
        )

    return _write(request, public_id, form, step)


@router.post("/staff/complaints/{public_id}/assign")
def assign(request: Request, public_id: str, posted: PostedForm) -> Response:
    form = _fields(posted)

    def step(session: Session, user: UserRow, at: datetime) -> None:
        chosen = form.get("assignee", "")
        assignee = session.get(UserRow, int(chosen)) if chosen.isdigit() else None
        if assignee is None:
            raise complaints.ComplaintError("choose who handles the complaint")
        handling.assign(session, public_id=public_id, assignee=assignee, by=user, at=at)

    return _write(request, public_id, form, step)


@router.post("/staff/complaints/{public_id}/evidence")
def evidence(request: Request, public_id: str, posted: PostedForm) -> Response:
    form = _fields(posted)

    def step(session: Session, user: UserRow, at: datetime) -> None:
        handling.add_evidence(session, public_id=public_id, text=form.get("text", ""), by=user, at=at)

    return _write(request, public_id, form, step)


@router.post("/staff/complaints/{public_id}/extend")
def extend(request: Request, public_id: str, posted: PostedForm) -> Response:
    form = _fields(posted)

    def step(session: Session, user: UserRow, at: datetime) -> None:
        handling.request_extension(
            session,
            public_id=public_id,
            kind=form.get("kind", ""),
            reason=form.get("reason", ""),
            by=user,
            at=at,
        )

    return _write(request, public_id, form, step)


@router.post("/staff/complaints/{public_id}/extend/{request_id}/approve")
def approve_extension(request: Request, public_id: str, request_id: str, posted: PostedForm) -> Response:
    form = _fields(posted)

    def step(session: Session, user: UserRow, at: datetime) -> None:
        handling.approve_extension(session, public_id=public_id, request_id=request_id, by=user, at=at)

    return _write(request, public_id, form, step)


@router.post("/staff/complaints/{public_id}/close")
def close(request: Request, public_id: str, posted: PostedForm) -> Response:
    form = _fields(posted)

    def step(session: Session, user: UserRow, at: datetime) -> None:
        kind = form.get("remedy", "")
        remedy: dict[str, Any] = {"kind": kind}
        if kind.startswith(("waive_", "refund_")):
            remedy["amount"] = form.get("remedy_amount", "").replace(",", "") or "0"
        if kind == "none":
            remedy["reason"] = form.get("remedy_reason", "")
        try:
            complaints.close(
                session,
                public_id=public_id,
                at=at,
                notice={
                    "verification_summary": form.get("verification_summary", "").strip(),
                    "basis": form.get("basis", "").strip(),
                    "reasons": form.get("reasons", "").strip(),
                    "remedies": form.get("remedy_channels", "").strip(),
                },
                root_cause=form.get("root_cause", ""),
                remedies=[remedy],
                officer=f"user:{user.id}",
            )
        except (ValueError, ArithmeticError) as exc:
            if isinstance(exc, complaints.ComplaintError):
                raise
            raise complaints.ComplaintError(str(exc)) from exc

    return _write(request, public_id, form, step)
