"""The staff risk dashboard: the book's balance and growth, approvals, DPD buckets, vintages, roll-rate heat
map, ECL by stage, stress and complaint KPIs, charts as inline SVG (no CDN), every table downloadable as CSV.
Staff only (``routes._staff``)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from xiaodai.web.routes import _lang, _page, _run, _staff, _today

router = APIRouter(include_in_schema=False)


class RiskPageError(ValueError):
    """A bad query parameter on the risk pages (shown on the page, 400)."""


def _as_of(request: Request) -> date:
    text = request.query_params.get("as_of")
    if not text:
        return _today(request)
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise RiskPageError(f"as_of {text!r} is not a date (YYYY-MM-DD)") from None


EMPTY: dict[str, Any] = {"r": None, "rt": {}, "charts": {}, "as_of": ""}


def _refuse(request: Request, message: str) -> Response:
    def action(session: Session) -> Response:
        _staff(request, session)
        return _page(request, "staff_risk.html", session, status=400, error=message, **EMPTY)

    return _run(request, action, "staff_risk.html", **EMPTY)


def _states_in_words(matrix: list[dict[str, Any]], lang: str) -> list[dict[str, Any]]:
    """The roll-rate states as a person reads them (``paid_off`` → 已结清 / paid off); buckets stay M1…"""
    from xiaodai.web.format import label
    from xiaodai.web.i18n import translator

    t = translator(lang)
    return [{**m, "from": label(t, "roll", m["from"]), "to": label(t, "roll", m["to"])} for m in matrix]


@router.get("/staff/risk", response_class=HTMLResponse)
def staff_risk(request: Request) -> Response:
    try:
        as_of = _as_of(request)
    except RiskPageError as exc:
        return _refuse(request, str(exc))

    def action(session: Session) -> Response:
        from xiaodai.risk.dashboard import dashboard
        from xiaodai.risk.report_html import TEXT, bar_chart, heat_map, labelled, line_chart

        _staff(request, session)
        data = dashboard(session, as_of=as_of, now=datetime.now(tz=UTC))
        lang = _lang(request)
        rt = {key: value[lang] for key, value in TEXT.items()}
        balance: dict[str, list[tuple[float, float]]] = {
            bucket: [(float(i), float(r[f"{bucket}_balance"])) for i, r in enumerate(data["book"], start=1)]
            for bucket in ("M0", "M1", "M2", "M3", "M4plus")
        }
        cohorts: dict[str, list[tuple[float, float]]] = {}
        for row in data["vintages"]:
            cohorts.setdefault(row["origination_month"][:7], []).append(
                (row["mob"], float(row["default_rate"]))
            )
        charts = {
            "book": line_chart(balance, percent=False),
            "approvals": bar_chart(
                [(r["month"][:7], float(r["approvals"])) for r in data["approvals"][-12:]]
            ),
            "vintages": line_chart(dict(list(cohorts.items())[-8:])),
            "roll": heat_map(_states_in_words(data["roll_rates"]["matrix"], _lang(request))),
            "ecl": bar_chart(
                [(f"{rt['stage']} {s['stage']}", float(s["ecl"])) for s in data["ecl"]["by_stage"]]
            ),
            "stress": bar_chart([(s["scenario"], float(s["total"])) for s in data["stress"]]),
        }
        charts = labelled(charts, rt)
        return _page(
            request, "staff_risk.html", session, r=data, rt=rt, charts=charts, as_of=as_of.isoformat()
        )

    return _run(request, action, "staff_risk.html", **EMPTY)


@router.get("/staff/risk/{table}.csv")
def staff_risk_csv(request: Request, table: str) -> Response:
    try:
        as_of = _as_of(request)
    except RiskPageError as exc:
        return _refuse(request, str(exc))

    def action(session: Session) -> Response:
        from xiaodai.risk.dashboard import TABLES, download

        _staff(request, session)
        if table not in TABLES:
            return Response(f"unknown table {table!r}", status_code=404, media_type="text/plain")
        return Response(
            download(session, as_of=as_of, table=table),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="risk-{table}-{as_of.isoformat()}.csv"'},
        )

    return _run(request, action, "staff_risk.html", **EMPTY)
