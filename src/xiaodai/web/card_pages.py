"""The borrower's bank cards page (绑卡): bind with the code the bank sends, see cards masked, choose the
default, unbind. It mirrors ``api/routers/payments.py``; every rule lives in ``payments.service``.
Refusals are shown by their reason codes, translated (``i18n_payments``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from xiaodai.accounts import service as accounts
from xiaodai.db.tables import UserRow
from xiaodai.db.tables.payments import PaymentCardRow
from xiaodai.payments import service
from xiaodai.payments.sandbox_channel import SandboxChannel
from xiaodai.privacy.keys import current_ring
from xiaodai.web.i18n import translator
from xiaodai.web.routes import _check_csrf, _lang, _login_required, _page, _run

router = APIRouter(include_in_schema=False)
CardId = Annotated[int, Path(ge=1, le=2**63 - 1)]


def _borrower(request: Request, session: Session) -> UserRow:
    user = _login_required(request, session)
    if user.kind != "borrower":
        raise accounts.ForbiddenError(code="BORROWERS_ONLY")
    return user


def _own(session: Session, user: UserRow, card_id: int) -> None:
    owner = session.execute(select(PaymentCardRow.borrower_id).where(PaymentCardRow.id == card_id)).scalar()
    if owner != user.id:
        raise service.CardNotFoundError(f"card {card_id} does not exist", ["CARD_UNKNOWN"])


def _reasons(request: Request, exc: service.PaymentError) -> str:
    t = translator(_lang(request))
    return "；".join(t.get(f"card_reason_{code}", code) for code in exc.reasons) or str(exc)


def _cards_page(request: Request, session: Session, user: UserRow, **context: Any) -> Response:
    cards = [c for c in service.list_cards(session, borrower_id=user.id) if c["status"] != "unbound"]
    return _page(request, "cards.html", session, cards=cards, **context)


def _act(request: Request, work: Callable[[Session, UserRow], Response]) -> Response:
    def action(session: Session) -> Response:
        user = _borrower(request, session)
        try:
            with session.begin_nested():
                return work(session, user)
        except service.PaymentError as exc:
            status = exc.status if exc.status in (404, 409) else 400
            response = _cards_page(request, session, user, error=_reasons(request, exc))
            response.status_code = status
            return response

    return _run(request, action, "cards.html", cards=[])


@router.get("/me/cards", response_class=HTMLResponse)
def cards(request: Request) -> Response:
    def work(session: Session, user: UserRow) -> Response:
        ack = request.session.pop("card_ack", None)
        return _cards_page(request, session, user, ack=ack)

    return _act(request, work)


@router.post("/me/cards")
def start(request: Request, number: str = Form(""), csrf: str = Form("")) -> Response:
    """Validate and store the number; the channel sends a code; the page asks for it."""

    def work(session: Session, user: UserRow) -> Response:
        _check_csrf(request, csrf)
        channel = request.app.state.channel
        started = service.start_binding(
            session, channel=channel, ring=current_ring(), borrower_id=user.id, number=number[:40]
        )
        hint = channel.code_for(started["verify_ref"]) if isinstance(channel, SandboxChannel) else None
        return _cards_page(request, session, user, verifying=started, sandbox_code=hint)

    return _act(request, work)


@router.post("/me/cards/{card_id}/confirm")
def confirm(request: Request, card_id: CardId, code: str = Form(""), csrf: str = Form("")) -> Response:
    def work(session: Session, user: UserRow) -> Response:
        _check_csrf(request, csrf)
        _own(session, user, card_id)
        service.confirm_binding(session, channel=request.app.state.channel, card_id=card_id, code=code[:12])
        request.session["card_ack"] = "bound"
        return RedirectResponse("/me/cards", status_code=303)

    return _act(request, work)


@router.post("/me/cards/{card_id}/default")
def make_default(request: Request, card_id: CardId, csrf: str = Form("")) -> Response:
    def work(session: Session, user: UserRow) -> Response:
        _check_csrf(request, csrf)
        _own(session, user, card_id)
        service.set_default(session, card_id=card_id)
        request.session["card_ack"] = "default"
        return RedirectResponse("/me/cards", status_code=303)

    return _act(request, work)


@router.post("/me/cards/{card_id}/unbind")
def unbind(request: Request, card_id: CardId, csrf: str = Form("")) -> Response:
    def work(session: Session, user: UserRow) -> Response:
        _check_csrf(request, csrf)
        _own(session, user, card_id)
        service.unbind(session, card_id=card_id)
        request.session["card_ack"] = "unbound"
        return RedirectResponse("/me/cards", status_code=303)

    return _act(request, work)
