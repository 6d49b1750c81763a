"""Documents a borrower downloads, over the API as on the portal: a loan's statement (PDF)."""

from __future__ import annotations

from fastapi import APIRouter, Query, Response

from xiaodai.api.deps import DB, CurrentUser, RowId, Today
from xiaodai.api.one_hop import OneHopRoute
from xiaodai.journey import service as journey

router = APIRouter(route_class=OneHopRoute, prefix="/api/loans", tags=["journey"])


@router.get(
    "/{loan_id}/statement.pdf",
    response_class=Response,
    responses={
        200: {
            "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
            "description": "the statement, as a PDF",
        }
    },
)
def statement(
    loan_id: RowId,
    session: DB,
    user: CurrentUser,
    today: Today,
    lang: str = Query("zh", pattern="^(zh|en)$"),
) -> Response:
    """The loan's statement as of today (schedule, payments, balances), in Chinese or English."""
    from xiaodai.documents.render import render_statement_pdf

    detail = journey.loan_detail(session, user=user, loan_id=loan_id, today=today)
    pdf = render_statement_pdf(
        {
            "loan": detail,
            "kfs_sha256": detail["disclosure"]["sha256"],
            "generated_on": today.isoformat(),
            "borrower_name": user.name,
        },
        lang,
    )
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="statement-{loan_id}.pdf"'},
    )
