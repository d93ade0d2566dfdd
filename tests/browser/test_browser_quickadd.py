"""Quick add and the keyboard in Chromium: a line typed in the add box is highlighted by the
server's parser as one types (an unknown #project pointed out), then submitted and found
with its fields; the keys move, complete and edit, and never fire while typing."""
from __future__ import annotations

import re

import pytest

from myapp.services import projects, tasks

from support.browser import expect, sign_in
from support.pages import PASSWORD

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("width", [1280, 375])
def test_a_line_is_highlighted_as_it_is_typed_then_added_with_its_fields(open_page, screenshots, make_user, sql,
                                                                         width):
    user = make_user(f"quick-{width}@example.com", PASSWORD)
    projects.create_project(user.id, {"name": "Home"})
    page = open_page(width)
    sign_in(page, user.email)
    box = page.get_by_role("form", name="Add a task").get_by_label("Title")
    box.press_sequentially("Pay rent every month on the 1st #Home @bills p1 #Garage", delay=5)
    preview = page.locator("#quick-preview")
    expect(preview.locator("mark")).to_have_count(4)
    expect(preview.locator("mark.part-recurrence")).to_have_text("every month on the 1st")
    expect(preview.locator("mark.part-project")).to_have_text("#Home")
    expect(preview.locator("mark.part-tag")).to_have_text("@bills")
    expect(preview.locator("mark.part-priority")).to_have_text("p1")
    expect(preview.locator(".quick-warning")).to_contain_text("No project is called “Garage”")
    page.screenshot(path=screenshots / f"quick-add-{width}.png", full_page=False, animations="disabled")
    box.press("Enter")
    expect(page.locator(".flash").first).to_contain_text("Added “Pay rent #Garage”")
    assert sql("SELECT t.title, p.name, t.tags, t.priority, t.recurrence_rule FROM tasks t "
               "JOIN projects p ON p.id = t.project_id") == [
        ("Pay rent #Garage", "Home", ["bills"], "high", "FREQ=MONTHLY;BYMONTHDAY=1")]


def test_the_keys_move_complete_and_edit_and_wait_while_typing(open_page, make_user, sql):
    user = make_user("keys@example.com", PASSWORD)
    for title in ("First", "Second", "Third"):
        tasks.create_task(user.id, {"title": title})
    page = open_page()
    sign_in(page, user.email)
    expect(page.locator("li.task")).to_have_count(3)
    page.wait_for_load_state()
    page.keyboard.press("q")
    expect(page.get_by_role("form", name="Add a task").get_by_label("Title")).to_be_focused()
    page.keyboard.type("jjx")  # typed into the box: no key fires
    expect(page.get_by_role("form", name="Add a task").get_by_label("Title")).to_have_value("jjx")
    page.keyboard.press("Escape")
    page.locator("body").click(position={"x": 5, "y": 5})
    page.keyboard.press("j")
    expect(page.locator("li.task").nth(0)).to_be_focused()  # newest first: Third
    page.keyboard.press("j")
    expect(page.locator("li.task").nth(1)).to_be_focused()
    page.keyboard.press("x")
    expect(page.locator(".flash")).to_contain_text("“Second” is done.")
    assert sql("SELECT title FROM tasks WHERE completed") == [("Second",)]
    page.locator("body").click(position={"x": 5, "y": 5})
    page.keyboard.press("?")
    expect(page.get_by_role("dialog", name="Keyboard")).to_be_visible()
    page.keyboard.press("Escape")
    page.keyboard.press("/")
    expect(page.get_by_role("searchbox", name="Search")).to_be_focused()
    page.locator("body").click(position={"x": 5, "y": 5})
    page.keyboard.press("k")
    page.keyboard.press("e")
    expect(page).to_have_url(re.compile(r"/tasks/[0-9a-f-]+/edit"))
