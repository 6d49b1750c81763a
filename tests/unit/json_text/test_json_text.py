"""``xiaodai.json_text`` against the standard library: ``stored`` text reads back (with ``json.loads``) to
what ``json.dumps(..., sort_keys=True)`` text reads back to, keys sorted at every level; ``parsed`` gives
what ``json.loads`` gives, or fails where it fails."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xiaodai.json_text import parsed, stored

_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)  # beyond orjson's 64 bits too
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text()  # control characters, quotes, backslashes, surrogates' neighbours, CJK, emoji
)
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: (
        st.lists(inner, max_size=5)
        | st.tuples(inner, inner)
        | st.dictionaries(st.text(max_size=8), inner, max_size=5)
    ),
    max_leaves=40,
)


def _shown(value: Any) -> str:
    """A value as text that tells NaN, lists and key order apart (NaN is not equal to itself)."""
    return json.dumps(value, ensure_ascii=True)


def _keys_sorted(value: Any) -> bool:
    if isinstance(value, dict):
        return list(value) == sorted(value) and all(_keys_sorted(v) for v in value.values())
    if isinstance(value, list):
        return all(_keys_sorted(v) for v in value)
    return True


@settings(max_examples=300)
@given(_VALUES)
def test_stored_reads_back_as_the_standard_library_text_does(value: Any) -> None:
    text = stored(value)
    expected = json.loads(json.dumps(value, sort_keys=True, ensure_ascii=False))
    assert _shown(json.loads(text)) == _shown(expected)
    assert _shown(parsed(text)) == _shown(expected)
    assert _keys_sorted(json.loads(text))


def test_what_orjson_would_change_goes_to_the_standard_library() -> None:
    assert stored({"x": float("nan")}) == '{"x":NaN}'  # orjson would write null
    assert stored({"x": float("-inf")}) == '{"x":-Infinity}'
    assert stored({"n": 2**64}) == '{"n":18446744073709551616}'
    assert stored({"b": 1, "a": [1, "二"]}) == '{"a":[1,"二"],"b":1}'


@settings(max_examples=300)
@given(_VALUES)
def test_parsed_is_json_loads_on_standard_library_text(value: Any) -> None:
    text = json.dumps(value, ensure_ascii=False)  # NaN and Infinity tokens, big integers, any key order
    assert _shown(parsed(text)) == _shown(json.loads(text))
    assert list(parsed(text)) == list(json.loads(text)) if isinstance(value, dict) else True


@given(st.binary(max_size=40) | st.text(max_size=40))
def test_parsed_fails_where_json_loads_fails(text: bytes | str) -> None:
    try:
        expected = json.loads(text)
    except (ValueError, RecursionError) as refused:
        with pytest.raises(type(refused)):
            parsed(text)
    else:
        assert _shown(parsed(text)) == _shown(expected)
