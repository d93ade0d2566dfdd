"""Helpers for the Chromium tests (tests/browser)."""
from __future__ import annotations

import re

from support.pages import PASSWORD


def expect(*args):
    """Playwright's expect, imported when a browser test runs (the other lanes lack it)."""
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(*args)


def sign_in(page, email: str, password: str = PASSWORD):
    page.goto("/sign-in")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in").click()


def assert_fits(page):
    """No sideways scrolling at this width."""
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{page.url} scrolls sideways by {overflow}px"


def task_row(page, title: str):
    """The row of the task with exactly this title (its own title, not a subtask's)."""
    return page.locator("li.task", has=page.locator(":scope > .task-body .task-title",
                                                    has_text=re.compile(f"^{title}$")))
