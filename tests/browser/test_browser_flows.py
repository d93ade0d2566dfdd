"""A person using the app in Chromium: signing up, managing tasks, at desktop and phone widths."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest

from myapp.services import tasks

from support.browser import assert_fits, expect
from support.pages import PASSWORD

pytestmark = pytest.mark.browser

ZONE = "Europe/Paris"  # the browser's time zone; sign-up picks it up


def titles(page) -> list[str]:
    return page.locator(".task-list .task-title").all_inner_texts()


def row(page, title: str):
    return page.locator(".task-list .task", has=page.locator(".task-title", has_text=re.compile(f"^{title}$")))


def add_task(page, title: str, due: str, priority: str, tags: str):
    form = page.get_by_role("form", name="Add a task")
    form.get_by_label("Title").fill(title)
    form.get_by_label("Due date").fill(due)
    form.get_by_label("Priority").select_option(priority)
    form.get_by_label("Tags").fill(tags)
    form.get_by_role("button", name="Add task").click()
    expect(page.locator(".flash")).to_contain_text(f"Added “{title}”.")


def sign_in(page, email: str):
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


@pytest.mark.parametrize("width", [1280, 375])
def test_a_new_user_manages_tasks_and_finds_them_again_after_signing_in(open_page, screenshots, sql, width):
    page = open_page(width)
    page.context.clear_cookies()
    checks = [assert_fits] if width < 400 else []

    def check():
        for run in checks:
            run(page)

    page.goto("/")
    check()
    page.screenshot(path=screenshots / f"landing-{width}.png", full_page=True, animations="disabled")
    page.get_by_role("link", name="Create a free account").click()
    page.get_by_label("Email").fill(f"new-{width}@example.com")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    expect(page.get_by_label("Time zone")).to_have_value(ZONE)
    check()
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("heading", name="All tasks")).to_be_visible()
    expect(page.get_by_text("No tasks yet")).to_be_visible()
    check()
    assert sql("SELECT timezone FROM users") == [(ZONE,)]

    today = tasks.today_in(ZONE)
    add_task(page, "Pay the rent", (today - timedelta(days=1)).isoformat(), "high", "home, money")
    add_task(page, "Book dentist", today.isoformat(), "medium", "health")
    add_task(page, "Draft the quarterly report", (today + timedelta(days=9)).isoformat(), "low", "work")
    assert titles(page) == ["Draft the quarterly report", "Book dentist", "Pay the rent"]
    expect(row(page, "Pay the rent")).to_have_class(re.compile(r"\bis-overdue\b"))
    expect(row(page, "Book dentist")).to_have_class(re.compile(r"\bis-today\b"))
    check()

    # Toggle: in place, no page load.
    page.evaluate("window.stillTheSamePage = true")
    row(page, "Book dentist").get_by_role("button", name="Mark as done: Book dentist").click()
    expect(row(page, "Book dentist")).to_have_class(re.compile(r"\bis-done\b"))
    expect(page.locator(".summary")).to_have_text(re.compile(r"2 active\s+· 1 completed"))
    expect(page.locator("#flashes")).to_contain_text("“Book dentist” is done.")
    assert page.evaluate("window.stillTheSamePage") is True
    check()
    page.screenshot(path=screenshots / f"task-list-{width}.png", full_page=True, animations="disabled")

    # Edit.
    row(page, "Draft the quarterly report").get_by_role("link", name="Edit “Draft the quarterly report”").click()
    expect(page.get_by_role("heading", name="Edit task")).to_be_visible()
    check()
    page.screenshot(path=screenshots / f"edit-{width}.png", full_page=True, animations="disabled")
    page.get_by_label("Title").fill("Send the quarterly report")
    page.get_by_label("Description").fill("Numbers from finance first.")
    page.get_by_role("button", name="Save changes").click()
    expect(page.locator(".flash")).to_contain_text("Saved “Send the quarterly report”.")
    expect(row(page, "Send the quarterly report")).to_contain_text("Numbers from finance first.")

    # Filter, then search.
    page.get_by_role("navigation", name="Task views").get_by_role("link", name=re.compile("^Active")).click()
    assert titles(page) == ["Send the quarterly report", "Pay the rent"]
    search = page.get_by_role("search")
    search.get_by_label("Tag").select_option("home")
    search.get_by_role("button", name="Apply").click()
    assert titles(page) == ["Pay the rent"]
    check()
    page.get_by_role("link", name="Clear filters").click()
    search.get_by_label("Search").fill("quarter")
    search.get_by_label("Search").press("Enter")
    assert titles(page) == ["Send the quarterly report"]
    page.get_by_role("navigation", name="Task views").get_by_role("link", name=re.compile("^All")).click()
    page.get_by_role("link", name="Clear filters").click()
    assert titles(page) == ["Send the quarterly report", "Book dentist", "Pay the rent"]

    # Delete after confirming, in place.
    page.evaluate("window.stillTheSamePage = true")
    row(page, "Pay the rent").get_by_role("link", name="Delete “Pay the rent”").click()
    dialog = page.locator("dialog#confirm-dialog")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("Delete “Pay the rent”?")
    check()
    page.screenshot(path=screenshots / f"confirm-delete-{width}.png", animations="disabled")
    dialog.get_by_role("button", name="Delete task").click()
    expect(row(page, "Pay the rent")).to_have_count(0)
    expect(page.locator("#flashes")).to_contain_text("Task deleted.")
    expect(page.locator(".summary")).to_have_text(re.compile(r"1 active\s+· 1 completed"))
    if width >= 900:  # the sidebar's tags: #home and #money went with the task
        expect(page.locator("[data-tag-count]")).to_have_count(2)
    assert page.evaluate("window.stillTheSamePage") is True

    page.get_by_role("link", name="Account").click()
    expect(page.get_by_role("heading", name="Account", exact=True)).to_be_visible()
    check()
    page.screenshot(path=screenshots / f"account-{width}.png", full_page=True, animations="disabled")

    # Sign out, sign in again: the same state.
    page.get_by_role("button", name="Sign out", exact=True).click()
    expect(page.locator(".flash")).to_contain_text("You are signed out.")
    page.get_by_role("navigation", name="Account").get_by_role("link", name="Sign in").click()
    check()
    page.screenshot(path=screenshots / f"sign-in-{width}.png", full_page=True, animations="disabled")
    sign_in(page, f"new-{width}@example.com")
    expect(page.get_by_role("heading", name="All tasks")).to_be_visible()
    assert titles(page) == ["Send the quarterly report", "Book dentist"]
    expect(row(page, "Book dentist")).to_have_class(re.compile(r"\bis-done\b"))
    expect(row(page, "Send the quarterly report")).not_to_have_class(re.compile(r"\bis-done\b"))
    check()


def test_adding_and_toggling_a_task_with_the_keyboard_alone(open_page, make_user):
    user = make_user("keys@example.com", PASSWORD)
    page = open_page(1280)
    page.goto("/sign-in")
    sign_in(page, user.email)
    expect(page.get_by_role("heading", name="All tasks")).to_be_visible()

    def tab_to(condition: str):
        for _ in range(40):
            page.keyboard.press("Tab")
            if page.evaluate(f"(element => {condition})(document.activeElement)"):
                assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") != "none"
                return
        raise AssertionError(f"Tab never reached an element where {condition}")

    tab_to("element.name === 'title'")
    page.keyboard.type("Call the plumber")
    page.keyboard.press("Enter")
    expect(page.locator(".flash")).to_contain_text("Added “Call the plumber”.")

    tab_to("element.classList.contains('check')")
    page.keyboard.press("Space")
    expect(row(page, "Call the plumber")).to_have_class(re.compile(r"\bis-done\b"))
    assert page.evaluate("document.activeElement.classList.contains('check')"), "focus stays on the toggle"
    page.keyboard.press("Enter")
    expect(row(page, "Call the plumber")).not_to_have_class(re.compile(r"\bis-done\b"))


def test_with_javascript_off_every_action_still_works(open_page, make_user):
    user = make_user("nojs@example.com", PASSWORD)
    page = open_page(1280, java_script_enabled=False)
    page.goto("/sign-in")
    sign_in(page, user.email)
    add_task(page, "Sort the post", tasks.today_in(ZONE).isoformat(), "medium", "home")
    add_task(page, "Recycle boxes", "", "none", "")
    row(page, "Sort the post").get_by_role("button", name="Mark as done: Sort the post").click()
    expect(page.locator(".flash")).to_contain_text("“Sort the post” is done.")
    expect(row(page, "Sort the post")).to_have_class(re.compile(r"\bis-done\b"))

    row(page, "Recycle boxes").get_by_role("link", name="Delete “Recycle boxes”").click()
    expect(page.get_by_role("heading", name="Delete this task?")).to_be_visible()
    page.get_by_role("button", name="Delete task").click()
    expect(page.locator(".flash")).to_contain_text("Task deleted.")
    assert titles(page) == ["Sort the post"]

    page.get_by_role("link", name=re.compile("^Clear completed")).click()
    page.get_by_role("button", name="Clear completed").click()
    expect(page.locator(".flash")).to_contain_text("Cleared 1 completed task.")
    expect(page.get_by_text("No tasks yet")).to_be_visible()
    page.get_by_role("button", name="Sign out", exact=True).click()
    expect(page.locator(".flash")).to_contain_text("You are signed out.")


def test_no_page_logs_a_console_error(open_page, make_user, console_errors):
    user = make_user("pages@example.com", PASSWORD)
    task = tasks.create_task(user.id, {"title": "Look around", "tags": ["tour"], "due_date": "2020-02-02",
                                       "priority": "high"})
    tasks.create_task(user.id, {"title": "Finished", "completed": True})
    page = open_page(1280)
    for path in ("/", "/sign-up", "/no-such-page", "/sign-in"):
        page.goto(path)
    sign_in(page, user.email)
    for path in ("/", "/?status=overdue", "/?q=nothing", f"/tasks/{task.id}/edit", f"/tasks/{task.id}/delete",
                 "/tasks/clear-completed", "/account", "/no-such-page"):
        page.goto(path)
        page.wait_for_load_state("load")
    page.goto("/account")
    page.get_by_label("Name").fill("laptop")
    page.get_by_role("button", name="Create token").click()
    expect(page.locator(".token-created")).to_be_visible()
    page.goto("/")
    page.get_by_role("form", name="Add a task").get_by_label("Tags").fill("not/valid")
    page.get_by_role("form", name="Add a task").get_by_label("Title").fill("Bad tags")
    page.get_by_role("button", name="Add task").click()
    expect(page.locator("#tags-error")).to_be_visible()
    assert console_errors.problems() == []
    assert any("404" in text for text, _ in console_errors.messages), "the 404 page's status was seen and excused"
