"""An unhandled error's reference is never one the log's redaction would mask: the reference a user quotes
must be the one in the log line (``errors.error_reference``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from xiaodai.api import errors
from xiaodai.privacy.redaction import redact


def test_a_reference_shaped_like_a_phone_number_is_drawn_again(monkeypatch: pytest.MonkeyPatch) -> None:
    drawn: Iterator[str] = iter(["a13812345678bcde", "4111111111111111", "6017db6ab8084a81"])
    assert redact("a13812345678bcde") != "a13812345678bcde"  # what the log line would have shown
    assert redact("4111111111111111") != "4111111111111111"
    monkeypatch.setattr(errors.secrets, "token_hex", lambda _n: next(drawn))
    assert errors.error_reference() == "6017db6ab8084a81"


def test_references_are_16_hex_digits_that_the_redaction_leaves_alone() -> None:
    for _ in range(5000):  # ~5 of these would be masked without the check
        reference = errors.error_reference()
        assert len(reference) == 16
        assert int(reference, 16) >= 0
        assert redact(reference) == reference
