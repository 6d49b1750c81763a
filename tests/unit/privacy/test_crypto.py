"""Field encryption: AES-GCM bound to row and field, versioned keys, blind index."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from xiaodai.privacy.crypto import (
    DecryptionError,
    KeyRing,
    KeyRingError,
    aad,
    blind_index,
    decrypt,
    encrypt,
    key_version,
)

RING = KeyRing.generate()


@given(st.text(max_size=200))
def test_round_trip_any_text(text: str) -> None:
    where = aad("personal_data", 7, "name")
    token = encrypt(RING, text, where)
    assert decrypt(RING, token, where) == text
    assert len(text) < 8 or text not in token


def test_nonce_is_fresh_each_time() -> None:
    where = aad("personal_data", 1, "phone")
    assert encrypt(RING, "13812345678", where) != encrypt(RING, "13812345678", where)


def test_ciphertext_moved_to_another_row_or_field_fails() -> None:
    token = encrypt(RING, "110101199003074514", aad("personal_data", 1, "id_number"))
    with pytest.raises(DecryptionError):
        decrypt(RING, token, aad("personal_data", 2, "id_number"))
    with pytest.raises(DecryptionError):
        decrypt(RING, token, aad("personal_data", 1, "phone"))


def test_tampered_ciphertext_fails() -> None:
    where = aad("personal_data", 1, "phone")
    token = encrypt(RING, "13812345678", where)
    flipped = token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]
    with pytest.raises(DecryptionError):
        decrypt(RING, flipped, where)


def test_rotation_keeps_old_versions_readable() -> None:
    where = aad("personal_data", 3, "address")
    old = encrypt(RING, "北京市朝阳区", where)
    staged, version = RING.with_new_version()
    rotated = staged.with_current(version)
    new = encrypt(rotated, "北京市朝阳区", where)
    assert (key_version(old), key_version(new)) == (1, 2)
    assert decrypt(rotated, old, where) == decrypt(rotated, new, where) == "北京市朝阳区"
    with pytest.raises(DecryptionError):
        decrypt(RING, new, where)  # a ring without version 2 cannot read it


def test_ring_json_round_trip_and_validation() -> None:
    assert KeyRing.from_json(RING.to_json()) == RING
    with pytest.raises(KeyRingError):
        KeyRing.from_json({"current": 2, "keys": RING.to_json()["keys"], "index_key": "x" * 43})
    with pytest.raises(KeyRingError):
        KeyRing.from_json({"keys": {}})


def test_blind_index_normalises_and_is_keyed() -> None:
    assert blind_index(RING, "phone", "+86 138-1234-5678") == blind_index(RING, "phone", "13812345678")
    assert blind_index(RING, "id_number", "11010119900307451x") == blind_index(
        RING, "id_number", "11010119900307451X"
    )
    assert blind_index(RING, "phone", "13812345678") != blind_index(
        KeyRing.generate(), "phone", "13812345678"
    )
    assert blind_index(RING, "phone", "13812345678") != blind_index(RING, "id_number", "13812345678")
