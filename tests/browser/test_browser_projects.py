"""Projects and subtasks in Chromium: making a project, nesting subtasks, completing a
tree, moving a task, archiving and deleting, at desktop and 320 px phone widths, with
the keyboard alone and without JavaScript."""
from __future__ import annotations

import re

import pytest

from myapp.services import projects, tasks

from support.browser import assert_fits, expect, sign_in, task_row
from support.pages import PASSWORD

pytestmark = pytest.mark.browser


def add_subtask(page, parent: str, title: str):
    parent_row = task_row(page, parent)
    parent_row.locator(":scope > .add-subtask > summary").click()
    page.get_by_label(f"New subtask of “{parent}”", exact=True).fill(title)
    parent_row.locator(":scope > .add-subtask").get_by_role("button", name="Add").click()
    expect(page.locator(".flash")).to_contain_text(f"Added “{title}”.")


@pytest.mark.parametrize("width", [1280, 320])
def test_a_user_organises_a_project_with_subtasks(open_page, screenshots, make_user, sql, width):
    user = make_user(f"projects-{width}@example.com", PASSWORD)
    page = open_page(width)
    checks = [assert_fits] if width < 400 else []
    sign_in(page, user.email)

    page.get_by_role("link", name="New project").click()
    page.get_by_label("Name").fill("Garden")
    page.get_by_label("Colour").select_option("green")
    page.get_by_role("button", name="Create project").click()
    expect(page.locator(".flash")).to_contain_text("Created the project “Garden”.")
    expect(page.get_by_role("heading", name="Garden")).to_be_visible()
    for check in checks:
        check(page)

    form = page.get_by_role("form", name="Add a task to Garden")
    form.get_by_label("Title").fill("Plant the beds")
    form.get_by_role("button", name="Add task").click()
    expect(page.locator(".flash")).to_contain_text("Added “Plant the beds”.")
    add_subtask(page, "Plant the beds", "Buy seeds")
    add_subtask(page, "Plant the beds", "Dig")
    add_subtask(page, "Buy seeds", "Tomatoes")
    root = task_row(page, "Plant the beds")
    expect(root.locator(":scope > .task-body .chip-progress")).to_contain_text("0/2")
    expect(task_row(page, "Tomatoes")).to_be_visible()
    sidebar_link = page.locator(".sidebar-projects").get_by_role("link", name=re.compile("^Garden"))
    expect(sidebar_link).to_contain_text("4")  # four active tasks
    for check in checks:
        check(page)
    page.screenshot(path=screenshots / f"project-{width}.png", full_page=True, animations="disabled")

    # Collapsing hides the subtasks; completing the root completes the whole tree.
    root.locator(":scope > .subtasks > summary").click()
    expect(task_row(page, "Dig")).to_be_hidden()
    root.locator(":scope > .subtasks > summary").click()
    root.get_by_role("button", name="Mark as done: Plant the beds").click()
    expect(task_row(page, "Tomatoes")).to_have_class(re.compile(r"\bis-done\b"))
    expect(task_row(page, "Dig")).to_have_class(re.compile(r"\bis-done\b"))
    # Reopening a subtask reopens what is above it.
    task_row(page, "Tomatoes").get_by_role("button", name="Mark as not done: Tomatoes").click()
    expect(task_row(page, "Buy seeds")).not_to_have_class(re.compile(r"\bis-done\b"))
    expect(task_row(page, "Plant the beds")).not_to_have_class(re.compile(r"\bis-done\b"))
    expect(task_row(page, "Dig")).to_have_class(re.compile(r"\bis-done\b"))

    # Move "Buy seeds" (with its subtask) to the Inbox from its edit page.
    task_row(page, "Buy seeds").locator(":scope > .task-body .task-title").click()
    page.get_by_label("Project").select_option(label="Inbox")
    page.screenshot(path=screenshots / f"edit-project-{width}.png", full_page=True, animations="disabled")
    page.get_by_role("button", name="Save changes").click()
    expect(page.locator(".flash")).to_contain_text("Saved “Buy seeds”.")
    assert sql("SELECT p.name FROM tasks t JOIN projects p ON p.id = t.project_id WHERE t.title = 'Tomatoes'") == \
        [("Inbox",)]

    # Settings: archive, then delete with its count said first.
    page.goto("/projects")
    page.get_by_role("link", name="Settings of “Garden”").click()
    page.screenshot(path=screenshots / f"project-settings-{width}.png", full_page=True, animations="disabled")
    page.get_by_role("button", name="Archive").click()
    expect(page.locator(".flash")).to_contain_text("Archived “Garden”")
    expect(page.locator(".sidebar-projects").get_by_role("link", name=re.compile("^Garden"))).to_have_count(0)
    page.goto("/projects")
    for check in checks:
        check(page)
    page.screenshot(path=screenshots / f"projects-{width}.png", full_page=True, animations="disabled")
    page.get_by_role("link", name="Settings of “Garden”").click()
    page.get_by_role("link", name="Delete project…").click()
    expect(page.get_by_text("It holds 2 tasks")).to_be_visible()
    for check in checks:
        check(page)
    page.screenshot(path=screenshots / f"delete-project-{width}.png", full_page=True, animations="disabled")
    page.get_by_role("button", name="Delete project").click()
    expect(page.locator(".flash")).to_contain_text("Deleted the project “Garden”.")
    assert sql("SELECT title FROM tasks WHERE user_id = :u ORDER BY title", u=user.id) == [("Buy seeds",),
                                                                                           ("Tomatoes",)]


def test_adding_a_subtask_with_the_keyboard_alone(open_page, make_user):
    user = make_user("keys-projects@example.com", PASSWORD)
    inbox = projects.list_projects(user.id)[0]
    tasks.create_task(user.id, {"title": "Pack for the trip"})
    page = open_page(1280)
    sign_in(page, user.email)
    page.goto(f"/projects/{inbox.id}")
    for _ in range(60):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.tagName === 'SUMMARY' && "
                         "document.activeElement.textContent.includes('Add subtask')"):
            break
    else:
        raise AssertionError("Tab never reached “Add subtask”")
    page.keyboard.press("Enter")  # opens the box
    page.keyboard.press("Tab")
    page.keyboard.type("Passport")
    page.keyboard.press("Enter")
    expect(page.locator(".flash")).to_contain_text("Added “Passport”.")
    expect(task_row(page, "Pack for the trip").locator(":scope > .task-body .chip-progress")).to_contain_text("0/1")


def test_projects_work_without_javascript(open_page, make_user, sql):
    user = make_user("nojs-projects@example.com", PASSWORD)
    first = projects.create_project(user.id, {"name": "First"})
    projects.create_project(user.id, {"name": "Second"})
    root = tasks.create_task(user.id, {"title": "Root", "project_id": str(first.id)})
    page = open_page(1280, java_script_enabled=False)
    sign_in(page, user.email)
    page.goto(f"/projects/{first.id}")
    add_subtask(page, "Root", "Step one")
    task_row(page, "Step one").get_by_role("button", name="Mark as done: Step one").click()
    expect(task_row(page, "Root").locator(":scope > .task-body .chip-progress")).to_contain_text("1/1")
    page.goto("/projects")
    page.get_by_role("button", name="Move up “Second”").click()
    expect(page.locator(".flash")).to_contain_text("Moved “Second” up.")
    assert [p.name for p in projects.list_projects(user.id)] == ["Inbox", "Second", "First"]
    assert sql("SELECT parent_id FROM tasks WHERE title = 'Step one'") == [(root.id,)]
