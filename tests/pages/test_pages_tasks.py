"""The task list (home page) and every task action, through the test client."""
from __future__ import annotations

import re
from datetime import timedelta
from html import unescape
from urllib.parse import urlsplit

import pytest

from myapp.extensions import db
from myapp.services import tasks

from support.pages import PASSWORD, post, sign_in
from support.sql import recorded_statements

JSON = {"Accept": "application/json", "X-Requested-With": "fetch"}


def titles(html: str) -> list[str]:
    """The task titles of a list page, in order."""
    return [unescape(title) for title in re.findall(r'class="task-title"[^>]*>([^<]*)</a>', html)]


def link(html: str, rel: str) -> str:
    return unescape(re.search(rf'rel="{rel}" href="([^"]+)"', html).group(1))


def task_row(html: str, task_id) -> str:
    pattern = rf'<li class="[^"]*" id="task-{task_id}"[^>]*>.*?</li>\s*(?=<li class="task|</ul>)'
    return re.search(pattern, html, re.S).group(0)


# The list --------------------------------------------------------------------------

def test_a_newcomer_sees_an_empty_state_that_says_what_to_do(signed_in):
    html = signed_in.get("/").get_data(as_text=True)
    assert "No tasks yet" in html and "press <kbd>Enter</kbd>" in html
    assert 'name="title"' in html


def test_the_list_shows_tasks_counts_and_tags(signed_in, user, make_task):
    make_task(user, "Buy milk", tags=["home"])
    make_task(user, "File taxes", tags=["home", "money"], completed=True)
    html = signed_in.get("/").get_data(as_text=True)
    assert titles(html) == ["File taxes", "Buy milk"]
    assert '<span class="count" data-count="active">1</span>' in html
    assert '<span class="count" data-count="completed">1</span>' in html
    assert '<span class="count" data-count="total">2</span>' in html
    assert '<span>#home</span><span class="count" data-tag-count="home">2</span>' in html


HOSTILE_TITLE, HOSTILE_DESCRIPTION = "<script>alert(1)</script>", "<img src=x onerror=alert(2)>"


def assert_escaped(html: str, where: str = "the list") -> None:
    assert "<script>alert(1)" not in html and "<img src=x" not in html, where
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html, where


def test_task_text_is_always_escaped_in_the_list(signed_in, user, make_task):
    make_task(user, HOSTILE_TITLE, description=HOSTILE_DESCRIPTION, tags=["x"])
    html = signed_in.get("/").get_data(as_text=True)
    assert_escaped(html)
    assert "&lt;img src=x onerror=alert(2)&gt;" in html


def test_task_text_is_escaped_on_every_page_that_shows_it(signed_in, user, make_task, sql):
    task = make_task(user, HOSTILE_TITLE, description=HOSTILE_DESCRIPTION)
    pages = {
        "edit": signed_in.get(f"/tasks/{task.id}/edit"),
        "confirm delete": signed_in.get(f"/tasks/{task.id}/delete"),
        "toggled in place": post(signed_in, f"/tasks/{task.id}/toggle", {"completed": "true"}, headers=JSON),
    }
    sql("UPDATE tasks SET title = title || ' (changed elsewhere)'")  # the edit form now meets a conflict
    pages["edit conflict"] = post(signed_in, f"/tasks/{task.id}/edit", {
        "title": "mine", "description": "", "priority": "none", "tags": "", "version": "1"})
    assert pages["edit conflict"].status_code == 409
    for name, response in pages.items():
        html = response.get_json()["html"] if response.is_json else response.get_data(as_text=True)
        assert_escaped(html, name)
        if name in ("edit", "edit conflict"):
            assert "&lt;img src=x onerror=alert(2)&gt;" in html, name
    flash = signed_in.get("/").get_data(as_text=True)  # the flash message names the task too
    assert "<script>alert(1)" not in flash


