"""Every page linked from each person's home, in Chromium on the seeded demo, in Chinese and in English: no
4xx/5xx, no raw code, ISO timestamp or internal id in what the page says, and a label for every input. Also
/docs renders."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

import pytest

from e2e.demo import ROLES, UNLABELLED_JS, raw_codes, sign_in, visible_text

# Documents rendered by their own domain (the model card) are checked for codes and times like every page;
# their inputs (none) need no labels.
DOCUMENTS = ("/card",)
SKIP = ("/logout", "/static/", "/docs-assets/", ".pdf", "/me/export", "/api/")


def _links(page: Any, base: str) -> list[str]:
    hrefs = page.eval_on_selector_all("a[href]", "els => els.map((a) => a.href)")
    out = []
    for href in hrefs:
        parsed = urlparse(href)
        if not href.startswith(base) or any(s in parsed.path for s in SKIP):
            continue
        path = parsed.path + (f"?{parsed.query}" if parsed.query else "")
        if "lang=" in parsed.query:
            continue
        out.append(path)
    return sorted(set(out))


def _check(page: Any, path: str, problems: list[str]) -> None:
    response = page.goto(path)
    status = response.status if response else 0
    if status >= 400:
        problems.append(f"{path}: HTTP {status}")
        return
    codes = raw_codes(visible_text(page))
    if codes:
        problems.append(f"{path}: raw codes {sorted(set(codes))[:8]}")
    unlabelled = [] if path.endswith(DOCUMENTS) else page.evaluate(UNLABELLED_JS)
    if unlabelled:
        problems.append(f"{path}: inputs without a label {unlabelled[:3]}")


@pytest.mark.parametrize("who", ["borrower", *ROLES])
def test_every_page_linked_from_home_is_clean(demo_page: tuple[Any, Any, Any], demo: Any, who: str) -> None:
    page, log, shoot = demo_page
    sign_in(page, f"{who}@xiaodai.demo")
    home = urlparse(page.url).path
    assert home != "/login", visible_text(page)[:300]
    problems: list[str] = []
    _check(page, home, problems)
    shoot(f"home-{who}")
    links = _links(page, demo.url)
    for path in links:
        _check(page, path, problems)
    _check(page, home + "?lang=en", problems)  # the language is kept in the session from here on
    for path in links:
        _check(page, path, problems)
    assert problems == [], "\n".join(problems)
    assert log.page_errors == []
    assert log.external(demo.url) == []


def test_anonymous_pages_are_clean(demo_page: tuple[Any, Any, Any], demo: Any) -> None:
    page, _, shoot = demo_page
    problems: list[str] = []
    for path in ("/", "/login", "/signup", "/complaints", "/?amount=12000&term=12&rate=0.12#calculator"):
        _check(page, path, problems)
    shoot("landing")
    assert page.locator("#login-button").count() == 1
    assert problems == [], "\n".join(problems)
    response = page.goto("/staff/worklist")
    assert urlparse(page.url).path == "/login"  # anonymous: sent to sign in
    assert response is not None
    assert response.status == 200


def test_api_docs_render_from_local_files(demo_page: tuple[Any, Any, Any], demo: Any) -> None:
    page, log, shoot = demo_page
    page.goto("/docs")
    page.wait_for_selector(".swagger-ui .info .title", timeout=15_000)
    assert "xiaodai" in page.inner_text(".swagger-ui .info .title")
    assert page.locator(".opblock").count() > 10  # the operations are listed
    shoot("api-docs")
    assert log.external(demo.url) == []
    assert [e for e in log.console_errors if "favicon" not in e] == []
    assert log.page_errors == []


def test_sign_in_by_keyboard_alone(demo_page: tuple[Any, Any, Any], demo: Any) -> None:
    """The first Tab reaches "skip to content"; the sign-in form is reached and sent with keys only."""
    page, _, _ = demo_page
    page.goto("/login")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip"
    assert page.evaluate("getComputedStyle(document.activeElement).left") != "-9999px"  # visible when focused
    for _ in range(20):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "email":
            break
    assert page.evaluate("document.activeElement.id") == "email"
    page.keyboard.type("borrower@xiaodai.demo")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "password"
    page.keyboard.type("xiaodai-demo-2026")
    with page.expect_navigation(wait_until="load"):
        page.keyboard.press("Enter")
    assert urlparse(page.url).path == "/loans"
