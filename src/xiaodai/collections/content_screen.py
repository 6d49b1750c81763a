"""Message screening for collection scripts: SMS, app push, e-mail, letters and voice, in Chinese and English.

``screen_message(text, profile=..., context=ScreenContext(...)) -> ScreenResult`` returns every violated
reason code, most serious first, and where each was found. An empty ``reasons`` tuple means the message is
clean. Pure core: no clock, no environment, no I/O beyond reading the packaged vocabulary
(``data/screen_terms.json``, ``data/zh_traditional.json``) once at import.

How a message is read:

1. **Normalise** a copy (spans in ``Match`` refer to this copy, ``ScreenResult.normalised``): Unicode NFKC
   (full-width letters, digits and punctuation become half-width), zero-width and bidi characters removed,
   curly quotes and dashes folded, traditional characters mapped to simplified, Latin lower-cased, spaces
   and separators (``* - _ . · | / \\ ~``…) between two CJK characters removed (``拘 * 留`` → ``拘留``), and
   spaced-out Latin letters joined (``j a i l`` → ``jail``).
2. **Prohibited categories** (threats, abuse, impersonation, false legal threats, disclosure threats,
   privacy exposure, borrowing pressure, extra fees, time-barred suit threats, third-party disclosure):
   literal terms (Chinese anywhere, English on word boundaries) and regex patterns, minus hits that lie
   inside an exclusion (negations such as ``不会上门``, ``you cannot be arrested``, ``no additional fee``).
3. **Required statements** (US Regulation F): the debt-collector disclosure in subsequent communications of
   a third-party collector (12 CFR 1006.18(e)(2)) and an opt-out notice in electronic messages (1006.6(e)).

Whether a category applies depends on the profile and the context (channel, who receives the message,
collector role, time-barred debt, purpose, fees disclosed in the contract); those conditions are data too.
The vocabulary file documents the policy choices (e.g. why a factual 征信 notice passes but 征信黑名单 does
not).

Speed: everything is compiled once at import. Terms go into a few character-trie regexes (one pass finds
every term); each pattern is tried only where one of its leading literals occurs (read off the pattern
itself, so the data stays plain regex). A typical SMS takes 10-40 microseconds of CPU.
"""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Iterable, Sequence

from xiaodai.collections.content_screen_types import (
    PROFILES,
    Match,
    ScreenContext,
    ScreenResult,
    ScreenTermsError,
)
from xiaodai.collections.content_screen_vocabulary import (
    REASON_CODES,
    TERMS_VERSION,
    _Bucket,
    _canon_en,
    _Category,
    _Rule,
    vocabulary,
)

# The parts live in content_screen_types, content_screen_vocabulary (the compiled terms and patterns) and
# content_screen_anchors; every public name stays importable from here.
__all__ = [
    "PROFILES",
    "REASON_CODES",
    "TERMS_VERSION",
    "Match",
    "ScreenContext",
    "ScreenResult",
    "ScreenTermsError",
    "normalise",
    "screen_message",
]


def __getattr__(name: str) -> object:
    """``_VOCAB``: the compiled vocabulary under the module constant's former name (compiled on first use)."""
    if name == "_VOCAB":
        return vocabulary()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# ------------------------------------------------------------------------------------------------- screening


def normalise(text: str) -> str:
    """The text the screen matches on (and that ``Match.span`` indexes)."""
    v = vocabulary()
    # One pass maps full-width ASCII (the common NFKC case), zero-width characters, folded punctuation and
    # traditional characters; full NFKC runs only for what remains non-normal (ligatures, circled digits...).
    s = v.needs_translate.sub(v.translate_one, text)
    if not unicodedata.is_normalized("NFKC", s):
        s = v.needs_translate.sub(v.translate_one, unicodedata.normalize("NFKC", s))
    s = s.lower()
    if v.has_cjk.search(s):
        s = v.cjk_gap.sub("", s)
    if v.latin_probe.search(s):
        s = v.latin_spaced.sub(lambda m: v.latin_sep.sub("", m.group()), s)
    return s


def _disclosed_fees(cat: _Category, contract_fees: Iterable[str]) -> tuple[frozenset[str], tuple[str, ...]]:
    groups: set[str] = set()
    names: list[str] = []
    for fee in contract_fees:
        name = _canon_en(normalise(fee))
        key = name.replace(" ", "_")
        if key in cat.fee_group_aliases:
            groups.add(key)
        elif name in cat.fee_alias_group:
            groups.add(cat.fee_alias_group[name])
        elif name:
            names.append(name)
    aliases = tuple(a for g in sorted(groups) for a in cat.fee_group_aliases[g]) + tuple(names)
    return frozenset(groups), aliases


def _fee_disclosed(
    cat: _Category,
    rule: _Rule,
    norm: str,
    span: tuple[int, int],
    disclosed: tuple[frozenset[str], tuple[str, ...]],
) -> bool:
    """Is this fee hit covered by the contract? A named fee must be disclosed by name or group; a generic
    fee pattern ("additional fee", "fee of $25") is covered when a disclosed fee name overlaps it."""
    groups, aliases = disclosed
    start, end = span
    if rule.literal:
        canon = _canon_en(norm[start:end])
        return cat.fee_alias_group.get(canon) in groups or canon in aliases
    return any(alias in _canon_en(norm[max(0, start - len(alias)) : end + len(alias)]) for alias in aliases)


