"""End-to-end runs in Debian's Chromium, driven by Playwright, against the app over real HTTP.

The app (the test run's, on the test database) is served by werkzeug from a thread.
No browser is ever downloaded: without /usr/bin/chromium the lane is skipped with a
message saying what to install, and with CI=true it fails instead.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from support.processes import served_in_thread, unavailable

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        unavailable("browser tests need Chromium at /usr/bin/chromium: install the Debian package "
                     "`chromium` (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def http_server(app):
    """The app over real HTTP on 127.0.0.1 (a free port), served from a thread."""
    with served_in_thread(app) as url:
        yield url


class ConsoleErrors:
    """Console errors and uncaught exceptions seen by the pages of a test.

    Chrome also reports a page that answers with an error status on purpose (the 404
    page, a form shown again with its errors as 422) as "Failed to load resource":
    that is the page's own status, not something broken, so it is not counted. A
    stylesheet, script or icon that fails to load still is.
    """

    def __init__(self):
        self.messages: list[tuple[str, str]] = []
        self.error_documents: set[str] = set()

    def watch(self, page) -> None:
        page.on("response", lambda response: response.request.resource_type == "document"
                and response.status >= 400 and self.error_documents.add(response.url))
        page.on("console", lambda message: message.type == "error" and self.messages.append(
            (message.text, message.location.get("url", ""))))
        page.on("pageerror", lambda error: self.messages.append((f"page error: {error}", page.url)))

    def problems(self) -> list[str]:
        return [f"{text} ({url})" for text, url in self.messages
                if not (text.startswith("Failed to load resource: the server responded with a status of")
                        and url in self.error_documents)]


@pytest.fixture
def console_errors():
    return ConsoleErrors()


@pytest.fixture
def open_page(browser, http_server, console_errors):
    """open_page(width, **context_options) -> a fresh browser context's page.

    Every test ends with no console errors.
    """
    contexts = []

    def open_(width: int = 1280, height: int = 900, **options):
        context = browser.new_context(viewport={"width": width, "height": height}, base_url=http_server,
                                      timezone_id="Europe/Paris", locale="en-GB", **options)
        context.set_default_timeout(10_000)
        contexts.append(context)
        page = context.new_page()
        console_errors.watch(page)
        return page

    yield open_
    for context in contexts:
        context.close()
    assert console_errors.problems() == []


SCREENSHOTS_USED = pytest.StashKey[bool]()


@pytest.fixture(scope="session")
def screenshots(pytestconfig) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    pytestconfig.stash[SCREENSHOTS_USED] = True
    return SCREENSHOTS


def pytest_terminal_summary(terminalreporter, config):
    if config.stash.get(SCREENSHOTS_USED, False):
        terminalreporter.write_sep("-", "browser screenshots")
        terminalreporter.write_line(f"screenshots saved in {SCREENSHOTS}")
