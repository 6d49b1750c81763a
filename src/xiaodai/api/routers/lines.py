"""Credit lines: my line, draw (quote the KFS, then sign it), repay a drawdown any day, accept an increase,
re-decision; staff: grant, freeze/unfreeze, review, a borrower's line."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Request
from sqlalchemy.orm import Session

from xiaodai.accounts.service import ForbiddenError, has_role
from xiaodai.api.deps import DB, CurrentUser, RowId, Today
from xiaodai.api.one_hop import OneHopRoute
from xiaodai.api.schemas import DrawChoice, DrawSign, LineGrant, LineRedecision, LineStateChange, Repayment
from xiaodai.db.tables import UserRow
from xiaodai.lines import service as lines
from xiaodai.lines.limit import LineError, LineState
from xiaodai.money.parse import parse_amount_fen

router = APIRouter(route_class=OneHopRoute, prefix="/api/line", tags=["lines"])
staff_router = APIRouter(route_class=OneHopRoute, prefix="/api/staff", tags=["lines"])
IdempotencyKey = Annotated[str, Header(min_length=1, max_length=100)]


def _request(body: DrawChoice) -> lines.DrawRequest:
    return lines.DrawRequest(amount_fen=parse_amount_fen(body.amount), plan=body.plan, term=body.term)


@router.get("")
def my_line(session: DB, user: CurrentUser, today: Today) -> dict[str, Any]:
    """My line: limit, available (limit − outstanding principal), rate (APR first), next due, drawdowns,
    what is due this month, and every notice about a change."""
    return lines.line_view(session, user=user, today=today)


@router.post("/quote")
def quote(body: DrawChoice, session: DB, user: CurrentUser, today: Today) -> dict[str, Any]:
    """The key-facts statement of a drawdown (APR first) and the SHA-256 to sign it with; writes nothing."""
    return lines.quote_draw(session, user=user, request=_request(body), today=today)


@router.post("/drawdowns", status_code=201)
def draw(
    body: DrawSign,
    request: Request,
    session: DB,
    user: CurrentUser,
    today: Today,
    idempotency_key: IdempotencyKey,
) -> dict[str, Any]:
    """Sign the drawdown's KFS as shown (its SHA-256) and disburse it; a retried Idempotency-Key returns the
    same drawdown."""
    if body.lang not in ("zh", "en"):
        raise LineError("lang must be zh or en", "LINE_BAD_LANG")
    return lines.draw(
        session,
        user=user,
        request=_request(body),
        seen_sha256=body.kfs_sha256,
        ip=request.client.host if request.client else "unknown",
        lang=body.lang,
        today=today,
        key=idempotency_key,
        channel=request.app.state.channel,  # the payout goes out through the app's payment channel
    )


@router.post("/drawdowns/{loan_id}/repayments", status_code=201)
def repay(
    loan_id: RowId,
    body: Repayment,
    session: DB,
    user: CurrentUser,
    today: Today,
    idempotency_key: IdempotencyKey,
) -> dict[str, Any]:
    """Repay any amount today: what is due first, the rest reduces principal (interest only for the days
    used, no fee); the payoff amount settles the drawdown."""
    fen = parse_amount_fen(body.amount)
    return lines.repay_drawdown(
        session, user=user, loan_id=loan_id, amount_fen=fen, on=today, key=idempotency_key
    )


@router.post("/increase/accept")
def accept_increase(session: DB, user: CurrentUser, today: Today) -> dict[str, Any]:
    return lines.accept_increase(session, user=user, on=today)


@router.post("/redecision")
def redecision(body: LineRedecision, session: DB, user: CurrentUser, today: Today) -> dict[str, Any]:
    """Re-decision on request: a new (decided) application sets the line's limit and price."""
    return lines.redecide(session, user=user, application_id=body.application_id, on=today)


def staff_actor(user: CurrentUser) -> str:
    """The acting underwriter or admin (a dependency: refused before the body is read)."""
    if not (has_role(user, "admin") or has_role(user, "underwriter")):
        raise ForbiddenError("staff role underwriter or admin required")
    return f"user:{user.id}"


StaffActor = Annotated[str, Depends(staff_actor)]


def _borrower(session: Session, borrower_id: int) -> UserRow:
    row = session.get(UserRow, borrower_id)
    if row is None or row.kind != "borrower":
        raise lines.LineNotFoundError("borrower not found")
    return row


@staff_router.post("/lines", status_code=201)
def grant(actor: StaffActor, body: LineGrant, session: DB, today: Today) -> dict[str, Any]:
    """Grant a line from the borrower's approved application."""
    borrower = _borrower(session, body.borrower_id)
    return lines.grant_line(session, user=borrower, application_id=body.application_id, on=today, actor=actor)


@staff_router.get("/borrowers/{borrower_id}/line")
def borrower_line(actor: StaffActor, borrower_id: RowId, session: DB, today: Today) -> dict[str, Any]:
    return lines.line_of_borrower(session, borrower_id=borrower_id, today=today)


@staff_router.post("/lines/{line_id}/freeze")
def freeze(
    actor: StaffActor, line_id: RowId, body: LineStateChange, session: DB, today: Today
) -> dict[str, Any]:
    """Freeze a line (no drawdowns); the borrower gets a notice with the reason code."""
    return lines.set_state(
        session, line_id=line_id, to=LineState.FROZEN, reason=body.reason, on=today, actor=actor
    )


@staff_router.post("/lines/{line_id}/unfreeze")
def unfreeze(
    actor: StaffActor, line_id: RowId, body: LineStateChange, session: DB, today: Today
) -> dict[str, Any]:
    return lines.set_state(
        session, line_id=line_id, to=LineState.ACTIVE, reason=body.reason, on=today, actor=actor
    )


@staff_router.post("/lines/{line_id}/review")
def review(actor: StaffActor, line_id: RowId, session: DB, today: Today) -> dict[str, Any]:
    """Periodic review on behaviour and a fresh credit report (policy as data)."""
    return lines.review_line(session, line_id=line_id, on=today, actor=actor)
