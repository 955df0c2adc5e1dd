"""Browser fixtures: Playwright (sync API) driving Debian's Chromium against pytest-django's live_server.

The browser is /usr/bin/chromium (apt); Playwright never downloads one. When it is missing the tests are
skipped locally and fail in CI (CI=true), like every other service in tests/conftest.py.
"""

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conftest import _missing

# Playwright's sync API runs an asyncio event loop in the test's thread, so Django's async-safety check
# (SynchronousOnlyOperation) refuses the ORM calls the test makes to set up and verify data. The test code
# never runs inside that loop's coroutines, so lifting the check is safe here; it is the documented
# pytest-django + Playwright workaround. Set before any fixture touches the database.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
RESULTS_DIR = Path(__file__).resolve().parents[2] / "test-results" / "browser"  # git-ignored


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for the whole session."""
    if not (CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)):
        _missing(f"the browser tests need Chromium at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    try:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()
    finally:
        playwright.stop()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """Remember each phase's report on the item, so that `page` can keep a trace of failed tests only."""
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


def browser_context(browser, live_server):
    """A browser context of its own (own cookies) in Japanese, in Japan's time zone, 1280 × 900, on the live
    server: the `page` fixture's, and a second person's in a journey (the customer after the staff member)."""
    context = browser.new_context(
        base_url=live_server.url,
        locale="ja-JP",
        timezone_id="Asia/Tokyo",
        viewport={"width": 1280, "height": 900},
    )
    context.set_default_timeout(10_000)
    return context


@pytest.fixture
def page(request, browser, live_server) -> Iterator:
    """A fresh context (own cookies) in Japanese on the live server; a Playwright trace is kept when the test
    fails (test-results/browser/<test>-trace.zip, open with `.venv/bin/playwright show-trace`)."""
    context = browser_context(browser, live_server)
    context.tracing.start(screenshots=True, snapshots=True)
    page = context.new_page()
    try:
        yield page
    finally:
        failed = getattr(request.node, "rep_call", None) is not None and request.node.rep_call.failed
        if failed:
            RESULTS_DIR.mkdir(parents=True, exist_ok=True)
            context.tracing.stop(path=str(RESULTS_DIR / f"{request.node.name}-trace.zip"))
        else:
            context.tracing.stop()
        context.close()


@pytest.fixture
def screenshot() -> Callable:
    """screenshot(page, screen) saves test-results/browser/<NN>-<screen>.png, NN counting the test's steps."""
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    step = 0

    def take(page, screen: str, *, prefix: str = "") -> Path:
        nonlocal step
        step += 1
        path = RESULTS_DIR / f"{prefix}{step:02d}-{screen}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take