def screen_message(text: str, *, profile: str, context: ScreenContext) -> ScreenResult:
    """Screen one outgoing message. ``profile`` is ``"CN"`` or ``"US_RegF"``; anything else raises."""
    v = vocabulary()
    if profile not in v.obligors:
        raise ValueError(f"unknown screening profile {profile!r} (known: {', '.join(PROFILES)})")
    key = (
        context.channel,
        context.target_type,
        context.collector_role,
        bool(context.first_communication_done),
        bool(context.time_barred),
        context.purpose,
    )
    live, buckets = _plan(profile, key)
    norm = normalise(text)
    hits: dict[int, list[tuple[_Rule, int, int]]] = {}
    for bucket in buckets:
        _collect(bucket, v.rules, norm, live=live, role=context.collector_role, hits=hits)
    reasons: list[str] = []
    matches: list[Match] = []
    for ci, cat in enumerate(v.categories):
        if not live[ci]:
            continue
        found = _confirmed(cat, hits[ci], norm, context) if ci in hits else []
        if cat.required:
            if not found:
                reasons.append(cat.code)
        elif found:
            reasons.append(cat.code)
            matches += found
    return ScreenResult(tuple(reasons), tuple(matches), norm, v.version)


@functools.lru_cache(maxsize=1024)
def _plan(
    profile: str, key: tuple[str, str, str | None, bool, bool, str | None]
) -> tuple[tuple[bool, ...], tuple[_Bucket, ...]]:
    """Which categories apply to this context, and which indexes must be scanned (memoised: pure)."""
    v = vocabulary()
    channel, target_type, collector_role, first_done, time_barred, purpose = key
    ctx = ScreenContext(channel, target_type, collector_role, first_done, time_barred, (), purpose)
    obligor = target_type.lower() in v.obligors[profile]
    live = tuple(cat.applies.holds(profile, ctx, obligor) for cat in v.categories)
    return live, tuple(b for b in v.buckets if any(live[c] for c in b.categories))


def _collect(
    bucket: _Bucket,
    rules: Sequence[_Rule],
    norm: str,
    *,
    live: Sequence[bool],
    role: str | None,
    hits: dict[int, list[tuple[_Rule, int, int]]],
) -> None:
    """Add every hit of one bucket's terms and patterns to ``hits`` (by category)."""
    matched_to: dict[int, int] = {}
    for index in (bucket.plain, bucket.words, bucket.en_terms):
        if index is None:
            continue
        exact = index is bucket.en_terms
        search, expand, pos = index.regex.search, index.expand, 0
        while (found := search(norm, pos)) is not None:
            start = pos = found.start()
            pos += 1
            key = found.group()
            if key not in expand:
                key = _canon_en(key)
            for k, idxs in expand[key]:
                for i in idxs:
                    rule = rules[i]
                    if not live[rule.category] or (role is not None and role in rule.exempt_roles):
                        continue
                    if rule.regex is None:  # a term: the index hit is the match
                        if not exact:
                            stop = start + len(k)
                        elif k == key:
                            stop = found.end()
                        else:  # a shorter English term that the longer one found here starts with
                            stop = start + _prefix_end(found.group(), k)
                        hits.setdefault(rule.category, []).append((rule, start, stop))
                        continue
                    if matched_to.get(i, -1) > start:
                        continue
                    m = rule.regex.match(norm, start)
                    if m is not None and m.end() > start:
                        matched_to[i] = m.end()
                        hits.setdefault(rule.category, []).append((rule, start, m.end()))
    for i in bucket.unanchored:
        rule = rules[i]
        if (
            live[rule.category]
            and rule.regex is not None
            and not (role is not None and role in rule.exempt_roles)
        ):
            for m in rule.regex.finditer(norm):
                if m.end() > m.start():
                    hits.setdefault(rule.category, []).append((rule, m.start(), m.end()))


def _prefix_end(raw: str, key: str) -> int:
    """Length of the part of ``raw`` (an English index hit) that spells ``key`` (a word-prefix of it)."""
    i = 0
    for ch in key:
        if ch == " ":
            while i < len(raw) and (raw[i].isspace() or raw[i] in "_-"):
                i += 1
        else:
            i += 1
    return i


def _confirmed(
    cat: _Category, hits: list[tuple[_Rule, int, int]], norm: str, ctx: ScreenContext
) -> list[Match]:
    """The hits that survive exclusions (and, for fees, the contract). A required statement needs only one."""
    if not hits:
        return []
    hits.sort(key=lambda h: (h[1], h[2]))
    spans: list[tuple[int, int]] = []
    if cat.exclusion is not None and (
        cat.exclusion_anchors is None or any(a in norm for a in cat.exclusion_anchors)
    ):
        # an exclusion must start at or before the first hit; looking back 80 characters is plenty
        spans = [m.span() for m in cat.exclusion.finditer(norm, max(0, hits[0][1] - 80))]
    fees = _disclosed_fees(cat, ctx.contract_fees) if cat.fee_group_aliases and ctx.contract_fees else None
    out: dict[tuple[str, int, int], Match] = {}
    for rule, start, end in hits:
        if any(s <= start and end <= e for s, e in spans):
            continue
        if fees is not None and _fee_disclosed(cat, rule, norm, (start, end), fees):
            continue
        out.setdefault(
            (rule.rule_id, start, end), Match(cat.code, rule.rule_id, (start, end), norm[start:end])
        )
        if cat.required:
            break
    return list(out.values())
