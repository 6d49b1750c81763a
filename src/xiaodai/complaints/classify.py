"""Complaint narrative classification (pure: no clock, no I/O beyond packaged data, no environment).

``classify(narrative, threshold=0.6) -> Classification`` puts a zh or en complaint narrative into a category
and sub-issue of the configurable taxonomy (``data/taxonomy.json``), with the JR/T 0169-2018 label and the
CFPB product / sub-product / issue / sub-issue labels the sub-issue maps to, a confidence in [0, 1] and a
``needs_triage`` flag. Below the threshold the complaint goes to the human triage queue; a human can always
override the result (``override``). Both data files are versioned and every result carries their versions.

Method (curated patterns kept as data, ``data/classify_patterns.json``):

1. Normalise the text: NFKC (full-width letters, digits and punctuation become ASCII), lower-case,
   typographic apostrophes made plain, whitespace collapsed, and spaces between CJK characters removed
   (so "打 电 话" matches "打电话").
2. Every rule is a regular expression with a weight, aimed at ``category/sub_issue`` or at a category only
   (evidence for the category without saying which sub-issue). A rule counts once however often it
   matches, so repeating a phrase (or padding the text) does not inflate a score.
3. A category's score is the sum of the weights of its matched rules; the best category wins (ties: the
   taxonomy's order). Its sub-issue is the best-scoring sub-issue inside it (ties: taxonomy order; with
   only category-level evidence, the category's first sub-issue).
4. ``confidence = share * saturation`` where ``share = best / sum of all category scores`` (how much of the
   evidence points at the winner: a multi-topic narrative's dominant category wins, with a confidence that
   shrinks with the margin) and ``saturation = 1 - exp(-best / k)`` (how much evidence there is in absolute
   terms; ``k`` is ``confidence.saturation_scale`` in the pattern file). One decisive phrase (weight 3)
   alone gives 0.86, one strong cue (2) 0.74, a supporting cue (1.5) 0.63 at most.
5. No evidence at all: the taxonomy's triage category/sub-issue ("other"/"unclassified"), confidence 0.
   ``needs_triage = confidence < threshold``.

Privacy vs collection (house decision, see the taxonomy notes): disclosing the borrower's data — a leak, a
sale, telling people about the loan as information — is ``privacy``; phoning or messaging family,
colleagues or contacts to press for payment is ``collection_conduct/third_parties``. A narrative with both
is decided by the weights, and a close call lands in triage.

``Classification.to_json()`` is the conformance runner's ``classification`` field. Its ``product``,
``sub_product``, ``issue`` and ``sub_issue`` are the CFPB complaint-database columns (strings, ``sub_issue``
may be null); the taxonomy ids are ``category`` and ``category_sub_issue``.
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, replace
from functools import cache
from importlib import resources
from typing import Any

__all__ = [
    "Category",
    "Classification",
    "ClassifyDataError",
    "PatternSet",
    "Rule",
    "SubIssue",
    "Taxonomy",
    "classify",
    "default_patterns",
    "default_taxonomy",
    "normalise",
    "override",
    "parse_patterns",
    "parse_taxonomy",
]


class ClassifyDataError(ValueError):
    """The taxonomy or pattern data is malformed, or an override names an unknown category/sub-issue."""


# --------------------------------------------------------------------------------------------------
# Taxonomy
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SubIssue:
    id: str
    label_zh: str
    label_en: str
    jrt_business_type: str
    jrt_cause: str
    jrt_verify: bool
    cfpb_issue: str | None
    cfpb_sub_issue: str | None
    cfpb_verify: bool

    @property
    def jrt_label(self) -> str:
        """``business type / cause`` under JR/T 0169-2018, with ``(verify)`` where the mapping is unsure."""
        label = f"{self.jrt_business_type} / {self.jrt_cause}"
        return f"{label} (verify)" if self.jrt_verify else label


@dataclass(frozen=True, slots=True)
class Category:
    id: str
    label_zh: str
    label_en: str
    product: str
    sub_product: str
    sub_issues: tuple[SubIssue, ...]

    def sub_issue(self, sub_issue_id: str) -> SubIssue:
        for sub in self.sub_issues:
            if sub.id == sub_issue_id:
                return sub
        raise ClassifyDataError(f"unknown sub-issue {sub_issue_id!r} in category {self.id!r}")


@dataclass(frozen=True, slots=True)
class Taxonomy:
    version: str
    categories: tuple[Category, ...]
    triage_category: str
    triage_sub_issue: str

    def category(self, category_id: str) -> Category:
        for cat in self.categories:
            if cat.id == category_id:
                return cat
        raise ClassifyDataError(f"unknown category {category_id!r}")


def _str(obj: Mapping[str, Any], key: str) -> str:
    value = obj.get(key)
    if not isinstance(value, str) or not value:
        raise ClassifyDataError(f"expected a non-empty string for {key!r} in {dict(obj)!r:.120}")
    return value


def _opt_str(obj: Mapping[str, Any], key: str) -> str | None:
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise ClassifyDataError(f"expected a string or null for {key!r}")
    return value


def _parse_sub_issue(raw: Mapping[str, Any]) -> SubIssue:
    jrt = raw.get("jrt")
    if not isinstance(jrt, Mapping):
        raise ClassifyDataError(f"sub-issue {raw.get('id')!r} has no jrt mapping")
    return SubIssue(
        id=_str(raw, "id"),
        label_zh=_str(raw, "label_zh"),
        label_en=_str(raw, "label_en"),
        jrt_business_type=_str(jrt, "business_type"),
        jrt_cause=_str(jrt, "cause"),
        jrt_verify=bool(jrt.get("verify", True)),
        cfpb_issue=_opt_str(raw, "cfpb_issue"),
        cfpb_sub_issue=_opt_str(raw, "cfpb_sub_issue"),
        cfpb_verify=bool(raw.get("verify", True)),
    )


def parse_taxonomy(data: Mapping[str, Any]) -> Taxonomy:
    """Build a ``Taxonomy`` from its JSON form (see ``data/taxonomy.json``), validating ids."""
    try:
        default = data.get("cfpb_default") or {}
        categories: list[Category] = []
        for raw in data["categories"]:
            subs = tuple(_parse_sub_issue(s) for s in raw["sub_issues"])
            if not subs:
                raise ClassifyDataError(f"category {raw.get('id')!r} has no sub-issues")
            if len({s.id for s in subs}) != len(subs):
                raise ClassifyDataError(f"duplicate sub-issue ids in category {raw.get('id')!r}")
            categories.append(
                Category(
                    id=_str(raw, "id"),
                    label_zh=_str(raw, "label_zh"),
                    label_en=_str(raw, "label_en"),
                    product=raw.get("product") or _str(default, "product"),
                    sub_product=raw.get("sub_product") or _str(default, "sub_product"),
                    sub_issues=subs,
                )
            )
        taxonomy = Taxonomy(
            version=_str(data, "version"),
            categories=tuple(categories),
            triage_category=_str(data, "triage_category"),
            triage_sub_issue=_str(data, "triage_sub_issue"),
        )
    except (KeyError, TypeError, AttributeError) as exc:
        raise ClassifyDataError(f"malformed taxonomy data: {exc!r}") from exc
    if len({c.id for c in taxonomy.categories}) != len(taxonomy.categories):
        raise ClassifyDataError("duplicate category ids in taxonomy")
    taxonomy.category(taxonomy.triage_category).sub_issue(taxonomy.triage_sub_issue)
    return taxonomy


@cache
def default_taxonomy() -> Taxonomy:
    """The taxonomy shipped with xiaodai (package data: configuration, not environment)."""
    text = resources.files("xiaodai.complaints").joinpath("data/taxonomy.json").read_text("utf-8")
    return parse_taxonomy(json.loads(text))


# --------------------------------------------------------------------------------------------------
# Patterns
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    category: str
    sub_issue: str | None
    lang: str
    weight: float
    regex: re.Pattern[str]


@dataclass(frozen=True, slots=True)
class PatternSet:
    version: str
    saturation_scale: float
    rules: tuple[Rule, ...]


def parse_patterns(data: Mapping[str, Any], taxonomy: Taxonomy | None = None) -> PatternSet:
    """Build a ``PatternSet`` from its JSON form; every rule's target must exist in the taxonomy."""
    taxonomy = taxonomy or default_taxonomy()
    rules: list[Rule] = []
    try:
        scale = float(data["confidence"]["saturation_scale"])
        for raw in data["rules"]:
            rule_id = _str(raw, "id")
            category, _, sub = _str(raw, "target").partition("/")
            cat = taxonomy.category(category)
            if sub:
                cat.sub_issue(sub)
            weight = float(raw["weight"])
            if not math.isfinite(weight) or weight <= 0:
                raise ClassifyDataError(f"rule {rule_id!r}: weight must be positive")
            try:
                regex = re.compile(_str(raw, "pattern"))
            except re.error as exc:
                raise ClassifyDataError(f"rule {rule_id!r}: bad pattern: {exc}") from exc
            rules.append(Rule(rule_id, category, sub or None, _str(raw, "lang"), weight, regex))
        version = _str(data, "version")
    except (KeyError, TypeError, ValueError) as exc:
        if isinstance(exc, ClassifyDataError):
            raise
        raise ClassifyDataError(f"malformed pattern data: {exc!r}") from exc
    if not math.isfinite(scale) or scale <= 0:
        raise ClassifyDataError("confidence.saturation_scale must be positive")
    if len({r.id for r in rules}) != len(rules):
        raise ClassifyDataError("duplicate rule ids in pattern data")
    return PatternSet(version=version, saturation_scale=scale, rules=tuple(rules))


