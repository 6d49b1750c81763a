"""Staff homes beyond collections and complaints: the underwriter's referred queue and decision records
(with replay), the risk analyst's models (card, activation through a four-eyes approval, monitoring), the
auditor's trail (with chain verification), the admin's users and roles, and everyone's approvals.

Every page calls the existing services; the role rules are the services' own (``approvals.rules``) or the
page's one ``_require`` line."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from xiaodai.accounts import service as accounts
from xiaodai.api.deps import RowId
from xiaodai.approvals import service as approvals
from xiaodai.db.tables import ApplicationRow, DecisionRow, ModelRow, UserRow
from xiaodai.web import format as fmt
from xiaodai.web.errors_i18n import localise
from xiaodai.web.routes import PostedForm, _check_csrf, _lang, _page, _require, _run, _staff, _today

router = APIRouter(include_in_schema=False)
CHART_WIDTH = 300


# --- underwriter ---


@router.get("/staff/underwriting", response_class=HTMLResponse)
def underwriting(request: Request) -> Response:
    def action(session: Session) -> Response:
        _require(request, session, "underwriter", "risk")
        from xiaodai.underwriting.referrals import referred as waiting
        from xiaodai.underwriting.service import applicant_explanation

        referred = waiting(session)
        recent = (
            session.execute(select(DecisionRow).order_by(DecisionRow.id.desc()).limit(20)).scalars().all()
        )
        return _page(
            request,
            "staff_underwriting.html",
            session,
            # the reasons as the decision page states them (catalogue features, never a raw column)
            referred=[
                {**_decision_row(d, a), "reasons": applicant_explanation(session, d)["reasons"]}
                for a, d in referred
            ],
            recent=[_decision_row(d, None) for d in recent],
        )

    return _run(request, action, "forbidden.html")


def _decision_row(decision: DecisionRow, application: ApplicationRow | None) -> dict[str, Any]:
    result = json.loads(decision.result_json)
    request = json.loads(decision.application_json).get("request", {})
    return {
        "id": decision.id,
        "outcome": decision.outcome,
        "grade": decision.grade,
        "score": f"{decision.score:.0f}" if decision.score is not None else "—",
        "pd": f"{decision.pd * 100:.2f}%" if decision.pd is not None else "—",
        "amount": request.get("amount"),
        "term": request.get("term"),
        "decided_at": decision.decided_at,
        "reasons": result.get("reasons", []),
        "borrower_id": application.user_id if application else None,
    }


@router.get("/staff/decisions/{decision_id}", response_class=HTMLResponse)
def decision(request: Request, decision_id: RowId) -> Response:
    def action(session: Session) -> Response:
        _require(request, session, "underwriter", "risk", "auditor")
        row = session.get(DecisionRow, decision_id)
        if row is None:
            from xiaodai.journey.service import NotFoundError

            raise NotFoundError(f"decision {decision_id} not found")
        return _decision_page(request, session, row)

    return _run(request, action, "forbidden.html")


def _decision_page(
    request: Request, session: Session, row: DecisionRow, status: int = 200, **extra: Any
) -> Response:
    from xiaodai.underwriting.referrals import decline_reason_choices, review_of

    application = session.execute(
        select(ApplicationRow).where(ApplicationRow.decision_id == row.id)
    ).scalar_one_or_none()
    from xiaodai.underwriting.service import applicant_explanation

    replay = request.session.pop("replay", None)
    explained = applicant_explanation(session, row)  # as the applicant reads it (catalogue features only)
    return _page(
        request,
        "staff_decision.html",
        session,
        status=status,
        d={**_decision_row(row, None), "reasons": explained["reasons"]},
        positive=explained["positive"],
        row=row,
        inputs=json.loads(row.application_json),
        result=json.loads(row.result_json),
        replay=replay if replay and replay.get("decision_id") == row.id else None,
        pending_review=application is not None and application.outcome == "refer",
        review=review_of(session, application.public_id) if application is not None else None,
        review_ack=request.session.pop("review_ack", None),
        decline_reasons=decline_reason_choices(),
        **extra,
    )


@router.post("/staff/decisions/{decision_id}/review")
def review(request: Request, decision_id: RowId, form: PostedForm) -> Response:
    """The underwriter's verdict on a referred application: approve, or decline with reason codes."""

    def action(session: Session) -> Response:
        from xiaodai.underwriting import referrals

        _check_csrf(request, str(form.get("csrf", "")))
        user = _require(request, session, "underwriter")
        row = session.get(DecisionRow, decision_id)
        if row is None:
            from xiaodai.journey.service import NotFoundError

            raise NotFoundError(f"decision {decision_id} not found")
        verdict = str(form.get("verdict", ""))
        codes = [str(c) for c in form.getlist("reasons")]
        note = str(form.get("note", ""))
        typed: dict[str, Any] = {"note": note, "reasons": codes}
        try:
            with session.begin_nested():
                referrals.review(
                    session,
                    reviewer=user,
                    decision_id=decision_id,
                    verdict=verdict,
                    reasons=codes if verdict == "decline" else [],
                    note=note,
                )
        except referrals.ReviewError as exc:
            if exc.status == 404:
                raise
            return _decision_page(
                request, session, row, status=400, error=localise(str(exc), _lang(request)), typed=typed
            )
        request.session["review_ack"] = verdict
        return RedirectResponse(f"/staff/decisions/{decision_id}", status_code=303)

    return _run(request, action, "forbidden.html")


