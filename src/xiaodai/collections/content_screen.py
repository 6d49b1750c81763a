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
import json
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any, Final

PROFILES: Final[tuple[str, ...]] = ("CN", "US_RegF")

_CJK: Final = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ffff"
_EN_GAP: Final = r"[\s_\-]+"


class ScreenTermsError(ValueError):
    """The packaged screening vocabulary is malformed (a broken invariant, not a screening outcome)."""


@dataclass(frozen=True, slots=True)
class ScreenContext:
    """Who receives the message, how, and from whom. Flags not set are false / empty."""

    channel: str
    target_type: str = "borrower"
    collector_role: str | None = None
    first_communication_done: bool = False
    time_barred: bool = False
    contract_fees: tuple[str, ...] = ()
    purpose: str | None = None


@dataclass(frozen=True, slots=True)
class Match:
    """One hit: the reason code, the rule that fired (``zh:<term>``, ``en:<term>`` or ``pattern:<id>``) and
    its half-open span ``[start, end)`` in the normalised text."""

    category: str
    rule: str
    span: tuple[int, int]
    text: str


@dataclass(frozen=True, slots=True)
class ScreenResult:
    """Every violated reason (most serious first) and the hits behind the prohibited ones. Missing
    statements (``MISSING_*``) have no hit to point at, so they appear in ``reasons`` only."""

    reasons: tuple[str, ...]
    matches: tuple[Match, ...]
    normalised: str
    version: str

    @property
    def clean(self) -> bool:
        return not self.reasons

    @property
    def primary_reason(self) -> str | None:
        return self.reasons[0] if self.reasons else None


# ------------------------------------------------------------------------------------ compiled vocabulary


@dataclass(frozen=True, slots=True)
class _Applies:
    profiles: frozenset[str] | None
    channels: frozenset[str] | None
    targets: str
    collector_roles: frozenset[str] | None
    time_barred: bool | None
    first_communication_done: bool | None
    exempt_purposes: frozenset[str]

    def holds(self, profile: str, ctx: ScreenContext, obligor: bool) -> bool:
        if self.profiles is not None and profile not in self.profiles:
            return False
        if self.channels is not None and ctx.channel.lower() not in self.channels:
            return False
        if (self.targets == "obligor" and not obligor) or (self.targets == "third_party" and obligor):
            return False
        if self.collector_roles is not None and ctx.collector_role not in self.collector_roles:
            return False
        if self.time_barred is not None and bool(ctx.time_barred) != self.time_barred:
            return False
        if self.first_communication_done is not None and (
            bool(ctx.first_communication_done) != self.first_communication_done
        ):
            return False
        return ctx.purpose is None or ctx.purpose not in self.exempt_purposes


@dataclass(frozen=True, slots=True)
class _Category:
    code: str
    required: bool
    applies: _Applies
    exclusion: re.Pattern[str] | None
    exclusion_anchors: tuple[str, ...] | None
    fee_alias_group: Mapping[str, str]
    fee_group_aliases: Mapping[str, tuple[str, ...]]


@dataclass(frozen=True, slots=True)
class _Rule:
    """One term or pattern of one category. ``regex`` (patterns, and Chinese terms with a Latin end such as
    ``p图``) is matched AT a candidate position; plain Chinese and English terms are exact index hits."""

    category: int
    rule_id: str
    exempt_roles: frozenset[str]
    regex: re.Pattern[str] | None
    literal: bool


@dataclass(frozen=True, slots=True)
class _Index:
    """Literal keys (terms or pattern anchors) found in one pass: the regex finds the longest key at each
    start position; ``expand`` adds the shorter keys that start there too."""

    regex: re.Pattern[str]
    expand: Mapping[str, tuple[tuple[str, tuple[int, ...]], ...]]


@dataclass(frozen=True, slots=True)
class _Bucket:
    """The indexes of a group of categories. Categories share one bucket unless the vocabulary marks one
    ``separate_index`` (third-party disclosure: everyday debt words, scanned only for third parties)."""

    categories: frozenset[int]
    plain: _Index | None
    en_terms: _Index | None
    words: _Index | None
    unanchored: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class _Vocabulary:
    version: str
    categories: tuple[_Category, ...]
    rules: tuple[_Rule, ...]
    buckets: tuple[_Bucket, ...]
    obligors: Mapping[str, frozenset[str]]
    translate: Mapping[str, str]
    needs_translate: re.Pattern[str]
    has_cjk: re.Pattern[str]
    cjk_gap: re.Pattern[str]
    latin_probe: re.Pattern[str]
    latin_spaced: re.Pattern[str]
    latin_sep: re.Pattern[str]

    def translate_one(self, m: re.Match[str]) -> str:
        return self.translate[m.group()]


