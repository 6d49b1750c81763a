"""JSON text for records the platform stores and reads back on a busy path (a credit decision's feature
record, written and read on every application), with orjson where it gives the same values and the standard
library where it would not.

- ``stored(value)``: the text of a record to store: keys sorted, non-ASCII kept (as ``json.dumps(value,
  sort_keys=True, ensure_ascii=False)``) but compact (no spaces after ``,`` and ``:``). Whatever orjson cannot
  write exactly as the standard library would read it back — a non-finite float (orjson writes ``null``,
  ``json`` writes ``NaN``), an integer beyond 64 bits, a key that is not a string, a type orjson does not
  know — goes to ``json.dumps`` with the same options, so the value read back is the same either way.
- ``parsed(text)``: ``json.loads(text)``, by orjson when it accepts the text (standard JSON: the same values,
  keys in the same order); otherwise (``NaN``/``Infinity`` tokens written by ``json.dumps``) and whenever the
  text holds 19 digits in a row (an integer that may lie beyond 64 bits, which orjson reads as a float) by
  ``json.loads``.

``tests/test_json_text.py`` checks both against the standard library on generated values.
"""

from __future__ import annotations

import json
from typing import Any

import orjson

_SORTED = orjson.OPT_SORT_KEYS
# 19 digits in a row: where an integer may leave orjson's 64 bits (-9223372036854775809 is read as a float);
# digits inside a string (a card number) only send the text to the standard library. Found by mapping every
# ASCII digit to "9" and every other byte to " " and looking for nineteen 9s (two C passes: a regular
# expression for the same took ~14 times as long on a 4 KB record)
_DIGITS_AS_NINES = bytes(ord("9") if chr(byte).isdigit() and byte < 128 else ord(" ") for byte in range(256))
_LONG_DIGITS = b"9" * 19


def stored(value: Any) -> str:
    """``value`` as stored JSON text (keys sorted, compact, UTF-8 characters as they are)."""
    try:
        text = orjson.dumps(value, option=_SORTED)
    except TypeError:  # orjson.JSONEncodeError: an integer beyond 64 bits, a non-string key, another type
        pass
    else:
        # read back equal: no NaN or infinity written as null (NaN is not equal even to itself), no tuple
        # written as a list; a dict comparison in C, a fraction of the standard library's encoding
        if orjson.loads(text) == value:
            return text.decode()
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def parsed(text: str | bytes) -> Any:
    """``json.loads(text)``."""
    raw = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text
    if _LONG_DIGITS in raw.translate(_DIGITS_AS_NINES):
        return json.loads(text)  # perhaps an integer beyond 64 bits: orjson would read it as a float
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)
