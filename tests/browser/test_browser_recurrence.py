"""Recurring tasks in Chromium: made from the add box, completed, moved to the next date,
undone; and the Today and Upcoming views, screenshotted at desktop and phone widths."""
from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from myapp.services import tasks

from support.browser import expect, sign_in, task_row
from support.pages import PASSWORD

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("width", [1280, 375])
def test_a_recurring_task_is_made_completed_moved_on_and_undone(open_page, screenshots, make_user, sql, width):
    user = make_user(f"repeats-{width}@example.com", PASSWORD)
    page = open_page(width)
    sign_in(page, user.email)

    form = page.get_by_role("form", name="Add a task")
    form.get_by_label("Title").fill("Water the plants")
    form.get_by_label("Due date").fill("2030-01-07")
    form.get_by_label("Repeats").fill("every monday")
    form.get_by_role("button", name="Add task").click()
    expect(page.locator(".flash")).to_contain_text("Added “Water the plants”.")
    row = task_row(page, "Water the plants")
    expect(row.locator(".chip-repeat")).to_have_text(re.compile("every Monday"))
    expect(row.locator("time")).to_have_text("Due 7 Jan 2030")

    row.get_by_role("button", name="Mark as done: Water the plants").click()
    expect(page.locator(".flash")).to_contain_text("done for 7 Jan 2030; next due 14 Jan 2030")
    expect(task_row(page, "Water the plants").locator("time")).to_have_text("Due 14 Jan 2030")
    page.screenshot(path=screenshots / f"recurring-done-{width}.png", full_page=True, animations="disabled")
    assert sql("SELECT due_date::text, completed FROM tasks") == [("2030-01-14", False)]

    page.locator(".flash").get_by_role("button", name="Undo").click()
    expect(page.locator(".flash")).to_contain_text("is due 7 Jan 2030 again")
    expect(task_row(page, "Water the plants").locator("time")).to_have_text("Due 7 Jan 2030")
    assert sql("SELECT due_date::text FROM tasks") == [("2030-01-07",)]
    assert sql("SELECT count(*) FROM task_completions") == [(0,)]

    task_row(page, "Water the plants").get_by_role("link", name=re.compile("^Edit")).click()
    expect(page.get_by_label("Repeats")).to_have_value("every Monday")
    expect(page.locator(".schedule time")).to_have_count(5)
    page.get_by_role("button", name="Skip to the next date").click()
    expect(page.locator(".flash")).to_contain_text("skipped to 14 Jan 2030")


def test_today_and_upcoming_read_as_a_day_planner(open_page, screenshots, make_user, sql):
    user = make_user("planner@example.com", PASSWORD)
    sql("UPDATE users SET timezone = 'Europe/Paris' WHERE id = :id", id=user.id)
    today = datetime.now(ZoneInfo("Europe/Paris")).date()
    for title, days, at, phrase in (("Pay the electricity bill", -2, None, None),
                                    ("Stand-up", 0, "09:30", "every day"),
                                    ("Call the dentist", 0, None, None),
                                    ("Water the plants", 1, None, "every 3 days"),
                                    ("Team retro", 3, "15:00", "every other week"),
                                    ("Pay rent", 5, None, "every month on the 1st")):
        tasks.create_task(user.id, {"title": title, "due_date": (today + timedelta(days=days)).isoformat(),
                                    "due_time": at, "recurrence": {"text": phrase} if phrase else None},
                          "Europe/Paris")
    for width in (1280, 375):
        page = open_page(width)
        sign_in(page, user.email)
        page.goto("/?status=today")
        expect(page.locator("li.task")).to_have_count(3)
        expect(task_row(page, "Pay the electricity bill").locator("time")).to_contain_text("Overdue")
        page.screenshot(path=screenshots / f"today-{width}.png", full_page=True, animations="disabled")
        page.goto("/?status=upcoming")
        expect(page.locator(".day-heading").first).to_contain_text("Today")
        expect(page.locator(".day-heading").nth(1)).to_contain_text("Tomorrow")
        page.screenshot(path=screenshots / f"upcoming-{width}.png", full_page=True, animations="disabled")
