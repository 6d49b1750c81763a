"""Accessibility in Chromium on the seeded demo: axe-core (the ``axe-playwright-python`` package's bundled
``axe.min.js``, run offline inside the page) on each person's home and the pages linked from it, in Chinese
and in English; a serious or critical violation of WCAG 2.1 A/AA (labels, contrast, names, structure) fails.
And the keyboard: every control on each home is reached by Tab, in order, with a visible focus ring."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

import pytest

from e2e.demo import ROLES, sign_in

axe_module = pytest.importorskip(
    "axe_playwright_python.sync_playwright", reason="pip install axe-playwright-python"
)

WCAG = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}
SERIOUS = ("serious", "critical")
SKIP = ("/logout", "/static/", "/docs", ".pdf", "/me/export", "/api/", "/card")
PAGES_PER_PERSON = 4  # the first pages a home links to (the crawl test visits them all)
# Known violations accepted for now (path, rule id): none. The risk charts have their names
# (risk.report_html.labelled).
KNOWN: set[tuple[str, str]] = set()


def _violations(page: Any) -> list[str]:
    results = axe_module.Axe().run(page, options=WCAG)
    path = urlparse(page.url).path
    found = []
    for violation in results.response["violations"]:
        if violation["impact"] in SERIOUS and (path, violation["id"]) not in KNOWN:
            nodes = [", ".join(n["target"]) for n in violation["nodes"][:3]]
            found.append(f"{violation['id']} ({violation['impact']}): {violation['help']} at {nodes}")
    return found


def _linked(page: Any, base: str) -> list[str]:
    """The pages a home links to: its own content's links first (a loan, a decision, a case), then the
    navigation's."""
    hrefs = page.eval_on_selector_all("main a[href]", "els => els.map((a) => a.href)")
    hrefs += page.eval_on_selector_all("nav a[href]", "els => els.map((a) => a.href)")
    paths = []
    for href in hrefs:
        parsed = urlparse(href)
        if href.startswith(base) and not any(s in parsed.path for s in SKIP) and "lang=" not in parsed.query:
            paths.append(parsed.path)
    return list(dict.fromkeys(paths))


TAB_ORDER_JS = """
() => Array.from(document.querySelectorAll('a[href], button, input, select, textarea, [tabindex]'))
  .filter((el) => el.type !== 'hidden' && !el.disabled && el.tabIndex >= 0)
  .filter((el) => { const r = el.getBoundingClientRect(); return r.width > 0 && r.height > 0; }).length
"""
FOCUSED_JS = """
() => { const e = document.activeElement; if (!e || e === document.body) return '';
  return e.tagName + '#' + e.id + '@' + Array.from(document.querySelectorAll('*')).indexOf(e); }
"""
FOCUS_RING_JS = """
() => { const el = document.activeElement; const s = getComputedStyle(el);
  return (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0) || s.boxShadow !== 'none'; }
"""


def _keyboard(page: Any, path: str) -> list[str]:
    """Tab from the top: every visible control is reached once, and each shows a focus ring."""
    problems = []
    controls = page.evaluate(TAB_ORDER_JS)
    page.evaluate("document.activeElement && document.activeElement.blur()")
    seen: set[str] = set()
    for _ in range(controls + 1):
        page.keyboard.press("Tab")
        key = page.evaluate(FOCUSED_JS)
        if not key or key in seen:
            break
        seen.add(key)
        if not page.evaluate(FOCUS_RING_JS):
            problems.append(f"{path}: no visible focus on {key}")
    if len(seen) < controls:
        problems.append(f"{path}: Tab reached {len(seen)} of {controls} controls")
    return problems


@pytest.mark.parametrize("who", ["borrower", *ROLES])
def test_axe_and_keyboard_on_each_home(demo_page: tuple[Any, Any, Any], demo: Any, who: str) -> None:
    page, _, _ = demo_page
    sign_in(page, f"{who}@xiaodai.demo")
    home = urlparse(page.url).path
    problems = [f"{home}: {v}" for v in _violations(page)]
    problems += _keyboard(page, home)
    for path in _linked(page, demo.url)[:PAGES_PER_PERSON]:
        page.goto(path)
        problems += [f"{path}: {v}" for v in _violations(page)]
    page.goto(f"{home}?lang=en")  # the English home: other words, other widths
    problems += [f"{home} [en]: {v}" for v in _violations(page)]
    assert problems == [], "\n".join(problems)


def test_axe_on_the_anonymous_pages(demo_page: tuple[Any, Any, Any], demo: Any) -> None:
    page, _, _ = demo_page
    problems = []
    for path in ("/", "/login", "/signup", "/complaints", "/?amount=abc&term=99#calculator"):
        page.goto(path)
        problems += [f"{path}: {v}" for v in _violations(page)]
    page.goto("/")
    problems += _keyboard(page, "/")
    assert problems == [], "\n".join(problems)
