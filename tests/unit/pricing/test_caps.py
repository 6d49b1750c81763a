from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from xiaodai.pricing.caps import CapReason, LprFixing, default_cap_book, evaluate_cap
from xiaodai.pricing.fees import FeeSchedule
from xiaodai.pricing.quote import CapExceededError, build_quote
from xiaodai.pricing.schedule import LoanTerms, Method

BOOK = default_cap_book()


def test_24_nominal_annuity_passes_at_two_decimals() -> None:
    terms = LoanTerms(
        principal=Decimal("10000"),
        term=12,
        method=Method.EQUAL_INSTALLMENT,
        annual_rate=Decimal("0.24"),
        start_on=date(2026, 1, 10),
    )
    quote = build_quote(terms, cap=BOOK.profile("cn-consumer-24"), cap_book=BOOK)
    assert quote.cap is not None
    assert quote.cap.allowed
    assert quote.cap.apr_percent_checked == Decimal("24.00")
    assert quote.cap.reason is CapReason.WITHIN_CAP


def test_offer_over_cap_cannot_be_produced() -> None:
    terms = LoanTerms(
        principal=Decimal("10000"),
        term=12,
        method=Method.EQUAL_INSTALLMENT,
        annual_rate=Decimal("0.20"),
        start_on=date(2026, 1, 10),
    )
    with_fee = replace(terms, fees=FeeSchedule(upfront=Decimal("500")))
    with pytest.raises(CapExceededError) as refused:
        build_quote(with_fee, cap=BOOK.profile("cn-consumer-24"), cap_book=BOOK)
    assert refused.value.verdict.reason is CapReason.EXCEEDED
    assert not refused.value.verdict.allowed
    assert build_quote(with_fee, cap=BOOK.profile("cn-legacy-36"), cap_book=BOOK).cap is not None


def test_private_lending_uses_lpr_at_contract_date() -> None:
    profile = BOOK.profile("cn-private-4xlpr")
    verdict = evaluate_cap(profile, Decimal("12.30"), book=BOOK, contract_on=date(2024, 11, 1))
    assert verdict.lpr is not None
    assert verdict.lpr.percent == Decimal("3.10")
    assert verdict.limit_percent == Decimal("12.40")
    assert verdict.allowed
    over = evaluate_cap(profile, Decimal("12.41"), book=BOOK, contract_on=date(2024, 11, 1))
    assert over.reason is CapReason.EXCEEDED
    early = evaluate_cap(profile, Decimal("10"), book=BOOK, contract_on=date(2019, 1, 1))
    assert early.reason is CapReason.LPR_UNAVAILABLE
    assert not early.allowed


def test_stale_lpr_table_is_refused_not_guessed() -> None:
    profile = BOOK.profile("cn-private-4xlpr")
    stale = evaluate_cap(profile, Decimal("10"), book=BOOK, contract_on=date(2030, 1, 1))
    assert stale.reason is CapReason.LPR_STALE
    assert not stale.allowed
    vouched = evaluate_cap(
        profile,
        Decimal("10"),
        book=BOOK,
        contract_on=date(2030, 1, 1),
        lpr=LprFixing(date(2030, 1, 1), Decimal("2.80")),
    )
    assert vouched.allowed
    assert vouched.limit_percent == Decimal("11.20")


def test_unknown_profile() -> None:
    with pytest.raises(KeyError, match="unknown cap profile"):
        BOOK.profile("nope")