def test_overdue_and_due_today_stand_out_in_the_users_time_zone(signed_in, user, make_task, sql):
    sql("UPDATE users SET timezone = 'Pacific/Kiritimati' WHERE id = :id", id=user.id)
    today = tasks.today_in("Pacific/Kiritimati")
    due_today = make_task(user, "Due today", due_date=today.isoformat())
    overdue = make_task(user, "Overdue", due_date=(today - timedelta(days=1)).isoformat())
    done = make_task(user, "Done late", due_date=(today - timedelta(days=3)).isoformat(), completed=True)
    later = make_task(user, "Later", due_date=(today + timedelta(days=30)).isoformat())
    html = signed_in.get("/").get_data(as_text=True)
    assert 'class="task is-today' in task_row(html, due_today.id) and "Due today" in task_row(html, due_today.id)
    assert 'class="task is-overdue' in task_row(html, overdue.id)
    assert "Overdue · yesterday" in task_row(html, overdue.id)
    assert 'class="task is-done priority-none"' in task_row(html, done.id)
    assert 'class="task priority-none"' in task_row(html, later.id)


# Adding -----------------------------------------------------------------------------

def test_adding_a_task_with_every_field_saves_it_and_returns_to_the_list(signed_in, user, sql):
    response = post(signed_in, "/tasks", {
        "title": "  Plan the offsite ", "description": "Venue, agenda", "due_date": "2030-05-01",
        "priority": "high", "tags": "work, Planning  #q3", "return_to": "/?status=active&tag=work"})
    assert response.status_code == 302
    assert response.headers["Location"] == "/?status=active&tag=work"
    [row] = sql("SELECT title, description, due_date::text, priority, tags FROM tasks")
    assert tuple(row) == ("Plan the offsite", "Venue, agenda", "2030-05-01", "high", ["work", "planning", "q3"])
    assert "Added “Plan the offsite”." in signed_in.get(response.headers["Location"]).get_data(as_text=True)


