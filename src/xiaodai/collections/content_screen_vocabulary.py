"""The screening vocabulary (``data/screen_terms.json``, ``data/zh_traditional.json``), compiled once
on first use: categories and the conditions they apply under, terms and patterns as rules, and the
character-trie indexes that find every term in one pass."""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any, Final

from xiaodai.collections.content_screen_anchors import literal_anchors_of_exclusions, pattern_anchors
from xiaodai.collections.content_screen_types import PROFILES, ScreenContext, ScreenTermsError

_CJK: Final = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ffff"
_EN_GAP: Final = r"[\s_\-]+"


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
    exempt_targets: frozenset[str]

    def holds(self, profile: str, ctx: ScreenContext, obligor: bool) -> bool:
        if self.profiles is not None and profile not in self.profiles:
            return False
        if self.channels is not None and ctx.channel.lower() not in self.channels:
            return False
        if ctx.target_type.lower() in self.exempt_targets:
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
                found = pattern_anchors(rx)
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
        frozenset(v.lower() for v in _strings(raw, "exempt_targets")),
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
                    literal_anchors_of_exclusions(excl),
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


@functools.cache
def vocabulary() -> _Vocabulary:
    """The compiled vocabulary, built on the first screening in this process. Compiling its patterns costs
    ~0.15 s of CPU, which every process importing the collections package used to pay at import: each CLI
    command, server worker and test worker, most of which never screen a message."""
    return _parse(_TERMS, _packaged("zh_traditional.json"))


_TERMS: Final = _packaged("screen_terms.json")
TERMS_VERSION: Final[str] = str(_TERMS["version"])
# the categories in severity order, as ``vocabulary().categories`` holds them (asserted by the unit tests)
REASON_CODES: Final[tuple[str, ...]] = tuple(_strings(_TERMS, "severity_order"))
