"""What assistive technology relies on, checked in Chromium on every page: every form
control has a label that points at it, no id is used twice, and a refused form puts the
focus where the problem is. Also the in-place updates' handling of any tag name."""
from __future__ import annotations

import re

import pytest

from myapp.services import projects, tasks

from support.browser import expect, sign_in
from support.pages import PASSWORD

pytestmark = pytest.mark.browser

UNLABELLED = """() => Array.from(document.querySelectorAll(
    'input:not([type=hidden]), select, textarea')).filter(control => control.labels.length === 0)
    .map(control => control.outerHTML.slice(0, 120))"""
REPEATED_IDS = """() => { const seen = new Map();
    document.querySelectorAll('[id]').forEach(element => seen.set(element.id, (seen.get(element.id) || 0) + 1));
    return Array.from(seen).filter(([, count]) => count > 1).map(([id]) => id); }"""


def test_every_form_control_on_every_page_has_a_label_and_no_id_is_repeated(open_page, make_user, sql):
    user = make_user("labels@example.com", PASSWORD)
    task = tasks.create_task(user.id, {"title": "Label me", "tags": ["x"], "completed": True})
    page = open_page(1280)
    for path in ("/", "/sign-in", "/sign-up"):
        page.goto(path)
        check_page(page, path)
    sign_in(page, user.email)
    project = projects.create_project(user.id, {"name": "Nested", "color": "purple"})
    root = tasks.create_task(user.id, {"title": "Root", "project_id": str(project.id)})
    tasks.create_task(user.id, {"title": "Child", "parent_id": str(root.id)})
    project_pages = (f"/projects/{project.id}", "/projects", "/projects/new", f"/projects/{project.id}/settings",
                     f"/projects/{project.id}/delete")
    for path in ("/", "/?status=completed", "/account", f"/tasks/{task.id}/edit", f"/tasks/{task.id}/delete",
                 "/tasks/clear-completed", *project_pages):
        page.goto(path)
        check_page(page, path)
    # The account page as it is when the password must be typed again for a token.
    sql("UPDATE sign_ins SET authenticated_at = now() - interval '1 hour'")
    page.goto("/account")
    expect(page.get_by_label("Your password").first).to_be_visible()
    check_page(page, "/account (token asks for the password)")
    # And clicking a label focuses its control.
    page.get_by_text("Time zone", exact=True).last.click()
    expect(page.locator("#timezone")).to_be_focused()


def check_page(page, where: str) -> None:
    assert page.evaluate(UNLABELLED) == [], f"controls without a label on {where}"
    assert page.evaluate(REPEATED_IDS) == [], f"ids used twice on {where}"


def test_a_refused_form_puts_the_focus_on_its_first_invalid_field(open_page, make_user):
    user = make_user("focus@example.com", PASSWORD)
    task = tasks.create_task(user.id, {"title": "Focus"})
    page = open_page(1280)
    sign_in(page, user.email, "not the password")
    expect(page.get_by_role("alert")).to_contain_text("Email or password is incorrect.")
    for label in ("Email", "Password"):
        assert page.get_by_label(label, exact=True).get_attribute("aria-invalid") == "true"
    expect(page.locator("#email")).to_be_focused()  # (waits for the page's script to have run)

    sign_in(page, user.email)
    page.goto(f"/tasks/{task.id}/edit")
    page.get_by_label("Title").fill("   ")
    page.get_by_role("button", name="Save changes").click()
    expect(page.locator("#title-error")).to_be_visible()
    expect(page.locator("#title")).to_be_focused()

    page.goto("/")
    form = page.get_by_role("form", name="Add a task")
    form.get_by_label("Title").fill("Bad tags")
    form.get_by_label("Tags").fill("not/valid")
    form.get_by_role("button", name="Add task").click()
    expect(page.locator("#tags-error")).to_be_visible()
    expect(page.locator("#tags")).to_be_focused()


@pytest.mark.parametrize("tag", ["constructor", "__proto__"])
def test_deleting_in_place_the_last_task_of_a_tag_named_like_an_object_property(open_page, make_user, tag):
    user = make_user(f"{tag.strip('_')}@example.com", PASSWORD)
    tasks.create_task(user.id, {"title": "Tagged", "tags": [tag]})
    tasks.create_task(user.id, {"title": "Kept", "tags": ["other"]})
    page = open_page(1280)
    sign_in(page, user.email)
    sidebar = page.locator(".sidebar-tags")
    expect(sidebar).to_contain_text(f"#{tag}")
    page.get_by_role("link", name="Delete “Tagged”").click()
    page.locator("#confirm-dialog-ok").click()
    expect(page.locator(".flash")).to_contain_text("Task deleted.")
    expect(sidebar).not_to_contain_text(f"#{tag}")
    expect(sidebar).not_to_contain_text(re.compile("function|native code"))
    expect(sidebar).to_contain_text("#other")