@router.post("/staff/decisions/{decision_id}/replay")
def replay(request: Request, decision_id: RowId, csrf: str = Form("")) -> Response:
    def action(session: Session) -> Response:
        from xiaodai.underwriting.service import replay as replay_decision

        _check_csrf(request, csrf)
        _require(request, session, "underwriter", "risk", "auditor")
        result = replay_decision(session, decision_id=decision_id)
        request.session["replay"] = {
            "decision_id": decision_id,
            "identical": result["identical"],
            "outcome": result["recomputed"].get("outcome"),
        }
        return RedirectResponse(f"/staff/decisions/{decision_id}", status_code=303)

    return _run(request, action, "forbidden.html")


# --- risk ---


def _bars(rows: list[tuple[str, float]], fmt: str = "{:.1%}") -> list[dict[str, Any]]:
    top = max((v for _, v in rows), default=0) or 1
    return [{"label": k, "value": fmt.format(v), "width": int(CHART_WIDTH * v / top)} for k, v in rows]


@router.get("/staff/models", response_class=HTMLResponse)
def models(request: Request) -> Response:
    def action(session: Session) -> Response:
        from xiaodai.underwriting.model_card import has_card
        from xiaodai.underwriting.monitor_service import monitor

        _require(request, session, "risk")
        rows = session.execute(select(ModelRow).order_by(ModelRow.registered_at.desc())).scalars().all()
        listed = []
        for row in rows:
            metrics = json.loads(row.metrics_json or "{}")
            # training's metrics.json: {"models": {"scorecard": {"auc_mean", ...}, "lightgbm": {...}}}
            auc = metrics.get("models", {}).get("scorecard", {}).get("auc_mean")
            listed.append(
                {
                    "row": row,
                    "auc": f"{auc:.3f}" if isinstance(auc, int | float) else "—",
                    "card": has_card(json.loads(row.manifest_json), metrics),
                }
            )
        try:
            watch = monitor(session, today=_today(request))
        except Exception:
            watch = None
        from xiaodai.underwriting.feature_labels import LABELS_EN, LABELS_ZH

        labels = LABELS_ZH if _lang(request) == "zh" else LABELS_EN  # the catalogue's words, not column names
        psi = [
            (labels.get(f["feature"], f["feature"]), float(f["psi"]))
            for f in (watch or {}).get("feature_psi", [])
        ]
        approval = [
            (m["month"], float(m["approval_rate"])) for m in (watch or {}).get("approval_by_month", [])
        ]
        pending = approvals.listing(session, viewer=_staff(request, session), status="pending")
        return _page(
            request,
            "staff_models.html",
            session,
            models=listed,
            watch=watch,
            psi_bars=_bars(psi, "{:.3f}"),
            approval_bars=_bars(approval),
            pending=[a for a in pending if a["operation"] == "model_activate"],
            ack=request.session.pop("approval_ack", None),
        )

    return _run(request, action, "forbidden.html")