_EN_GAP_RX: Final = re.compile(_EN_GAP)


def _canon_en(term: str) -> str:
    """English terms compare with every run of spaces, hyphens and underscores as one space."""
    return _EN_GAP_RX.sub(" ", term.strip().lower())


def _latin_edge(ch: str) -> bool:
    return ch.isascii() and ch.isalnum()


def _trie_regex(words: Iterable[str], *, space: str | None = None) -> str:
    """A regex matching any of ``words``, as a character trie (longest alternative first)."""
    root: dict[str, Any] = {}
    for word in words:
        node = root
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = {}

    def emit(node: Mapping[str, Any]) -> str:
        branches = [
            (space if space is not None and ch == " " else re.escape(ch)) + emit(child)
            for ch, child in sorted(node.items())
            if ch
        ]
        if not branches:
            return ""
        if "" in node:
            return "(?:" + "|".join(branches) + ")?"
        return branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"

    return emit(root)


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


def _anchors(rx: str) -> tuple[frozenset[str], bool] | None:
    """``(anchors, at_word_start)`` for a pattern, or ``None`` when no literal start can be read off."""
    alternatives = _split_alternatives(rx)
    if len(alternatives) > 1:
        found = [_anchors(alt) for alt in alternatives]
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


def _exclusion_anchors(patterns: Sequence[str]) -> tuple[str, ...] | None:
    """Literals one of which any exclusion hit contains (a cheap pre-test), or ``None`` if unknown."""
    out: set[str] = set()
    for rx in patterns:
        found = _anchors(rx)
        if found is None:
            return None
        out |= found[0]
    return tuple(sorted(out))


def _index(keys: Mapping[str, Sequence[int]], *, en: bool, word: bool, terms: bool) -> _Index | None:
    if not keys:
        return None
    body = _trie_regex(keys, space=_EN_GAP if en and terms else None)
    pattern = ("\\b" if word else "") + "(?:" + body + ")" + ("(?![a-z0-9])" if en and terms else "")
    expand: dict[str, tuple[tuple[str, tuple[int, ...]], ...]] = {}
    for key in keys:
        shorter = [
            k
            for k in keys
            if key.startswith(k) and (not (en and terms) or len(k) == len(key) or not key[len(k)].isalnum())
        ]
        expand[key] = tuple((k, tuple(keys[k])) for k in sorted(shorter, key=len, reverse=True))
    return _Index(re.compile(pattern, re.ASCII if en else 0), expand)


class _BucketBuilder:
    def __init__(self) -> None:
        self.categories: set[int] = set()
        self.plain: dict[str, list[int]] = {}  # Chinese terms and anchors that may start anywhere
        self.en_terms: dict[str, list[int]] = {}  # English terms (canonical spacing), whole words
        self.words: dict[str, list[int]] = {}  # anchors of patterns that start at a Latin word boundary
        self.unanchored: list[int] = []

    def build(self) -> _Bucket:
        return _Bucket(
            frozenset(self.categories),
            _index(self.plain, en=False, word=False, terms=False),
            _index(self.en_terms, en=True, word=True, terms=True),
            _index(self.words, en=True, word=True, terms=False),
            tuple(self.unanchored),
        )