def test_a_blank_title_is_shown_next_to_the_field_with_the_other_input_kept(signed_in, sql):
    response = post(signed_in, "/tasks", {"title": "   ", "description": "keep me", "due_date": "2030-05-01",
                                          "priority": "medium", "tags": "work home", "return_to": "/?status=active"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="title-error">Title is required.' in html
    assert "keep me</textarea>" in html
    assert 'value="2030-05-01"' in html and 'value="work home"' in html
    assert '<option selected value="medium">' in html
    assert '<input type="hidden" name="return_to" value="/?status=active">' in html
    assert sql("SELECT count(*) FROM tasks") == [(0,)]


@pytest.mark.parametrize("field, value, message", [
    ("tags", "work, not/valid", "Each tag must be 1 to 32 letters, digits, '-' or '_'."),
    ("due_date", "31/12/2030", "Use a date like 2026-12-31 (YYYY-MM-DD)."),
    ("title", "x" * 256, "Title must be at most 255 characters."),
])
def test_each_invalid_field_is_explained_next_to_it_and_kept(signed_in, sql, field, value, message):
    data = {"title": "Valid", "priority": "none", field: value}
    response = post(signed_in, "/tasks", data)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert f'id="{field}-error">{message}' in unescape(html)
    assert value in html
    assert sql("SELECT count(*) FROM tasks") == [(0,)]


# Toggling ---------------------------------------------------------------------------

def test_toggling_marks_done_and_returns_to_the_same_list(signed_in, task, sql):
    response = post(signed_in, f"/tasks/{task.id}/toggle", {"return_to": "/?status=active&q=report"})
    assert response.status_code == 302
    assert response.headers["Location"] == "/?status=active&q=report"
    assert sql("SELECT completed FROM tasks") == [(True,)]
    post(signed_in, f"/tasks/{task.id}/toggle")
    assert sql("SELECT completed FROM tasks") == [(False,)]


def test_the_toggle_form_asks_for_a_state_so_a_double_submit_does_not_undo_it(signed_in, task, sql):
    html = signed_in.get("/").get_data(as_text=True)
    assert '<input type="hidden" name="completed" value="true">' in html
    for _ in range(2):  # the same form sent twice (a double click without JavaScript, a second tab)
        post(signed_in, f"/tasks/{task.id}/toggle", {"completed": "true"})
    assert sql("SELECT completed, version FROM tasks") == [(True, 2)]
    assert '<input type="hidden" name="completed" value="false">' in signed_in.get("/").get_data(as_text=True)
    post(signed_in, f"/tasks/{task.id}/toggle", {"completed": "false"})
    assert sql("SELECT completed FROM tasks") == [(False,)]


def test_a_toggle_asking_for_an_unknown_state_is_refused(signed_in, task, sql):
    assert post(signed_in, f"/tasks/{task.id}/toggle", {"completed": "maybe"}).status_code == 400
    assert sql("SELECT completed, version FROM tasks") == [(False, 1)]


def test_toggling_another_users_task_by_state_is_not_found(signed_in, other_user, make_task, sql):
    theirs = make_task(other_user, "Bob's")
    assert post(signed_in, f"/tasks/{theirs.id}/toggle", {"completed": "true"}).status_code == 404
    assert sql("SELECT completed FROM tasks") == [(False,)]


def test_toggling_from_a_script_answers_json_with_the_new_row_and_counts(signed_in, task):
    response = post(signed_in, f"/tasks/{task.id}/toggle", {"return_to": "/?tag=work"}, headers=JSON)
    assert response.status_code == 200
    body = response.get_json()
    assert body["completed"] is True
    assert body["counts"] == {"active": 0, "completed": 1, "total": 1}
    assert body["message"] == "“Write the report” is done."
    assert f'id="task-{task.id}"' in body["html"] and "is-done" in body["html"]
    assert 'name="return_to" value="/?tag=work"' in body["html"]


def test_a_toggle_deep_in_a_filtered_second_page_comes_back_to_the_same_place(signed_in, user, make_task, sql):
    for n in range(25):
        make_task(user, f"work {n:02}", tags=["work"])
    make_task(user, "home chore", tags=["home"])
    make_task(user, "finished work", tags=["work"], completed=True)
    first = signed_in.get("/?status=active&tag=work").get_data(as_text=True)
    page_two = link(first, "next")
    assert urlsplit(page_two).path == "/" and "cursor=" in page_two
    html = signed_in.get(page_two).get_data(as_text=True)
    assert len(titles(html)) == 5
    target = re.search(r'action="/tasks/([0-9a-f-]+)/toggle"', html).group(1)
    return_to = unescape(re.search(r'name="return_to" value="([^"]+)"', html).group(1))
    assert return_to == page_two
    response = post(signed_in, f"/tasks/{target}/toggle", {"return_to": return_to})
    assert response.headers["Location"] == page_two
    assert sql("SELECT completed FROM tasks WHERE id = :id", id=target) == [(True,)]
    after = signed_in.get(response.headers["Location"]).get_data(as_text=True)
    assert len(titles(after)) == 4 and 'rel="prev"' in after


@pytest.mark.parametrize("target", ["//evil.example/", "https://evil.example/", "/\\evil.example", "javascript:x"])
def test_an_action_never_redirects_off_the_site(signed_in, task, target):
    response = post(signed_in, f"/tasks/{task.id}/toggle", {"return_to": target})
    assert response.headers["Location"] == "/"


# Editing ----------------------------------------------------------------------------

def test_the_edit_page_shows_the_task_with_its_version(signed_in, task):
    html = signed_in.get(f"/tasks/{task.id}/edit?return_to=/%3Fstatus%3Dactive").get_data(as_text=True)
    assert 'value="Write the report"' in html and 'value="work"' in html
    assert '<option selected value="high">' in html
    assert '<input type="hidden" name="version" value="1">' in html
    assert 'href="/?status=active">Cancel</a>' in html


def test_saving_an_edit_changes_the_task_and_returns_to_the_list(signed_in, task, sql):
    response = post(signed_in, f"/tasks/{task.id}/edit", {
        "title": "Write the final report", "description": "", "due_date": "2031-01-02", "priority": "low",
        "tags": "", "completed": "y", "version": "1", "return_to": "/?sort=title"})
    assert response.status_code == 302 and response.headers["Location"] == "/?sort=title"
    [row] = sql("SELECT title, description, due_date::text, priority, tags, completed, version FROM tasks")
    assert tuple(row) == ("Write the final report", None, "2031-01-02", "low", [], True, 2)


def test_an_invalid_edit_is_shown_next_to_the_field_and_nothing_is_saved(signed_in, task, sql):
    response = post(signed_in, f"/tasks/{task.id}/edit", {
        "title": "", "description": "new words", "priority": "high", "tags": "work", "version": "1"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="title-error">Title is required.' in html
    assert "new words</textarea>" in html
    assert sql("SELECT title, version FROM tasks") == [("Write the report", 1)]


def test_an_edit_of_a_task_changed_meanwhile_overwrites_nothing_and_shows_both(signed_in, user, task, sql):
    tasks.update_task(user.id, task.id, {"title": "Renamed elsewhere", "tags": ["elsewhere"]})
    db.session.remove()
    response = post(signed_in, f"/tasks/{task.id}/edit", {
        "title": "My new title", "description": "my words", "priority": "low", "tags": "mine", "version": "1"})
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert "This task was changed while you were editing it" in html
    assert "<dd>Renamed elsewhere</dd>" in html and "<dd>elsewhere</dd>" in html
    assert 'value="My new title"' in html and "my words</textarea>" in html and 'value="mine"' in html
    assert '<input type="hidden" name="version" value="2">' in html
    assert sql("SELECT title, tags, version FROM tasks") == [("Renamed elsewhere", ["elsewhere"], 2)]
    again = post(signed_in, f"/tasks/{task.id}/edit", {
        "title": "My new title", "description": "my words", "priority": "low", "tags": "mine", "version": "2"})
    assert again.status_code == 302
    assert sql("SELECT title, version FROM tasks") == [("My new title", 3)]


@pytest.mark.parametrize("version", [None, "", "abc", "0", "-1", "99999999999", "1" * 5000])
def test_an_edit_without_a_usable_version_is_refused(signed_in, task, sql, version):
    data = {"title": "No version", "priority": "none"} | ({"version": version} if version is not None else {})
    response = post(signed_in, f"/tasks/{task.id}/edit", data)
    assert response.status_code == 400
    assert "missing the task's version" in unescape(response.get_data(as_text=True))
    assert sql("SELECT title FROM tasks") == [("Write the report",)]


# Deleting and clearing --------------------------------------------------------------

def test_deleting_asks_for_confirmation_first(signed_in, task, sql):
    response = signed_in.get(f"/tasks/{task.id}/delete?return_to=/%3Ftag%3Dwork")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Delete this task?" in html and "Write the report" in html
    assert f'action="/tasks/{task.id}/delete"' in html and 'name="return_to" value="/?tag=work"' in html
    assert sql("SELECT count(*) FROM tasks") == [(1,)]


def test_confirming_deletes_the_task_and_returns_to_the_list(signed_in, task, sql):
    response = post(signed_in, f"/tasks/{task.id}/delete", {"return_to": "/?tag=work"})
    assert response.status_code == 302 and response.headers["Location"] == "/?tag=work"
    assert sql("SELECT count(*) FROM tasks") == [(0,)]
    assert "Task deleted." in signed_in.get("/").get_data(as_text=True)


def test_deleting_from_a_script_answers_json_with_the_counts(signed_in, user, task, make_task):
    make_task(user, "Another", tags=["home"])
    response = post(signed_in, f"/tasks/{task.id}/delete", headers=JSON)
    assert response.get_json() == {"message": "Task deleted.", "counts": {"active": 1, "completed": 0, "total": 1},
                                   "tags": {"home": 1}}


def test_clearing_completed_asks_first_then_deletes_only_completed_tasks(signed_in, user, make_task, sql):
    make_task(user, "open")
    make_task(user, "done 1", completed=True)
    make_task(user, "done 2", completed=True)
    html = signed_in.get("/tasks/clear-completed?return_to=/%3Fstatus%3Dcompleted").get_data(as_text=True)
    assert "Clear 2 completed tasks?" in html
    response = post(signed_in, "/tasks/clear-completed", {"return_to": "/?status=completed"})
    assert response.headers["Location"] == "/?status=completed"
    assert sql("SELECT title FROM tasks") == [("open",)]
    assert "Cleared 2 completed tasks." in signed_in.get("/").get_data(as_text=True)


# Filters, search, sorts, paging ------------------------------------------------------

@pytest.fixture
def mixed(user, make_task):
    today = tasks.today_in("UTC")
    make_task(user, "Alpha report", priority="low", tags=["work"], due_date=(today - timedelta(days=2)).isoformat())
    make_task(user, "Bravo groceries", priority="high", tags=["home"], due_date=(today + timedelta(days=1)).isoformat())
    make_task(user, "Charlie reporting", priority="medium", tags=["work"], completed=True)
    make_task(user, "Delta taxes", description="the annual report", tags=["home", "money"])


@pytest.mark.parametrize("query, expected", [
    ("", ["Delta taxes", "Charlie reporting", "Bravo groceries", "Alpha report"]),
    ("?status=active", ["Delta taxes", "Bravo groceries", "Alpha report"]),
    ("?status=completed", ["Charlie reporting"]),
    ("?status=overdue", ["Alpha report"]),
    ("?q=report", ["Delta taxes", "Charlie reporting", "Alpha report"]),
    ("?tag=home", ["Delta taxes", "Bravo groceries"]),
    ("?priority=high", ["Bravo groceries"]),
    ("?status=active&tag=work&q=rep", ["Alpha report"]),
    ("?sort=oldest", ["Alpha report", "Bravo groceries", "Charlie reporting", "Delta taxes"]),
    ("?sort=title", ["Alpha report", "Bravo groceries", "Charlie reporting", "Delta taxes"]),
    ("?sort=priority", ["Bravo groceries", "Charlie reporting", "Alpha report", "Delta taxes"]),
    ("?sort=due", ["Alpha report", "Bravo groceries", "Charlie reporting", "Delta taxes"]),
])
def test_filters_search_and_sorts(signed_in, mixed, query, expected):
    assert titles(signed_in.get("/" + query).get_data(as_text=True)) == expected


def test_the_filter_form_shows_the_current_choices(signed_in, mixed):
    html = signed_in.get("/?status=active&q=rep&tag=work&priority=low&sort=due").get_data(as_text=True)
    assert 'name="q" value="rep"' in html
    assert '<option value="work" selected>' in html
    assert '<option value="low" selected>' in html and '<option value="due" selected>' in html
    assert '<input type="hidden" name="status" value="active">' in html
    assert re.search(r'href="/\?status=active&amp;[^"]*" aria-current="page">\s*<span>Active</span>', html)


def test_a_search_with_no_match_says_so(signed_in, mixed):
    html = signed_in.get("/?q=zebra").get_data(as_text=True)
    assert "No tasks match" in html and titles(html) == []


def test_a_bad_filter_in_the_url_is_dropped_with_a_message(signed_in, mixed):
    response = signed_in.get("/?status=someday&tag=work")
    assert response.status_code == 302 and response.headers["Location"] == "/?tag=work"
    assert "Input should be" in signed_in.get("/?tag=work").get_data(as_text=True)


def test_an_outdated_cursor_starts_again_from_the_first_page(signed_in, mixed):
    response = signed_in.get("/?sort=title&cursor=bm90LWEtY3Vyc29y")
    assert response.status_code == 302 and response.headers["Location"] == "/?sort=title"


def test_next_and_previous_pages_walk_the_list(signed_in, user, make_task):
    for n in range(45):
        make_task(user, f"task {n:02}")
    first = signed_in.get("/?sort=title").get_data(as_text=True)
    assert titles(first) == [f"task {n:02}" for n in range(20)] and 'rel="prev"' not in first
    second = signed_in.get(link(first, "next")).get_data(as_text=True)
    assert titles(second) == [f"task {n:02}" for n in range(20, 40)]
    third = signed_in.get(link(second, "next")).get_data(as_text=True)
    assert titles(third) == [f"task {n:02}" for n in range(40, 45)] and 'rel="next"' not in third
    back = signed_in.get(link(third, "prev")).get_data(as_text=True)
    assert titles(back) == titles(second)


def test_the_list_runs_the_same_few_statements_for_3_or_45_tasks_on_any_page(app, signed_in, user, make_user,
                                                                           make_task):
    def statements(path: str) -> int:
        db.session.remove()
        with recorded_statements(db.engine) as executed:
            assert signed_in.get(path).status_code == 200
        return len(executed)

    for n in range(3):
        make_task(user, f"few {n}", tags=["a", "b"], due_date="2030-01-01")
    few = statements("/?status=active&sort=due")
    for n in range(42):
        make_task(user, f"many {n}", tags=[f"t{n % 10}", "a"], priority="high")
    many = statements("/?status=active&sort=due")
    second_page = link(signed_in.get("/?status=active&sort=due").get_data(as_text=True), "next")
    assert few == many == statements(second_page)
    assert many <= 6


# Who may do what ---------------------------------------------------------------------

@pytest.mark.parametrize("method, path", [
    ("post", "/tasks"), ("get", "/tasks/{id}/edit"), ("post", "/tasks/{id}/edit"), ("post", "/tasks/{id}/toggle"),
    ("get", "/tasks/{id}/delete"), ("post", "/tasks/{id}/delete"), ("get", "/tasks/clear-completed"),
    ("post", "/tasks/clear-completed"),
])
def test_signed_out_visitors_are_sent_to_sign_in(client, task, sql, method, path):
    path = path.format(id=task.id)
    if method == "post":
        response = post(client, path, {"title": "sneaky", "version": "1", "priority": "none"})
    else:
        response = client.get(path)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/sign-in?next=")
    assert sql("SELECT title, completed FROM tasks") == [("Write the report", False)]


def test_a_form_posted_after_the_session_ended_comes_back_to_its_page_after_signing_in(client, user, task, sql):
    response = post(client, f"/tasks/{task.id}/toggle", {"return_to": "/?status=active&tag=work"})
    assert response.headers["Location"] == "/sign-in?next=/?status%3Dactive%26tag%3Dwork"
    assert "Sign in to see your tasks." in client.get(response.headers["Location"]).get_data(as_text=True)
    signed_in = post(client, response.headers["Location"], {"email": user.email, "password": PASSWORD})
    assert signed_in.headers["Location"] == "/?status=active&tag=work"
    assert sql("SELECT completed FROM tasks") == [(False,)]


@pytest.mark.parametrize("method, path", [
    ("get", "/tasks/{id}/edit"), ("post", "/tasks/{id}/edit"), ("post", "/tasks/{id}/toggle"),
    ("get", "/tasks/{id}/delete"), ("post", "/tasks/{id}/delete"),
])
def test_another_users_task_is_a_404_page_and_stays_unchanged(client, other_user, task, sql, method, path):
    sign_in(client, other_user.email)
    path = path.format(id=task.id)
    if method == "post":
        response = post(client, path, {"title": "hijacked", "version": "1", "priority": "none"}, headers=JSON)
    else:
        response = client.get(path)
    assert response.status_code == 404
    html = response.get_data(as_text=True)
    assert "Page not found" in html and '<link rel="stylesheet"' in html
    assert "Write the report" not in html
    assert sql("SELECT title, completed, version FROM tasks") == [("Write the report", False, 1)]


def test_a_malformed_task_id_is_a_404_page(signed_in):
    assert signed_in.get("/tasks/not-a-uuid/edit").status_code == 404


def test_clearing_completed_leaves_other_users_tasks_alone(signed_in, other_user, make_task, sql):
    make_task(other_user, "Bob's done", completed=True)
    post(signed_in, "/tasks/clear-completed")
    assert sql("SELECT title FROM tasks") == [("Bob's done",)]


@pytest.mark.parametrize("path, data", [
    ("/tasks", {"title": "no token", "priority": "none"}),
    ("/tasks/{id}/toggle", {}),
    ("/tasks/{id}/edit", {"title": "no token", "priority": "none", "version": "1"}),
    ("/tasks/{id}/delete", {}),
    ("/tasks/clear-completed", {}),
])
def test_task_forms_without_a_csrf_token_are_refused_and_change_nothing(signed_in, user, task, make_task, sql,
                                                                        path, data):
    make_task(user, "done", completed=True)
    response = signed_in.post(path.format(id=task.id), data=data)
    assert response.status_code == 400
    assert "This form has expired" in response.get_data(as_text=True)
    assert sql("SELECT title, completed, version FROM tasks ORDER BY title") == [
        ("Write the report", False, 1), ("done", True, 1)]