@router.get("/staff/models/{version}/card", response_class=HTMLResponse)
def model_card(request: Request, version: str) -> Response:
    """The model card document as rendered for files; its own stylesheet is allowed by its hash only."""

    def action(session: Session) -> Response:
        from xiaodai.underwriting.model_card import has_card, render
        from xiaodai.underwriting.service import model_by_version

        _require(request, session, "risk", "underwriter", "auditor")
        row = session.get(ModelRow, version)
        if row is None:
            from xiaodai.journey.service import NotFoundError

            raise NotFoundError(f"model {version} not found")
        model = model_by_version(session, version)
        manifest, metrics = json.loads(row.manifest_json), json.loads(row.metrics_json or "{}")
        if not has_card(manifest, metrics):
            from xiaodai.journey.service import NotFoundError

            raise NotFoundError(f"model {version} not found")  # registered without a card's training record
        html = render(
            _lang(request),
            manifest=manifest,
            metrics=metrics,
            scorecard=model.scorer.card,
            when=lambda value: fmt.when(value, _lang(request)),
        )
        styles = re.findall(r"<style>(.*?)</style>", html, flags=re.DOTALL)
        hashes = " ".join(
            f"'sha256-{base64.b64encode(hashlib.sha256(s.encode()).digest()).decode()}'" for s in styles
        )
        policy = (
            f"default-src 'self'; script-src 'none'; style-src 'self' {hashes}; img-src 'self' data:; "
            "object-src 'none'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
        )
        return HTMLResponse(html, headers={"Content-Security-Policy": policy})

    return _run(request, action, "forbidden.html")


@router.post("/staff/models/{version}/activate")
def activate(request: Request, version: str, reason: str = Form(""), csrf: str = Form("")) -> Response:
    def action(session: Session) -> Response:
        _check_csrf(request, csrf)
        user = _require(request, session, "risk")
        made = approvals.request(
            session, maker=user, operation="model_activate", params={"version": version}, reason=reason
        )
        request.session["approval_ack"] = {"id": made["id"], "version": version}
        return RedirectResponse("/staff/models", status_code=303)

    return _run(request, action, "forbidden.html")


# --- approvals (every staff member sees them; the four-eyes rule decides who may approve) ---


@router.get("/staff/approvals", response_class=HTMLResponse)
def approvals_page(request: Request) -> Response:
    def action(session: Session) -> Response:
        user = _staff(request, session)
        return _page(
            request,
            "staff_approvals.html",
            session,
            approvals=list(reversed(approvals.listing(session, viewer=user))),
            me=user,
        )

    return _run(request, action, "forbidden.html")


@router.post("/staff/approvals/{approval_id}/{verdict}")
def decide(
    request: Request, approval_id: RowId, verdict: str, reason: str = Form(""), csrf: str = Form("")
) -> Response:
    def action(session: Session) -> Response:
        _check_csrf(request, csrf)
        user = _staff(request, session)
        if verdict == "approve":
            approvals.approve(session, checker=user, approval_id=approval_id)
        elif verdict == "reject":
            approvals.reject(session, checker=user, approval_id=approval_id, reason=reason or "rejected")
        else:
            from xiaodai.journey.service import NotFoundError

            raise NotFoundError("unknown verdict")
        return RedirectResponse("/staff/approvals", status_code=303)

    return _run(request, action, "staff_approvals.html", approvals=[], me=None)


# --- auditor ---


