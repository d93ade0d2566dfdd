"""Due times and recurring tasks on the pages: adding one, completing it (once, however
often the form is sent), Undo, Skip, the edit page's rule in words and next dates, and
another user's task staying a 404."""
from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from myapp.services import projects, tasks
from myapp.services.timezones import today_in

from support.pages import post

pytestmark = pytest.mark.pooled


def text_of(response) -> str:
    return response.get_data(as_text=True)


@pytest.fixture
def plants(user, make_task):
    return make_task(user, "Water the plants", due_date="2030-01-07", recurrence={"text": "every monday"})


def stored(sql, task_id):
    (row,) = sql("SELECT due_date, completed, version FROM tasks WHERE id = :id", id=task_id)
    return row


def test_a_task_added_with_a_phrase_repeats_and_shows_it(signed_in, user, sql):
    response = post(signed_in, "/tasks", {"title": "Pay rent", "due_date": "2030-01-01", "due_time": "09:30",
                                          "recurrence": "every month on the 1st", "priority": "none"},
                    follow_redirects=True)
    assert response.status_code == 200
    assert sql("SELECT recurrence_rule, due_time::text FROM tasks") == [("FREQ=MONTHLY;BYMONTHDAY=1", "09:30:00")]
    html = text_of(response)
    assert "every 1st" in html and 'datetime="2030-01-01T09:30"' in html and "09:30" in html


def test_a_phrase_not_understood_is_shown_on_its_field_and_nothing_is_added(signed_in, sql):
    response = post(signed_in, "/tasks", {"title": "Pay rent", "recurrence": "every blursday", "priority": "none"})
    assert response.status_code == 422
    assert "is not understood" in text_of(response)
    assert sql("SELECT count(*) FROM tasks")[0][0] == 0


def test_completing_moves_it_on_once_and_undo_brings_it_back(signed_in, plants, sql):
    form = {"completed": "true", "occurrence": "2030-01-07", "return_to": "/"}
    response = post(signed_in, f"/tasks/{plants.id}/toggle", form, follow_redirects=True)
    html = text_of(response)
    assert "done for 7 Jan 2030; next due 14 Jan 2030" in html
    assert stored(sql, plants.id) == (date(2030, 1, 14), False, 2)
    post(signed_in, f"/tasks/{plants.id}/toggle", form)  # the same form again: that date is done already
    assert stored(sql, plants.id) == (date(2030, 1, 14), False, 2)
    assert sql("SELECT due_date FROM task_completions") == [(date(2030, 1, 7),)]

    undo = re.search(r'action="(/tasks/[^"]+/undo)".*?name="version" value="(\d+)"', html, re.S)
    assert undo and undo.group(2) == "2"
    back = post(signed_in, undo.group(1), {"version": undo.group(2), "return_to": "/"}, follow_redirects=True)
    assert "due 7 Jan 2030 again" in text_of(back)
    assert stored(sql, plants.id)[:2] == (date(2030, 1, 7), False)
    assert sql("SELECT count(*) FROM task_completions")[0][0] == 0


def test_undo_after_a_later_change_changes_nothing(signed_in, user, plants, sql):
    post(signed_in, f"/tasks/{plants.id}/toggle", {"completed": "true", "occurrence": "2030-01-07"})
    tasks.update_task(user.id, plants.id, {"priority": "high"})
    response = post(signed_in, f"/tasks/{plants.id}/undo", {"version": "2"}, follow_redirects=True)
    assert "has changed since it was done" in text_of(response)
    assert stored(sql, plants.id)[0] == date(2030, 1, 14)
    assert post(signed_in, f"/tasks/{plants.id}/undo", {"version": "x"}).status_code == 400


def test_the_edit_page_says_the_rule_and_the_next_five_dates(signed_in, plants):
    html = text_of(signed_in.get(f"/tasks/{plants.id}/edit"))
    assert 'value="every Monday"' in html
    assert re.findall(r'<time datetime="(2030-\d\d-\d\d)"', html) == [
        "2030-01-07", "2030-01-14", "2030-01-21", "2030-01-28", "2030-02-04"]
    assert "Skip to the next date" in html