class _Builder:
    def __init__(self) -> None:
        self.rules: list[_Rule] = []
        self.buckets: dict[int, _BucketBuilder] = {}
        self.bucket = _BucketBuilder()

    def use_bucket(self, cat: int, *, separate: bool) -> None:
        self.bucket = self.buckets.setdefault(cat if separate else -1, _BucketBuilder())
        self.bucket.categories.add(cat)

    def _rule(
        self, cat: int, rule_id: str, roles: frozenset[str], rx: str | None, *, literal: bool, en: bool
    ) -> int:
        try:
            regex = re.compile(rx, re.ASCII if en else 0) if rx is not None else None
        except re.error as exc:
            raise ScreenTermsError(f"{rule_id!r} does not compile: {exc}") from exc
        self.rules.append(_Rule(cat, rule_id, roles, regex, literal))
        return len(self.rules) - 1

    def add(
        self, cat: int, raw: Mapping[str, Any], where: str, extra_zh: Sequence[str], extra_en: Sequence[str]
    ) -> None:
        roles = frozenset(_strings(raw, "collector_roles"))
        for term in dict.fromkeys(t.lower() for t in [*_strings(raw, "zh"), *extra_zh]):
            head, tail = _latin_edge(term[0]), _latin_edge(term[-1])
            if head or tail:  # e.g. "p图", "傻b": guard the Latin end so "app图标" does not match
                rx = ("(?<![a-z0-9])" if head else "") + re.escape(term) + ("(?![a-z0-9])" if tail else "")
                idx = self._rule(cat, "zh:" + term, roles, rx, literal=True, en=head)
                (self.bucket.words if head else self.bucket.plain).setdefault(term, []).append(idx)
            else:
                idx = self._rule(cat, "zh:" + term, roles, None, literal=True, en=False)
                self.bucket.plain.setdefault(term, []).append(idx)
        for term in dict.fromkeys(_canon_en(t) for t in [*_strings(raw, "en"), *extra_en]):
            if not (_latin_edge(term[0]) and _latin_edge(term[-1])):
                raise ScreenTermsError(
                    f"{where}: English term {term!r} must start and end with a letter or digit"
                )
            idx = self._rule(cat, "en:" + term, roles, None, literal=True, en=True)
            self.bucket.en_terms.setdefault(term, []).append(idx)
        for lang in ("zh", "en"):
            for pid, rx in _patterns(raw, f"{lang}_patterns", where):
                idx = self._rule(cat, "pattern:" + pid, roles, rx, literal=False, en=lang == "en")
                found = _anchors(rx)
                if found is None:
                    self.bucket.unanchored.append(idx)
                    continue
                keys, word = found
                word = word or rx.startswith(("(?<![a-z])", "(?<![a-z0-9])"))
                for key in keys:
                    at_word = word and _latin_edge(key[0])
                    (self.bucket.words if at_word else self.bucket.plain).setdefault(key, []).append(idx)


def _strings(raw: Mapping[str, Any], key: str) -> list[str]:
    value = raw.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ScreenTermsError(f"{key!r} must be a list of non-empty strings")
    return value


