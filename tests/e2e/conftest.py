"""Real-browser fixtures: the seeded demo served by uvicorn on a free local port (background thread, once
per session, see ``e2e/demo.py``), or a fresh app per test on its own database (``live_server``), and
Debian's Chromium driven by Playwright (sync API).

Chromium is *not* downloaded by Playwright: the system build at /usr/bin/chromium is used. The browser tests
skip only when that binary is missing (CI installs it); any other launch failure fails the test.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from support.demo_model import shared_demo_model
from support.models import write_artifact
from xiaodai.api.app import create_app
from xiaodai.api.settings import Settings
from xiaodai.db.session import make_engine, session_factory
from xiaodai.underwriting import service as underwriting

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
# The handful refreshed in docs/screenshots/ (README shows 03-offer); every step goes to the tmp dir.
DOCUMENTED = frozenset(
    {
        "00-landing-calculator",
        "01-apply-error",
        "03-offer",
        "04-loan",
        "06-repay-receipt",
        "staff-collector-contact",
        "staff-complaint-closed",
        "staff-underwriter-review",
        "staff-admin-roles",
        "api-docs",
    }
)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_until_listening(port: int, server: uvicorn.Server, thread: threading.Thread) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if not thread.is_alive():
            pytest.fail("uvicorn stopped before accepting connections (see the log above)")
        if server.started:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    return
            except OSError:
                pass
        time.sleep(0.05)
    pytest.fail(f"uvicorn did not accept connections on 127.0.0.1:{port} within 15 s")


# --- a fresh app on a fresh database with the hand-made test model (tests that build their own data) ---

TODAY = date(2026, 1, 10)
E2E_SIGN_INS = 10_000  # one address signs in for every journey (see e2e/demo.py)


@pytest.fixture
def live_server(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The app on a fresh database with the hand-made test model active; yields its base URL."""
    monkeypatch.setenv("XIAODAI_MODEL_DIR", str(tmp_path / "models"))
    engine = make_engine(db_url)
    with session_factory(engine)() as s, s.begin():
        underwriting.register_model(s, artifact=write_artifact(tmp_path / "artifact"), activate=True)
    engine.dispose()
    app = create_app(
        Settings(
            database_url=db_url,
            secret_key="e2e-secret-key",
            business_date=TODAY,
            login_attempts_per_minute=E2E_SIGN_INS,
        )
    )
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, name="uvicorn-e2e", daemon=True)
    thread.start()
    try:
        _wait_until_listening(port, server, thread)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        app.state.engine.dispose()


@pytest.fixture
def chromium_browser(session_browser: Any) -> Any:
    """Debian's Chromium, headless: the session's one browser (one Playwright driver per process)."""
    return session_browser


@dataclass
class PageLog:
    """What a page did: every request URL, console errors, uncaught exceptions, failed requests."""

    requests: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)

    def external(self, base_url: str) -> list[str]:
        return [url for url in self.requests if not url.startswith(base_url + "/")]


def watch(page: Any) -> PageLog:
    log = PageLog()
    page.on("request", lambda request: log.requests.append(request.url))
    page.on(
        "console",
        lambda message: (
            log.console_errors.append(f"{message.text} @ {message.location}")
            if message.type == "error"
            else None
        ),
    )
    page.on("pageerror", lambda error: log.page_errors.append(str(error)))
    page.on("requestfailed", lambda request: log.failed.append(f"{request.url}: {request.failure}"))
    return log


@dataclass
class Shooter:
    """Full-page screenshots into the test's own tmp_path (artefacts), and into docs/screenshots/ when
    XIAODAI_UPDATE_SCREENSHOTS=1 (so a test run never rewrites tracked files by itself)."""

    page: Any
    artefacts: Path
    made: list[Path] = field(default_factory=list)

    def __call__(self, name: str) -> None:
        folders = [self.artefacts]
        if os.environ.get("XIAODAI_UPDATE_SCREENSHOTS") == "1" and name in DOCUMENTED:
            folders.append(SCREENSHOTS)
        png = self.page.screenshot(full_page=True, animations="disabled")
        for folder in folders:
            folder.mkdir(parents=True, exist_ok=True)
            target = folder / f"{name}.png"
            target.write_bytes(png)
            self.made.append(target)


_FAILED = pytest.StashKey[bool]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    if report.when == "call":
        item.stash[_FAILED] = report.failed
    return report


@pytest.fixture
def browser_page(
    request: pytest.FixtureRequest, chromium_browser: Any, live_server: str, tmp_path: Path
) -> Iterator[tuple[Any, PageLog, Shooter]]:
    """A fresh context (own cookies) at 1280 px wide, with its activity log and screenshot helper.

    When the test fails, the page as it was is saved as ``failure.png`` under tmp_path and its log printed.
    """
    context = chromium_browser.new_context(
        base_url=live_server, viewport={"width": 1280, "height": 900}, locale="zh-CN"
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    log = watch(page)
    try:
        yield page, log, Shooter(page, tmp_path / "screenshots")
        if request.node.stash.get(_FAILED, False):
            page.screenshot(path=str(tmp_path / "failure.png"), full_page=True)
            print(f"browser failure artefacts in {tmp_path}: url={page.url} log={log}")
    finally:
        context.close()


# --- the seeded demo, once per session (see e2e/demo.py) ---


@pytest.fixture(scope="session")
def demo(sqlite_template: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from argon2 import PasswordHasher

    from e2e import demo as demo_module
    from xiaodai.accounts import service as accounts

    folder = tmp_path_factory.mktemp("demo")
    before = os.environ.get("XIAODAI_MODEL_DIR")
    demo_module.model_dir(folder)
    # Password hashing at its production cost is not what these tests look at, and the seed signs up ~30
    # people: a cheap hasher (as tests/api/test_schemathesis.py does) saves most of the seed's time.
    patch = pytest.MonkeyPatch()
    patch.setattr(accounts, "HASHER", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
    try:
        url = demo_module.copy_template(sqlite_template, folder)
        # the demo model `demo seed` trains, trained once per run for every worker (support/demo_model.py):
        # registered first, the seed finds it active and does not train it again
        engine = make_engine(url)
        with session_factory(engine)() as s, s.begin():
            underwriting.register_model(s, artifact=shared_demo_model(tmp_path_factory), activate=True)
        engine.dispose()
        demo_module.seed_demo(url, folder / "work")
        for base in demo_module.serve(url, _free_port(), _wait_until_listening):
            yield demo_module.Demo(base, url, demo_module.today_in_china())
    finally:
        patch.undo()
        if before is None:
            os.environ.pop("XIAODAI_MODEL_DIR", None)
        else:
            os.environ["XIAODAI_MODEL_DIR"] = before


@pytest.fixture(scope="session")
def session_browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium); the browser tests need it")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def demo_page(
    request: pytest.FixtureRequest, session_browser: Any, demo: Any, tmp_path: Path
) -> Iterator[tuple[Any, PageLog, Shooter]]:
    """A fresh browser context on the seeded demo (own cookies), its log and its screenshot helper."""
    context = session_browser.new_context(
        base_url=demo.url, viewport={"width": 1280, "height": 900}, locale="zh-CN", accept_downloads=True
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    log = watch(page)
    try:
        yield page, log, Shooter(page, tmp_path / "screenshots")
        if request.node.stash.get(_FAILED, False):
            page.screenshot(path=str(tmp_path / "failure.png"), full_page=True)
            print(f"browser failure artefacts in {tmp_path}: url={page.url} log={log}")
    finally:
        context.close()
