"""No personal data in logs (RULES.md §4: "logs carry tokens, never raw identifiers").

Every log record — from any logger, ours or a library's (SQLAlchemy parameters, uvicorn, tracebacks) — is
rewritten when it is created, its shape kept (the arguments stay a tuple of the same length: formatters
such as uvicorn's access formatter unpack them): resident ID numbers (the shape and a real birth date,
whatever the check digit: a mistyped ID number is still an identifier), bank-card numbers (Luhn-valid, or
UnionPay 62… of 16-19 digits),
mainland mobile numbers and e-mail addresses become ``[ID#1a2b3c4d]``, ``[CARD#…]``, ``[PHONE#…]``,
``[EMAIL#…]``. The token is a keyed hash under a per-process secret: the same value gives the same token
within one process (so an operator can follow it through the log) and reveals nothing.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
import traceback
from collections.abc import Mapping
from typing import Any

from xiaodai.privacy.validation import looks_like_id_number, luhn_ok

_SECRET = secrets.token_bytes(32)
ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")
CARD = re.compile(r"(?<![\d])(?:\d[ -]?){12,18}\d(?![\d])")
EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}(?![\w-])")
PHONE = re.compile(r"(?<![\d])(?:\+?86[ -]?)?1[3-9]\d(?:[ -]?\d{4}){2}(?![\d])")


def _token(kind: str, value: str) -> str:
    digest = hmac.new(_SECRET, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()[:8]
    return f"[{kind}#{digest}]"


def looks_like_card(digits: str) -> bool:
    """A Luhn-valid 13-19 digit number, or a UnionPay number (62…, 16-19 digits) whatever its check digit —
    a mistyped card number is still the borrower's card."""
    if not 13 <= len(digits) <= 19:
        return False
    return luhn_ok(digits) or (digits.startswith("62") and len(digits) >= 16)


# A necessary condition for any of the patterns above: an e-mail has an "@"; a phone number (its 11 digits
# after any +86), a card and an ID number all hold 11 digits in a row, each followed by at most one space
# or dash. Text without either (most log lines: paths, statuses, timings) is returned as it is, unscanned.
_CANDIDATE_DIGITS = re.compile(r"(?:\d[ -]?){10}\d")


def redact(text: str) -> str:
    if "@" not in text and _CANDIDATE_DIGITS.search(text) is None:
        return text
    return _redact_all(text)


def _redact_all(text: str) -> str:
    def id_sub(m: re.Match[str]) -> str:
        return _token("ID", m.group(0).upper()) if looks_like_id_number(m.group(0)) else m.group(0)

    def card_sub(m: re.Match[str]) -> str:
        digits = re.sub(r"[ -]", "", m.group(0))
        return _token("CARD", digits) if looks_like_card(digits) else m.group(0)

    def phone_sub(m: re.Match[str]) -> str:
        digits = re.sub(r"[ +-]", "", m.group(0))
        return _token("PHONE", digits[-11:])

    text = EMAIL.sub(lambda m: _token("EMAIL", m.group(0).lower()), text)
    text = ID_NUMBER.sub(id_sub, text)
    text = PHONE.sub(phone_sub, text)  # before cards: +86 and a mobile can look like a Luhn-valid card
    return CARD.sub(card_sub, text)


def _redact_value(value: Any) -> Any:
    """One log argument, redacted: left as it is (type included, so ``%d`` and formatters that unpack
    the arguments keep working) unless its text carries personal data, then replaced by the redacted text."""
    try:
        text = str(value)
    except Exception:  # an object whose __str__ fails is left to the formatter, which reports it
        return value
    redacted = redact(text)
    return value if redacted == text else redacted


def redact_args(args: Any) -> Any:
    """A record's ``args`` with each value redacted and the shape kept (tuple stays a tuple of the same
    length, a mapping stays a mapping): uvicorn's access formatter unpacks them."""
    if isinstance(args, tuple):
        return tuple(_redact_value(a) for a in args)
    if isinstance(args, Mapping):
        return {k: _redact_value(v) for k, v in args.items()}
    return args


# uvicorn's access line (``httptools_impl``/``h11_impl``): client address, method, path with query, HTTP
# version, status code
ACCESS_TEMPLATE = '%s - "%s %s HTTP/%s" %d'


def redact_record(record: logging.LogRecord) -> logging.LogRecord:
    """Redact a record in place: the template, every argument, the traceback and the stack."""
    args = record.args
    if (
        (record.msg is ACCESS_TEMPLATE or record.msg == ACCESS_TEMPLATE)
        and type(args) is tuple
        and len(args) == 5
        and not record.exc_info
        and not record.stack_info
    ):
        # an access line, once per request: only the client address and the path with its query are text
        # from outside (the method and the version are tokens httptools has checked, the status a number),
        # and nothing can form across them and the template (a space, letters or quotes stand between each
        # argument and the next), so those two are redacted and the rest left as it is
        client, method, path, version, status = args
        if isinstance(method, str) and isinstance(version, str) and isinstance(status, int):
            record.args = (_redact_value(client), method, _redact_value(path), version, status)
            return record
    try:
        original = record.getMessage()
    except Exception:  # a malformed call: the formatter reports it; still redact what we can
        original = None
    record.msg = redact(record.msg) if isinstance(record.msg, str) else record.msg
    record.args = redact_args(record.args)
    if original is not None:
        try:
            shown = record.getMessage()
        except Exception:
            shown = None
        if shown is None or redact(shown) != shown:
            # personal data formed across a template and its arguments, or a replaced argument no longer
            # fits its placeholder: keep the message redacted as a whole, with no arguments left to format
            # (a formatter that needs them, uvicorn's access formatter, never meets this case: its
            # arguments are redacted one by one above).
            record.msg, record.args = redact(original), ()
    if record.exc_info and record.exc_info[0] is not None:
        # formatters print exc_text when it is set (logging.Formatter.format): the redacted traceback
        record.exc_text = redact("".join(traceback.format_exception(*record.exc_info)).rstrip())
    if record.stack_info:
        record.stack_info = redact(record.stack_info)
    return record


def _redacting_factory(previous: Any) -> Any:
    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record: logging.LogRecord = previous(*args, **kwargs)
        return redact_record(record)

    factory.xiaodai_redacting = True  # type: ignore[attr-defined]
    return factory


def install() -> None:
    """Idempotent: wrap the log-record factory once per process."""
    current = logging.getLogRecordFactory()
    if not getattr(current, "xiaodai_redacting", False):
        logging.setLogRecordFactory(_redacting_factory(current))


def identifiers_in(text: str) -> list[str]:
    """The kinds of raw identifier a text carries (``ID``, ``CARD``, ``PHONE``, ``EMAIL``), in that order."""
    redacted = redact(text)
    kinds = ("ID", "CARD", "PHONE", "EMAIL")
    return [kind for kind in kinds if redacted.count(f"[{kind}#") > text.count(f"[{kind}#")]