def _patterns(raw: Mapping[str, Any], key: str, where: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for i, item in enumerate(raw.get(key, [])):
        if isinstance(item, str):
            pid, rx = f"{where}.{key}[{i}]", item
        else:
            pid, rx = str(item["id"]), str(item["re"])
        out.append((pid, rx))
    return out


def _applies(raw: Mapping[str, Any]) -> _Applies:
    targets = str(raw.get("targets", "any"))
    if targets not in ("any", "obligor", "third_party"):
        raise ScreenTermsError(f"unknown targets {targets!r}")
    return _Applies(
        frozenset(_strings(raw, "profiles")) if "profiles" in raw else None,
        frozenset(v.lower() for v in _strings(raw, "channels")) if "channels" in raw else None,
        targets,
        frozenset(_strings(raw, "collector_roles")) if "collector_roles" in raw else None,
        bool(raw["time_barred"]) if "time_barred" in raw else None,
        bool(raw["first_communication_done"]) if "first_communication_done" in raw else None,
        frozenset(_strings(raw, "exempt_purposes")),
    )


def _parse(terms: Mapping[str, Any], traditional: Mapping[str, Any]) -> _Vocabulary:
    try:
        order = _strings(terms, "severity_order")
        cats_raw: Mapping[str, Any] = terms["categories"]
        if sorted(order) != sorted(cats_raw) or len(set(order)) != len(order):
            raise ScreenTermsError("severity_order must list every category exactly once")
        norm = terms["normalisation"]
        table: dict[str, str] = {chr(int(cp, 16)): "" for cp in _strings(norm, "zero_width")}
        table.update({chr(cp): chr(cp - 0xFEE0) for cp in range(0xFF01, 0xFF5F)})  # full-width ASCII (NFKC)
        table["\u3000"] = " "
        for src, dst in [*traditional["map"].items(), *norm["char_fold"].items()]:
            if len(src) != 1:
                raise ScreenTermsError(f"character maps take single characters, not {src!r}")
            table[src] = str(dst)
        cjk_sep = "[\\s" + re.escape(str(norm["cjk_separators"])) + "]"
        latin_sep = "[\\s" + re.escape(str(norm["latin_spacing_separators"])) + "]"
        min_letters = int(norm["latin_spacing_min_letters"])
        obligors = {p: frozenset(v.lower() for v in vs) for p, vs in terms["targets"]["obligor"].items()}
        if set(obligors) != set(PROFILES):
            raise ScreenTermsError(f"targets.obligor must cover {PROFILES}")
        builder = _Builder()
        categories: list[_Category] = []
        for code in order:
            raw = cats_raw[code]
            kind = raw.get("kind", "prohibited")
            if kind not in ("prohibited", "required"):
                raise ScreenTermsError(f"{code}: unknown kind {kind!r}")
            alias_group: dict[str, str] = {}
            group_aliases: dict[str, tuple[str, ...]] = {}
            fee_zh: list[str] = []
            fee_en: list[str] = []
            for group, names in raw.get("fee_groups", {}).items():
                fee_zh += _strings(names, "zh")
                fee_en += _strings(names, "en")
                aliases = (
                    *(n.lower() for n in _strings(names, "zh")),
                    *(_canon_en(n) for n in _strings(names, "en")),
                )
                group_aliases[group] = aliases
                alias_group.update(dict.fromkeys(aliases, group))
            cat = len(categories)
            applies = _applies(raw.get("applies", {}))
            builder.use_bucket(cat, separate=bool(raw.get("separate_index", False)))
            builder.add(cat, raw, code, fee_zh, fee_en)
            if "role_exempt" in raw:
                builder.add(cat, raw["role_exempt"], f"{code}.role_exempt", (), ())
            excl = [rx for lang in ("zh", "en") for rx in _strings(raw.get("exclusions", {}), lang)]
            categories.append(
                _Category(
                    code,
                    kind == "required",
                    applies,
                    re.compile("|".join(f"(?:{rx})" for rx in excl)) if excl else None,
                    _exclusion_anchors(excl),
                    alias_group,
                    group_aliases,
                )
            )
        return _Vocabulary(
            version=str(terms["version"]),
            categories=tuple(categories),
            rules=tuple(builder.rules),
            buckets=tuple(b.build() for b in builder.buckets.values()),
            obligors=obligors,
            translate=table,
            needs_translate=re.compile("[" + "".join(re.escape(c) for c in sorted(table)) + "]"),
            has_cjk=re.compile(f"[{_CJK}]"),
            cjk_gap=re.compile(f"{cjk_sep}(?<=[{_CJK}]{cjk_sep}){cjk_sep}*(?=[{_CJK}])"),
            latin_probe=re.compile(f"{latin_sep}[a-z]{latin_sep}+[a-z](?![a-z0-9])"),
            latin_spaced=re.compile(
                f"(?<![a-z0-9])[a-z](?:{latin_sep}+[a-z](?![a-z0-9])){{{min_letters - 1},}}"
            ),
            latin_sep=re.compile(latin_sep),
        )
    except ScreenTermsError:
        raise
    except (KeyError, TypeError, AttributeError, ValueError, IndexError, re.error) as exc:
        raise ScreenTermsError(f"malformed screening vocabulary: {exc!r}") from exc


def _packaged(name: str) -> dict[str, Any]:
    text = resources.files("xiaodai.collections").joinpath(f"data/{name}").read_text(encoding="utf-8")
    return dict(json.loads(text))


_VOCAB: Final[_Vocabulary] = _parse(_packaged("screen_terms.json"), _packaged("zh_traditional.json"))
TERMS_VERSION: Final[str] = _VOCAB.version
REASON_CODES: Final[tuple[str, ...]] = tuple(c.code for c in _VOCAB.categories)


# ------------------------------------------------------------------------------------------------- screening


def normalise(text: str) -> str:
    """The text the screen matches on (and that ``Match.span`` indexes)."""
    v = _VOCAB
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
    v = _VOCAB
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
    v = _VOCAB
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