@cache
def default_patterns() -> PatternSet:
    """The curated patterns shipped with xiaodai (package data)."""
    text = resources.files("xiaodai.complaints").joinpath("data/classify_patterns.json").read_text("utf-8")
    return parse_patterns(json.loads(text), default_taxonomy())


# --------------------------------------------------------------------------------------------------
# Normalisation
# --------------------------------------------------------------------------------------------------

_CJK = r"\u2e80-\u2fff\u3000-\u303f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef"
_CJK_GAP = re.compile(rf"(?<=[{_CJK}])\s+(?=[{_CJK}])")
_SPACES = re.compile(r"\s+")
_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u02bc": "'", "\u201c": '"', "\u201d": '"'})


def normalise(text: str) -> str:
    """NFKC, lower-case, plain apostrophes, collapsed whitespace, no spaces between CJK characters."""
    text = unicodedata.normalize("NFKC", text).lower().translate(_QUOTES)
    text = _SPACES.sub(" ", text).strip()
    return _CJK_GAP.sub("", text)


# --------------------------------------------------------------------------------------------------
# Classification
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Classification:
    category: str
    sub_issue: str
    product: str
    sub_product: str
    issue: str | None
    sub_issue_label_zh: str
    sub_issue_label_en: str
    cfpb_issue: str | None
    cfpb_sub_issue: str | None
    jrt_label: str
    confidence: float
    needs_triage: bool
    matched: tuple[str, ...]
    scores: tuple[tuple[str, float], ...] = ()
    taxonomy_version: str = ""
    patterns_version: str = ""
    source: str = "auto"
    reviewer: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The conformance ``classification`` field: CFPB columns plus our ids, confidence and provenance."""
        return {
            "product": self.product,
            "sub_product": self.sub_product,
            "issue": self.cfpb_issue,
            "sub_issue": self.cfpb_sub_issue,
            "category": self.category,
            "category_sub_issue": self.sub_issue,
            "sub_issue_label_zh": self.sub_issue_label_zh,
            "sub_issue_label_en": self.sub_issue_label_en,
            "jrt_label": self.jrt_label,
            "confidence": round(self.confidence, 4),
            "needs_triage": self.needs_triage,
            "matched": list(self.matched),
            "taxonomy_version": self.taxonomy_version,
            "patterns_version": self.patterns_version,
            "source": self.source,
            "reviewer": self.reviewer,
        }


def _build(
    taxonomy: Taxonomy,
    patterns: PatternSet,
    category: Category,
    sub: SubIssue,
    *,
    confidence: float,
    needs_triage: bool,
    matched: tuple[str, ...],
    scores: tuple[tuple[str, float], ...],
) -> Classification:
    return Classification(
        category=category.id,
        sub_issue=sub.id,
        product=category.product,
        sub_product=category.sub_product,
        issue=sub.cfpb_issue,
        sub_issue_label_zh=sub.label_zh,
        sub_issue_label_en=sub.label_en,
        cfpb_issue=sub.cfpb_issue,
        cfpb_sub_issue=sub.cfpb_sub_issue,
        jrt_label=sub.jrt_label,
        confidence=confidence,
        needs_triage=needs_triage,
        matched=matched,
        scores=scores,
        taxonomy_version=taxonomy.version,
        patterns_version=patterns.version,
    )


def classify(
    narrative: str,
    *,
    threshold: float = 0.6,
    taxonomy: Taxonomy | None = None,
    patterns: PatternSet | None = None,
) -> Classification:
    """Classify a complaint narrative (zh, en or mixed); see the module docstring for the method."""
    if not 0.0 <= threshold <= 1.0:
        raise ValueError(f"threshold must be in [0, 1], got {threshold!r}")
    taxonomy = taxonomy or default_taxonomy()
    patterns = patterns or (default_patterns() if taxonomy is default_taxonomy() else None)
    if patterns is None:
        raise ClassifyDataError("a custom taxonomy needs its own pattern set")
    text = normalise(narrative)

    cat_scores: dict[str, float] = {c.id: 0.0 for c in taxonomy.categories}
    sub_scores: dict[tuple[str, str], float] = {}
    matched: list[str] = []
    if text:
        for rule in patterns.rules:
            if rule.regex.search(text) is None:
                continue
            matched.append(rule.id)
            cat_scores[rule.category] += rule.weight
            if rule.sub_issue is not None:
                key = (rule.category, rule.sub_issue)
                sub_scores[key] = sub_scores.get(key, 0.0) + rule.weight
    scores = tuple((c.id, round(cat_scores[c.id], 6)) for c in taxonomy.categories)
    total = sum(cat_scores.values())

    if total <= 0.0:
        cat = taxonomy.category(taxonomy.triage_category)
        sub = cat.sub_issue(taxonomy.triage_sub_issue)
        return _build(
            taxonomy, patterns, cat, sub, confidence=0.0, needs_triage=True, matched=(), scores=scores
        )

    # max() keeps the first of equal scores, so ties go to the taxonomy's order.
    best = max(taxonomy.categories, key=lambda c: cat_scores[c.id])
    sub = max(best.sub_issues, key=lambda s: sub_scores.get((best.id, s.id), 0.0))
    top = cat_scores[best.id]
    share = top / total
    saturation = 1.0 - math.exp(-top / patterns.saturation_scale)
    confidence = min(1.0, max(0.0, share * saturation))
    return _build(
        taxonomy,
        patterns,
        best,
        sub,
        confidence=confidence,
        needs_triage=confidence < threshold,
        matched=tuple(matched),
        scores=scores,
    )


def override(
    classification: Classification,
    *,
    category: str,
    sub_issue: str,
    reviewer: str,
    taxonomy: Taxonomy | None = None,
) -> Classification:
    """A human triage decision: replaces category and sub-issue (and their labels), confidence 1.

    The automatic evidence (``matched``, ``scores``) is kept for audit; ``source`` becomes "human".
    """
    if not reviewer:
        raise ClassifyDataError("an override needs the reviewer's id")
    taxonomy = taxonomy or default_taxonomy()
    cat = taxonomy.category(category)
    sub = cat.sub_issue(sub_issue)
    return replace(
        classification,
        category=cat.id,
        sub_issue=sub.id,
        product=cat.product,
        sub_product=cat.sub_product,
        issue=sub.cfpb_issue,
        sub_issue_label_zh=sub.label_zh,
        sub_issue_label_en=sub.label_en,
        cfpb_issue=sub.cfpb_issue,
        cfpb_sub_issue=sub.cfpb_sub_issue,
        jrt_label=sub.jrt_label,
        confidence=1.0,
        needs_triage=False,
        taxonomy_version=taxonomy.version,
        source="human",
        reviewer=reviewer,
    )
