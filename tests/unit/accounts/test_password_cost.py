"""The password hasher the application uses is argon2id at its production cost (the rest of the suite
hashes at the lowest cost, see ``support/passwords.py``), and a hash made at that cost signs in."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from argon2 import Type
from argon2.profiles import RFC_9106_LOW_MEMORY
from sqlalchemy.orm import Session, sessionmaker

from support.passwords import PRODUCTION_HASHER, TEST_HASHER
from xiaodai.accounts import service as accounts


def test_the_application_hashes_passwords_with_argon2id_at_the_rfc_9106_cost() -> None:
    assert PRODUCTION_HASHER is not TEST_HASHER
    assert PRODUCTION_HASHER.type is Type.ID
    assert PRODUCTION_HASHER.time_cost >= RFC_9106_LOW_MEMORY.time_cost
    assert PRODUCTION_HASHER.memory_cost >= RFC_9106_LOW_MEMORY.memory_cost
    assert PRODUCTION_HASHER.parallelism >= RFC_9106_LOW_MEMORY.parallelism
    hasher = PRODUCTION_HASHER
    cost = f"m={hasher.memory_cost},t={hasher.time_cost},p={hasher.parallelism}"
    assert hasher.hash("correct horse 1").startswith(f"$argon2id$v=19${cost}$")


def test_a_production_cost_hash_signs_in(
    factory: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(accounts, "HASHER", PRODUCTION_HASHER)
    now = datetime(2026, 1, 10, 9, tzinfo=UTC)
    with factory() as s, s.begin():
        user = accounts.sign_up(s, email="cost@example.com", name="张三", password="correct horse 1")
        assert user.password_hash.startswith(f"$argon2id$v=19$m={PRODUCTION_HASHER.memory_cost},")
    with factory() as s, s.begin():
        right = accounts.sign_in(s, email="cost@example.com", password="correct horse 1", now=now)
        assert right.reason == "OK"
    with factory() as s, s.begin():
        wrong = accounts.sign_in(s, email="cost@example.com", password="wrong horse 1", now=now)
        assert wrong.reason == "WRONG_CREDENTIALS"
