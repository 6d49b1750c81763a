"""Masking formats (RULES.md §4) and the checks on typed-in personal data."""

from __future__ import annotations

import pytest

from xiaodai.privacy.masking import mask_address, mask_bank_card, mask_id_number, mask_name, mask_phone
from xiaodai.privacy.validation import (
    PersonalDataError,
    clean_profile,
    id_check_digit,
    valid_bank_card,
    valid_id_number,
    valid_mobile,
)


def test_masks_match_the_rules() -> None:
    assert mask_id_number("110101199003074514") == "1101**********4514"
    assert len(mask_id_number("110101199003074514")) == 18
    assert mask_bank_card("6222021234567890123") == "622202*********0123"
    assert mask_phone("13812345678") == "138****5678"
    assert mask_phone("+86 138 1234 5678") == "138****5678"
    assert mask_name("张三丰") == "张**"
    assert mask_name("Jane Doe") == "J*** D**"
    assert mask_address("北京市朝阳区建国路88号") == "北京市朝阳区****"
    assert mask_phone("123") == "***"


def test_id_number_check_digit() -> None:
    assert id_check_digit("11010519491231002") == "X"  # GB 11643-1999 worked example
    assert valid_id_number("11010519491231002X")
    assert valid_id_number("11010519491231002x")
    assert not valid_id_number("110105194912310021")
    assert not valid_id_number("11010519491331002X")  # month 13 (and a wrong check digit)


def test_phone_and_card() -> None:
    assert valid_mobile("13812345678")
    assert valid_mobile("+86 13812345678")
    assert not valid_mobile("12812345678")
    assert valid_bank_card("4111 1111 1111 1111")
    assert not valid_bank_card("4111111111111112")


def test_clean_profile_normalises() -> None:
    out = clean_profile(
        {
            "name": " 张三 ",
            "id_number": "11010519491231002x",
            "phone": "+86 138 1234 5678",
            "bank_card": "4111 1111 1111 1111",
            "emergency_contacts": [{"name": "李四", "relation": "friend", "phone": "13900001111"}],
        }
    )
    assert out["name"] == "张三"
    assert out["id_number"] == "11010519491231002X"
    assert out["phone"] == "13812345678"
    assert out["bank_card"] == "4111111111111111"


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ({"contacts_source": "address_book", "emergency_contacts": []}, "CONTACTS_HARVEST"),
        (
            {"emergency_contacts": [{"name": "a", "relation": "friend", "phone": "13900001111"}] * 4},
            "CONTACTS_HARVEST",
        ),
        (
            {
                "emergency_contacts": [
                    {"name": "a", "relation": "friend", "phone": "13900001111", "source": "contacts"}
                ]
            },
            "CONTACTS_HARVEST",
        ),
        (
            {"emergency_contacts": [{"name": "a", "relation": "boss", "phone": "13900001111"}]},
            "CONTACTS_INVALID",
        ),
        ({"id_number": "110105194912310021"}, "ID_NUMBER_INVALID"),
        ({"phone": "12345"}, "PHONE_INVALID"),
        ({"bank_card": "4111111111111112"}, "BANK_CARD_INVALID"),
        ({"salary": 1}, "UNKNOWN_FIELD"),
    ],
)
def test_bad_profiles_are_refused_with_a_code(raw: dict[str, object], code: str) -> None:
    with pytest.raises(PersonalDataError) as err:
        clean_profile(raw)
    assert err.value.code == code
