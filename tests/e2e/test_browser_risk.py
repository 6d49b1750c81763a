"""The staff risk dashboard in Chromium: charts render from inline SVG with no outside request, the language
switch works, and a table's numbers download as CSV."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from xiaodai.accounts.service import sign_up
from xiaodai.db.session import make_engine, session_factory
from xiaodai.pricing.caps import default_cap_book
from xiaodai.pricing.schedule import LoanTerms, Method
from xiaodai.servicing import service

PASSWORD = "correct horse 1"


def _book(db_url: str) -> None:
    engine = make_engine(db_url)
    factory = session_factory(engine)
    with factory() as s, s.begin():
        sign_up(
            s, email="risk@example.com", name="风控", password=PASSWORD, kind="staff", roles=("collector",)
        )
    for n in range(3):
        terms = LoanTerms(
            principal=Decimal("6000"),
            term=6,
            method=Method.EQUAL_INSTALLMENT,
            annual_rate=Decimal("0.12"),
            start_on=date(2026, 1, 10),
        )
        with factory() as s, s.begin():
            loan = service.create_loan(
                s,
                terms=terms,
                product="standard",
                config=service.ServicingConfig(),
                cap_book=default_cap_book(),
            )
            service.disburse(s, loan_id=loan.id, on=terms.start_on, idempotency_key=f"risk-e2e-{n}")
    engine.dispose()


def test_risk_dashboard_in_chromium(
    browser_page: tuple[Any, Any, Any], live_server: str, db_url: str
) -> None:
    _book(db_url)
    page, log, shoot = browser_page
    page.goto("/login")
    page.fill("#email", "risk@example.com")
    page.fill("#password", PASSWORD)
    with page.expect_navigation(wait_until="load"):
        page.click("#submit")
    page.goto("/staff/risk?as_of=2026-06-30&lang=en")
    assert page.locator("#risk").is_visible()
    charts = page.locator("#risk svg")
    assert charts.count() >= 5
    box = charts.first.bounding_box()
    assert box is not None
    assert box["width"] > 300
    assert box["height"] > 100
    assert float(page.locator("#ecl-total").inner_text()) > 0
    shoot("risk-dashboard-en")
    with page.expect_download() as info:
        page.locator('a.download[href^="/staff/risk/stress.csv"]').click()
    text = Path(info.value.path()).read_text(encoding="utf-8")
    assert text.splitlines()[0].startswith("scenario,")
    assert len(text.splitlines()) == 4  # base, mild, severe
    page.goto("/staff/risk?as_of=2026-06-30&lang=zh")
    assert "预期信用损失" in page.locator("#risk").inner_text()
    assert log.external(live_server) == []
    assert log.console_errors == []
    assert log.page_errors == []