def test_saving_the_edit_page_keeps_the_schedule_unless_its_phrase_changed(signed_in, plants, sql):
    fields = {"title": "Water the plants", "due_date": "2030-01-07", "recurrence": "every Monday",
              "recurrence_shown": "every Monday", "priority": "high", "version": "1", "project_id": ""}
    assert post(signed_in, f"/tasks/{plants.id}/edit", fields).status_code == 302
    assert sql("SELECT recurrence_rule, priority FROM tasks") == [("FREQ=WEEKLY;BYDAY=MO", "high")]
    changed = {**fields, "recurrence": "every 3rd friday", "version": "2"}
    assert post(signed_in, f"/tasks/{plants.id}/edit", changed).status_code == 302
    assert sql("SELECT recurrence_rule, due_date FROM tasks") == [("FREQ=MONTHLY;BYDAY=3FR", date(2030, 1, 18))]
    stopped = {**changed, "recurrence": "", "recurrence_shown": "every 3rd Friday", "version": "3"}
    assert post(signed_in, f"/tasks/{plants.id}/edit", stopped).status_code == 302
    assert sql("SELECT recurrence_rule FROM tasks") == [(None,)]


def test_skip_on_the_edit_page_moves_to_the_next_date(signed_in, plants, sql):
    response = post(signed_in, f"/tasks/{plants.id}/skip", {"return_to": "/"}, follow_redirects=True)
    assert "skipped to 14 Jan 2030" in text_of(response)
    assert stored(sql, plants.id)[0] == date(2030, 1, 14)
    assert sql("SELECT count(*) FROM task_completions")[0][0] == 0


def test_another_users_recurring_task_is_a_404_page(signed_in, other_user, make_task, sql):
    theirs = make_task(other_user, "Theirs", due_date="2030-01-07", recurrence={"text": "every monday"})
    for action, data in (("toggle", {"completed": "true", "occurrence": "2030-01-07"}), ("skip", {}),
                         ("undo", {"version": "1"})):
        assert post(signed_in, f"/tasks/{theirs.id}/{action}", data).status_code == 404, action
    assert signed_in.get(f"/tasks/{theirs.id}/edit").status_code == 404
    assert stored(sql, theirs.id) == (date(2030, 1, 7), False, 1)


def test_today_shows_a_time_passed_as_overdue_and_upcoming_names_the_days(signed_in, user, make_task):
    today = today_in(user.timezone)
    make_task(user, "Early call", due_date=today.isoformat(), due_time="00:00")
    make_task(user, "Later this week", due_date=(today + timedelta(days=3)).isoformat())
    html = text_of(signed_in.get("/?status=today"))
    assert "Overdue · today 00:00" in html
    upcoming = text_of(signed_in.get("/?status=upcoming"))
    assert f"{today + timedelta(days=3):%A}" in upcoming


def test_the_add_box_reads_a_whole_line_and_says_what_it_understood(signed_in, user, sql):
    projects.create_project(user.id, {"name": "Home"})
    response = post(signed_in, "/tasks", {"title": "Pay rent every month on the 1st #home @bills p1 #Nowhere",
                                          "priority": "none"}, follow_redirects=True)
    html = text_of(response)
    assert "Added “Pay rent #Nowhere” (every month on the 1st, #home, @bills, p1)." in html
    assert "No project is called “Nowhere”" in html
    (row,) = sql("SELECT t.title, p.name, t.tags, t.priority, t.recurrence_rule FROM tasks t "
                 "JOIN projects p ON p.id = t.project_id")
    assert row == ("Pay rent #Nowhere", "Home", ["bills"], "high", "FREQ=MONTHLY;BYMONTHDAY=1")


def test_the_detailed_fields_win_over_the_line(signed_in, sql):
    post(signed_in, "/tasks", {"title": "Call Ana tomorrow p3 @phone", "due_date": "2030-05-05", "priority": "high",
                               "tags": "calls"})
    assert sql("SELECT title, due_date, priority, tags FROM tasks") == [
        ("Call Ana", date(2030, 5, 5), "high", ["calls", "phone"])]


def test_an_oversize_title_in_the_add_box_is_refused_without_being_read_as_a_line(signed_in, sql):
    response = post(signed_in, "/tasks", {"title": "every " * 5000, "priority": "none"})
    assert response.status_code == 422 and "at most 255 characters" in text_of(response)
    assert sql("SELECT count(*) FROM tasks")[0][0] == 0


def test_the_project_pages_add_box_reads_its_line_too(signed_in, user, sql):
    home = projects.create_project(user.id, {"name": "Home"})
    post(signed_in, f"/projects/{home.id}/tasks", {"title": "Water plants every 3 days @garden p2",
                                                   "priority": "none"})
    assert sql("SELECT t.title, p.name, t.tags, t.priority, t.recurrence_rule FROM tasks t "
               "JOIN projects p ON p.id = t.project_id") == [
        ("Water plants", "Home", ["garden"], "medium", "FREQ=DAILY;INTERVAL=3")]
