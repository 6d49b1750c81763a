"""Card binding: validated, encrypted, masked, verified through the channel, one default, unbinding rules."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from support.payment_books import bind, borrower, card_number
from xiaodai.db.tables.payments import PaymentCardRow
from xiaodai.payments import service
from xiaodai.payments.sandbox_channel import SandboxChannel
from xiaodai.privacy.crypto import aad, decrypt
from xiaodai.privacy.keys import current_ring


def test_binding_stores_ciphertext_and_needs_the_code(factory: sessionmaker[Session]) -> None:
    channel = SandboxChannel(seed=3)
    who = borrower(factory)
    number = card_number("4321")
    with factory() as s, s.begin():
        started = service.start_binding(
            s, channel=channel, ring=current_ring(), borrower_id=who, number=number
        )
    assert started["status"] == "pending"
    assert started["default"] is False
    assert started["masked"] == number[:6] + "******" + "4321"
    with factory() as s:
        row = s.get(PaymentCardRow, started["card_id"])
        assert row is not None
        assert number not in row.number_enc
        assert number[6:12] not in row.number_enc
        assert decrypt(current_ring(), row.number_enc, aad("payment_cards", who, "number")) == number
    code = channel.code_for(started["verify_ref"])
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    with pytest.raises(service.PaymentError, match="wrong") as refused, factory() as s, s.begin():
        service.confirm_binding(s, channel=channel, card_id=started["card_id"], code=wrong)
    assert refused.value.reasons == ("CARD_CODE_WRONG",)
    with factory() as s, s.begin():
        bound = service.confirm_binding(s, channel=channel, card_id=started["card_id"], code=code)
    assert bound["status"] == "bound"
    assert bound["default"] is True
    with pytest.raises(service.PaymentError, match="nothing to verify"), factory() as s, s.begin():
        service.confirm_binding(s, channel=channel, card_id=started["card_id"], code=code)


@pytest.mark.parametrize(
    ("number", "reason"),
    [
        ("6222020000000000", "CARD_LUHN"),
        ("1234567890123452", "CARD_BIN_UNKNOWN"),
        ("62220212", "CARD_LENGTH"),
    ],
)
def test_invalid_numbers_are_refused_and_nothing_is_stored(
    factory: sessionmaker[Session], number: str, reason: str
) -> None:
    who = borrower(factory)
    with pytest.raises(service.PaymentError) as refused, factory() as s, s.begin():
        service.start_binding(
            s, channel=SandboxChannel(), ring=current_ring(), borrower_id=who, number=number
        )
    assert reason in refused.value.reasons
    with factory() as s:
        assert s.execute(select(PaymentCardRow)).first() is None


def test_one_default_card_and_switching(factory: sessionmaker[Session]) -> None:
    channel = SandboxChannel()
    who = borrower(factory)
    first = bind(factory, channel, who, card_number("1001"))
    second = bind(factory, channel, who, card_number("1002"))
    with factory() as s:
        cards = {c["card_id"]: c["default"] for c in service.list_cards(s, borrower_id=who)}
    assert cards == {first: True, second: False}
    with factory() as s, s.begin():
        service.set_default(s, card_id=second)
    with factory() as s:
        cards = {c["card_id"]: c["default"] for c in service.list_cards(s, borrower_id=who)}
    assert cards == {first: False, second: True}
    with pytest.raises(service.PaymentError, match="already bound"), factory() as s, s.begin():
        service.start_binding(
            s, channel=channel, ring=current_ring(), borrower_id=who, number=card_number("1002")
        )
    with factory() as s, s.begin():
        assert service.unbind(s, card_id=second)["status"] == "unbound"
    with pytest.raises(service.PaymentError, match="already unbound"), factory() as s, s.begin():
        service.unbind(s, card_id=second)
    with pytest.raises(service.CardNotFoundError), factory() as s, s.begin():
        service.unbind(s, card_id=999_999)