@router.get("/staff/audit", response_class=HTMLResponse)
def audit(request: Request) -> Response:
    def action(session: Session) -> Response:
        from xiaodai.audit.trail import chain_length, list_events

        _require(request, session, "auditor")
        return _page(
            request,
            "staff_audit.html",
            session,
            events=list_events(session, limit=100),
            length=chain_length(session),
            verified=request.session.pop("audit_verified", None),
        )

    return _run(request, action, "forbidden.html")


@router.post("/staff/audit/verify")
def audit_verify(request: Request, csrf: str = Form("")) -> Response:
    def action(session: Session) -> Response:
        from xiaodai.audit.trail import verify_chain

        _check_csrf(request, csrf)
        _require(request, session, "auditor")
        report = verify_chain(session)
        request.session["audit_verified"] = {
            "ok": report.ok,
            "checked": report.checked,
            "head_hash": report.head_hash,
            "at": datetime.now(tz=UTC).isoformat(),
            "problem": str(report.problem) if report.problem else None,
        }
        return RedirectResponse("/staff/audit", status_code=303)

    return _run(request, action, "forbidden.html")


# --- admin ---


def _admin_page(request: Request, session: Session, status: int = 200, **extra: Any) -> Response:
    _require(request, session, "admin")
    staff = session.execute(select(UserRow).where(UserRow.kind == "staff").order_by(UserRow.id)).scalars()
    borrowers = session.execute(select(UserRow.id).where(UserRow.kind == "borrower")).all()
    return _page(
        request,
        "staff_admin.html",
        session,
        status=status,
        staff=[{"user": u, "roles": sorted(accounts.roles_of(u))} for u in staff],
        borrowers=len(borrowers),
        all_roles=sorted(accounts.STAFF_ROLES),
        ack=request.session.pop("admin_ack", None),
        roles_ack=request.session.pop("roles_ack", None),
        **extra,
    )


@router.get("/staff/admin", response_class=HTMLResponse)
def admin(request: Request) -> Response:
    return _run(request, lambda session: _admin_page(request, session), "forbidden.html")


@router.post("/staff/admin/users")
def add_staff(request: Request, form: PostedForm) -> Response:

    def action(session: Session) -> Response:
        _check_csrf(request, str(form.get("csrf", "")))
        _require(request, session, "admin")
        roles = tuple(str(r) for r in form.getlist("roles") if str(r) in accounts.STAFF_ROLES)
        typed = {k: str(form.get(k, "")) for k in ("email", "name")}
        try:
            if not roles:
                raise accounts.AccountError("choose at least one role")
            with session.begin_nested():
                user = accounts.sign_up(
                    session,
                    email=typed["email"],
                    name=typed["name"],
                    password=str(form.get("password", "")),
                    kind="staff",
                    roles=roles,
                )
        except accounts.AccountError as exc:
            return _admin_page(
                request, session, status=400, error=localise(str(exc), _lang(request)), typed=typed
            )
        request.session["admin_ack"] = {"email": user.email}
        return RedirectResponse("/staff/admin", status_code=303)

    return _run(request, action, "forbidden.html")


@router.post("/staff/admin/users/{user_id}/roles")
def change_roles(request: Request, user_id: RowId, form: PostedForm) -> Response:
    """An admin sets a staff member's roles; the last admin keeps the admin role (refused on the page)."""

    def action(session: Session) -> Response:
        _check_csrf(request, str(form.get("csrf", "")))
        user = _require(request, session, "admin")
        roles = [str(r) for r in form.getlist("roles")]
        try:
            with session.begin_nested():
                done = accounts.set_roles(session, admin=user, user_id=user_id, roles=roles)
        except accounts.UnknownAccountError:
            raise
        except accounts.AccountError as exc:  # LAST_ADMIN, no role chosen: shown on the page
            return _admin_page(request, session, status=400, error=localise(str(exc), _lang(request)))
        target = session.get(UserRow, done["user_id"])
        request.session["roles_ack"] = {"email": target.email if target else ""}
        return RedirectResponse("/staff/admin", status_code=303)

    return _run(request, action, "forbidden.html")
