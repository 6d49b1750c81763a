"""The logging filter: ID numbers, card numbers and phones never reach a log line, tracebacks included."""

from __future__ import annotations

import logging

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xiaodai.privacy.redaction import _redact_all, install, redact

ID_NUMBER = "11010519491231002X"
CARD = "6222021234567890128"
PHONE = "13812345678"


def test_redact_replaces_with_stable_tokens() -> None:
    text = f"user id {ID_NUMBER} card {CARD} phone +86 138-1234-5678 and {PHONE}; loan 123456 amount 902.58"
    out = redact(text)
    for secret in (ID_NUMBER, CARD, PHONE, "138-1234-5678"):
        assert secret not in out
    assert "loan 123456 amount 902.58" in out
    assert out.count("[PHONE#") == 2
    tokens = [t for t in out.split() if t.startswith("[PHONE#")]
    assert tokens[0].rstrip(";") == tokens[1].rstrip(";")  # same number, same token


def test_a_mistyped_id_number_is_still_an_identifier() -> None:
    assert "[ID#" in redact("id 110105194912310021")  # wrong check digit, real birth date
    assert "[ID#" in redact("id 110101199003071234")
    assert redact("id 110101199013071234") == "id 110101199013071234"  # month 13: not a birth date


def test_a_mistyped_unionpay_card_is_still_a_card() -> None:
    assert "[CARD#" in redact("card 6222020200112233445 declined")  # 62…, 19 digits, Luhn fails
    assert "[CARD#" in redact("card 6222021234567890")  # 16 digits
    assert redact("ref 622202123456789") == "ref 622202123456789"  # 15 digits, not Luhn-valid: not a card
    assert redact("order 4111111111111112") == "order 4111111111111112"  # not UnionPay and fails Luhn


def test_non_matching_numbers_survive() -> None:
    assert redact("202611291234560001") == "202611291234560001"  # no birth date in it: not an ID number
    assert redact("010105194912310021") == "010105194912310021"  # no region starts with 0
    assert redact("4111111111111112") == "4111111111111112"  # fails Luhn
    assert redact("2026-11-29 12:00:00") == "2026-11-29 12:00:00"


def test_installed_factory_redacts_messages_args_and_tracebacks(caplog: pytest.LogCaptureFixture) -> None:
    install()
    install()  # idempotent
    log = logging.getLogger("xiaodai.test.redaction")
    with caplog.at_level(logging.INFO):
        log.info("lookup for %s with card %s", PHONE, CARD)
        try:
            raise ValueError(f"bad id {ID_NUMBER}")
        except ValueError:
            log.exception("failed")
    text = caplog.text + "".join(r.exc_text or "" for r in caplog.records)
    for secret in (ID_NUMBER, CARD, PHONE):
        assert secret not in text
    assert "[PHONE#" in text
    assert "[ID#" in text


def test_arguments_keep_their_shape_for_formatters_that_unpack_them() -> None:
    """uvicorn's access formatter unpacks five arguments and int()s the status: the record factory must
    leave a tuple of five, with the status still a number, and the path redacted."""
    from uvicorn.logging import AccessFormatter

    install()
    record = logging.getLogger("uvicorn.access").makeRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "GET", f"/api/x?phone={PHONE}", "1.1", 200),
        None,
    )
    assert isinstance(record.args, tuple)
    assert len(record.args) == 5
    assert record.args[4] == 200
    line = AccessFormatter('%(client_addr)s - "%(request_line)s" %(status_code)s').format(record)
    assert PHONE not in line
    assert "[PHONE#" in line
    assert "200" in line


def test_personal_data_formed_across_template_and_argument_is_redacted() -> None:
    install()
    log = logging.getLogger("x")
    record = log.makeRecord("x", logging.INFO, __file__, 1, "call 138%s", ("12345678",), None)
    assert PHONE not in record.getMessage()
    assert "[PHONE#" in record.getMessage()


# The quick pre-check in ``redact`` (no "@" and no 11-digit run: returned unscanned) must never skip a text
# that the full scan would change.
_ALPHABET = "0123456789０１２ -+@.xX_abc:/\\n"
_PIECES = [ID_NUMBER, CARD, PHONE, "+86 138-1234-5678", "138 1234 5678", "a.b+c@x.cn", "6222 0212 3456 7890"]


@given(st.lists(st.one_of(st.text(alphabet=_ALPHABET, max_size=40), st.sampled_from(_PIECES)), max_size=6))
@settings(max_examples=400, deadline=None)
def test_the_quick_pre_check_never_skips_what_the_full_scan_redacts(parts: list[str]) -> None:
    text = "".join(parts)
    assert redact(text) == _redact_all(text)


def test_the_quick_pre_check_returns_plain_lines_unchanged() -> None:
    line = '127.0.0.1:60922 - "GET /api/loans/12345?page=2 HTTP/1.1" 200'
    assert redact(line) is line


_CLIENT = st.one_of(
    st.sampled_from(["127.0.0.1:5000", "[::1]:61000", "10.0.0.9:0"]), st.text(_ALPHABET, max_size=20)
)
_METHOD = st.sampled_from(["GET", "POST", "PUT", "DELETE", "OPTIONS"])


@given(
    _CLIENT,
    _METHOD,
    st.lists(st.one_of(st.text(alphabet=_ALPHABET, max_size=30), st.sampled_from(_PIECES)), max_size=4),
    st.sampled_from(["1.0", "1.1", "2"]),
    st.sampled_from([200, 201, 404, 500]),
)
@settings(max_examples=400, deadline=None)
def test_an_access_line_redacted_argument_by_argument_is_the_whole_line_redacted(
    client: str, method: str, parts: list[str], version: str, status: int
) -> None:
    """The access line's short way (only the client and the path redacted, no look at the whole line) shows
    exactly what redacting the whole line shows: nothing forms across the arguments and the template."""
    install()
    path = "/" + "".join(parts)
    args = (client, method, path, version, status)
    template = '%s - "%s %s HTTP/%s" %d'
    record = logging.getLogger("uvicorn.access").makeRecord(
        "uvicorn.access", logging.INFO, __file__, 1, template, args, None
    )
    assert isinstance(record.args, tuple)
    assert len(record.args) == 5
    assert record.getMessage() == redact(template % args)
