"""The demo's cast (pure): deterministic, every state a person can point at, customers in proportion."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from xiaodai.demo.cast import background, customers_for, overdue_start, stories
from xiaodai.money.dates import add_months

TODAY = date(2026, 12, 5)


@pytest.mark.parametrize(
    ("loans", "customers"), [(0, 1), (1, 1), (5, 1), (6, 2), (150, 30), (151, 30), (1000, 30)]
)
def test_customers_in_proportion_to_background_loans(loans: int, customers: int) -> None:
    assert customers_for(loans) == customers


def test_background_is_deterministic_and_within_ten_months() -> None:
    first, again = background(TODAY, 40), background(TODAY, 40)
    assert first == again
    assert all(TODAY - timedelta(days=300) <= s.start_on <= TODAY - timedelta(days=3) for s in first)
    assert {s.email for s in first} == {f"customer{n:02d}@xiaodai.demo" for n in range(8)}
    assert len({s.key for s in first}) == 40


@pytest.mark.parametrize(("dpd", "paid"), [(12, 2), (44, 2), (75, 1), (130, 1), (230, 1)])
def test_overdue_start_puts_the_first_missed_due_date_dpd_days_back(dpd: int, paid: int) -> None:
    start = overdue_start(TODAY, dpd=dpd, paid=paid)
    assert add_months(start, paid + 1) == TODAY - timedelta(days=dpd)


def test_the_stories_cover_every_state_and_outcome() -> None:
    cast = stories(TODAY)
    assert len({s.key for s in cast}) == len(cast)
    tags = {t for s in cast for t in s.tags}
    wanted = {
        "current",
        "repaid_early",
        "settled",
        "M1",
        "M2",
        "M3",
        "M4+",
        "hardship",
        "written_off",
        "write_off_pending",
        "cooling_off",
        "declined",
        "referred",
        "approved",
        "fees",
    }
    assert wanted <= tags
    demo = [s for s in cast if s.email == "borrower@xiaodai.demo"]
    assert {s.product for s in demo} == {"everyday", "standard"}
    assert all(s.start_on < TODAY for s in cast)
