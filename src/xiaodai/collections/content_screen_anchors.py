"""Which literal strings must every match of a regex pattern begin with: lets the screen try a pattern only
where one of its leading literals occurs, while the vocabulary data stays plain regex."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from xiaodai.collections.content_screen_types import ScreenTermsError

# A tiny reader of the start of a pattern: which literal strings must a match begin with?
_META: Final = frozenset(".^$*+?{}[]()|\\")


def _group_end(rx: str, i: int) -> int:
    """Index of the ``)`` closing the group opened at ``rx[i]``."""
    depth, j, in_class = 0, i, False
    while j < len(rx):
        c = rx[j]
        if c == "\\":
            j += 2
            continue
        if in_class:
            in_class = c != "]"
        elif c == "[":
            in_class = True
            if rx[j + 1 : j + 2] == "]":
                j += 1
        elif c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0:
                return j
        j += 1
    raise ScreenTermsError(f"unbalanced pattern {rx!r}")


def _split_alternatives(body: str) -> list[str]:
    out, depth, start, j, in_class = [], 0, 0, 0, False
    while j < len(body):
        c = body[j]
        if c == "\\":
            j += 2
            continue
        if in_class:
            in_class = c != "]"
        elif c == "[":
            in_class = True
        elif c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
        elif c == "|" and depth == 0:
            out.append(body[start:j])
            start = j + 1
        j += 1
    out.append(body[start:])
    return out


def _literal_run(rx: str) -> str:
    """The literal characters every match of ``rx`` starts with (possibly empty)."""
    if rx.startswith("\\b"):
        rx = rx[2:]
    run: list[str] = []
    j = 0
    while j < len(rx):
        c = rx[j]
        if c == "\\":
            nxt = rx[j + 1 : j + 2]
            if not nxt or nxt.isalnum():
                break
            ch, width = nxt, 2
        elif c in _META:
            break
        else:
            ch, width = c, 1
        quant = rx[j + width : j + width + 1]
        if quant in ("?", "*", "{"):
            break
        run.append(ch)
        j += width
        if quant == "+":
            break
    return "".join(run)


def pattern_anchors(rx: str) -> tuple[frozenset[str], bool] | None:
    """``(anchors, at_word_start)`` for a pattern, or ``None`` when no literal start can be read off."""
    alternatives = _split_alternatives(rx)
    if len(alternatives) > 1:
        found = [pattern_anchors(alt) for alt in alternatives]
        if any(f is None for f in found):
            return None
        return frozenset().union(*(f[0] for f in found if f)), all(f[1] for f in found if f)
    i, word = 0, False
    while True:
        if rx.startswith("\\b", i):
            word, i = True, i + 2
        elif rx.startswith(("(?<!", "(?<=", "(?=", "(?!"), i):
            i = _group_end(rx, i) + 1
        else:
            break
    if rx.startswith("(", i):
        j = _group_end(rx, i)
        if rx[j + 1 : j + 2] in ("?", "*", "{"):
            return None
        body = rx[i + 1 : j]
        if body.startswith("?:"):
            body = body[2:]
        elif body.startswith("?"):
            return None
        runs = {_literal_run(alt) for alt in _split_alternatives(body)}
    else:
        runs = {_literal_run(rx[i:])}
    return None if "" in runs else (frozenset(runs), word)


def literal_anchors_of_exclusions(patterns: Sequence[str]) -> tuple[str, ...] | None:
    """Literals one of which any exclusion hit contains (a cheap pre-test), or ``None`` if unknown."""
    out: set[str] = set()
    for rx in patterns:
        found = pattern_anchors(rx)
        if found is None:
            return None
        out |= found[0]
    return tuple(sorted(out))
