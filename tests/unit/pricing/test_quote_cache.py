"""``build_quote`` remembers the schedule and rates of terms it has priced: a remembered quote is the quote
it would compute, and terms that differ in anything — even only in how a rate is written — never share one."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from xiaodai.pricing import quote as quotes
from xiaodai.pricing.caps import default_cap_book
from xiaodai.pricing.fees import FeeSchedule
from xiaodai.pricing.schedule import LoanTerms, Method


def terms(**changes: object) -> LoanTerms:
    base: dict[str, object] = {
        "principal": Decimal("8000"),
        "term": 12,
        "method": Method.EQUAL_INSTALLMENT,
        "annual_rate": Decimal("0.18"),
        "start_on": date(2026, 6, 1),
    }
    base.update(changes)
    return LoanTerms(**base)  # type: ignore[arg-type]


def test_a_remembered_quote_is_the_computed_one() -> None:
    book = default_cap_book()
    cap = book.profile("cn-consumer-24")
    quotes._priced.cache_clear()
    fresh = quotes.quote_to_json(quotes.build_quote(terms(), cap=cap, cap_book=book))
    hits = quotes._priced.cache_info().hits
    again = quotes.quote_to_json(quotes.build_quote(terms(), cap=cap, cap_book=book))
    assert quotes._priced.cache_info().hits == hits + 1
    assert again == fresh


def test_terms_that_differ_do_not_share_a_quote() -> None:
    book = default_cap_book()
    cap = book.profile("cn-consumer-24")
    base = quotes.build_quote(terms(), cap=cap, cap_book=book)
    for changed in (
        terms(start_on=date(2026, 6, 2)),
        terms(principal=Decimal("8000.01")),
        terms(term=11),
        terms(annual_rate=Decimal("0.1801")),
        terms(method=Method.EQUAL_PRINCIPAL),
        terms(fees=FeeSchedule(upfront=Decimal("100"))),
        terms(first_due_on=date(2026, 7, 5)),
    ):
        other = quotes.build_quote(changed, cap=cap, cap_book=book)
        assert other.terms == changed
        assert quotes.quote_to_json(other) != quotes.quote_to_json(base)
    # equal values written differently are equal terms, but the quote carries them as written
    written = quotes.build_quote(terms(annual_rate=Decimal("0.180")), cap=cap, cap_book=book)
    assert quotes.quote_to_json(written)["annual_rate"] == "0.180"
    assert quotes.quote_to_json(base)["annual_rate"] == "0.18"


def test_the_cap_is_checked_on_every_call() -> None:
    book = default_cap_book()
    quotes.build_quote(terms(annual_rate=Decimal("0.30")))  # no cap: priced and remembered
    with pytest.raises(quotes.CapExceededError) as refused:
        quotes.build_quote(
            terms(annual_rate=Decimal("0.30")), cap=book.profile("cn-consumer-24"), cap_book=book
        )
    assert refused.value.apr_percent > 24
