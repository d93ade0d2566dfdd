"""Projects and subtasks in the browser pages: the sidebar, a project's page with its
nested subtasks, adding subtasks, moving tasks between projects, project settings,
ordering, archiving and deleting; and another user's projects are 404 pages."""
from __future__ import annotations

import re

import pytest

from myapp.extensions import db
from myapp.services import projects, tasks

from support.pages import post, sign_in

pytestmark = pytest.mark.pooled


@pytest.fixture
def make_project():
    def make(owner, name: str, **fields):
        project = projects.create_project(owner.id, {"name": name, **fields})
        db.session.remove()
        return project

    return make


@pytest.fixture
def work(user, make_project):
    return make_project(user, "Work", color="blue")


def text_of(response) -> str:
    return response.get_data(as_text=True)


def test_the_sidebar_lists_the_inbox_and_projects_with_colour_and_active_count(signed_in, user, work, make_task):
    make_task(user, "in work", project_id=str(work.id))
    make_task(user, "done in work", project_id=str(work.id), completed=True)
    html = text_of(signed_in.get("/"))
    sidebar = html[html.index('class="sidebar-projects"'):html.index("</nav>", html.index('class="sidebar-projects"'))]
    assert sidebar.index(">Inbox<") < sidebar.index(">Work<")
    assert 'dot-blue' in sidebar
    assert re.search(r">Work</span>\s*<span class=\"count\">1<", sidebar)
    assert f'href="/projects/{work.id}"' in sidebar


def test_a_project_page_nests_subtasks_with_their_progress_and_a_box_to_add_one(signed_in, user, work, make_task):
    root = make_task(user, "Plan the launch", project_id=str(work.id))
    child = make_task(user, "Write the post", parent_id=str(root.id))
    make_task(user, "Book the room", parent_id=str(root.id), completed=True)
    make_task(user, "Draft", parent_id=str(child.id))
    make_task(user, "Elsewhere")  # in the Inbox: not on this page
    html = text_of(signed_in.get(f"/projects/{work.id}"))
    assert "<h1" in html and "Work</h1>" in html
    assert "Elsewhere" not in html
    assert html.index("Plan the launch") < html.index("Write the post") < html.index("Draft")
    assert '<details class="subtasks" open>' in html
    assert "1/2" in html  # Plan the launch: one of two subtasks done
    assert f'id="subtask-{root.id}"' in html
    assert f'<label class="field-label visually-hidden" for="subtask-{root.id}"' in html


def test_adding_a_subtask_from_the_project_page_puts_it_under_its_parent(signed_in, user, work, make_task, sql):
    root = make_task(user, "Plan the launch", project_id=str(work.id))
    here = f"/projects/{work.id}"
    response = post(signed_in, f"/projects/{work.id}/tasks", {"title": "Invite people", "parent_id": str(root.id),
                                                             "return_to": here})
    assert response.status_code == 302 and response.headers["Location"] == here
    assert sql("SELECT title, parent_id, project_id FROM tasks WHERE title = 'Invite people'") == \
        [("Invite people", root.id, work.id)]
    assert "1 subtask" in text_of(signed_in.get(f"/tasks/{root.id}/delete"))


def test_a_fifth_level_from_the_page_is_refused_with_a_message_and_nothing_added(signed_in, user, work, make_task,
                                                                                sql):
    parent = make_task(user, "1", project_id=str(work.id))
    for title in "234":
        parent = make_task(user, title, parent_id=str(parent.id))
    response = post(signed_in, f"/projects/{work.id}/tasks", {"title": "5", "parent_id": str(parent.id),
                                                             "return_to": f"/projects/{work.id}"},
                    follow_redirects=True)
    assert "The subtask was not added" in text_of(response)
    assert sql("SELECT count(*) FROM tasks")[0][0] == 4
    assert f'id="subtask-{parent.id}"' not in text_of(response)  # no box where no level is left


def test_the_project_add_box_adds_to_the_project_and_shows_errors_in_place(signed_in, work, sql):
    response = post(signed_in, f"/projects/{work.id}/tasks", {"title": "Ship it", "return_to": f"/projects/{work.id}"})
    assert response.status_code == 302
    assert sql("SELECT project_id FROM tasks") == [(work.id,)]
    refused = post(signed_in, f"/projects/{work.id}/tasks", {"title": "  ", "tags": "ok",
                                                            "return_to": f"/projects/{work.id}"})
    assert refused.status_code == 422
    assert "Title is required." in text_of(refused) and 'value="ok"' in text_of(refused)


def test_moving_a_task_to_another_project_from_its_edit_page(signed_in, user, work, make_task, sql):
    task = make_task(user, "Loose end")
    below = make_task(user, "Below it", parent_id=str(task.id))
    form = text_of(signed_in.get(f"/tasks/{task.id}/edit"))
    assert re.search(r'<select[^>]* name="project_id"', form) and ">Work</option>" in form
    response = post(signed_in, f"/tasks/{task.id}/edit", {"title": "Loose end", "priority": "none",
                                                          "project_id": str(work.id), "version": "1"})
    assert response.status_code == 302
    assert sql("SELECT project_id FROM tasks WHERE id IN (:a, :b)", a=task.id, b=below.id) == [(work.id,), (work.id,)]


def test_creating_renaming_and_recolouring_a_project(signed_in, user, sql):
    created = post(signed_in, "/projects/new", {"name": "Garden", "color": "green"})
    (project_id,) = sql("SELECT id FROM projects WHERE name = 'Garden'")[0]
    assert created.headers["Location"] == f"/projects/{project_id}"
    taken = post(signed_in, "/projects/new", {"name": "garden", "color": "green"})
    assert taken.status_code == 422 and projects.NAME_TAKEN in text_of(taken)
    saved = post(signed_in, f"/projects/{project_id}/settings", {"name": "Allotment", "color": "teal", "version": "1"})
    assert saved.status_code == 302
    assert sql("SELECT name, color FROM projects WHERE id = :id", id=project_id) == [("Allotment", "teal")]
    stale = post(signed_in, f"/projects/{project_id}/settings", {"name": "Mine", "color": "red", "version": "1"})
    assert stale.status_code == 409 and "changed while you were editing" in text_of(stale)
    assert sql("SELECT name FROM projects WHERE id = :id", id=project_id) == [("Allotment",)]


def test_the_inbox_settings_offer_no_rename_archive_or_delete(signed_in, user):
    inbox = projects.list_projects(user.id)[0]
    db.session.remove()
    html = text_of(signed_in.get(f"/projects/{inbox.id}/settings"))
    assert 'name="name"' not in html and "Archive" not in html and "Delete project" not in html
    assert post(signed_in, f"/projects/{inbox.id}/delete").status_code == 422
    assert post(signed_in, f"/projects/{inbox.id}/archive", {"archived": "true"}).status_code == 302
    assert not projects.get_project(user.id, inbox.id).archived


def test_move_up_and_down_reorders_the_projects_without_javascript(signed_in, user, make_project):
    make_project(user, "A")
    b = make_project(user, "B")
    assert post(signed_in, f"/projects/{b.id}/move", {"direction": "up"}).status_code == 302
    html = text_of(signed_in.get("/projects"))
    assert html.index(">B</a>") < html.index(">A</a>")
    assert post(signed_in, f"/projects/{b.id}/move", {"direction": "sideways"}).status_code == 400


def test_the_sidebar_escapes_names_and_its_tag_link_turns_that_filter_on_and_off(signed_in, user, make_project,
                                                                              make_task):
    project = make_project(user, "<script>alert(1)</script> & co")
    make_task(user, "Weed", tags=["garden"], project_id=str(project.id))
    html = text_of(signed_in.get(f"/projects/{project.id}"))
    sidebar = html[html.index('<aside class="sidebar">'):html.index("</aside>")]
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; co" in sidebar and "<script>alert" not in sidebar
    assert re.search(rf'href="/projects/{project.id}" aria-current="page">', sidebar)
    assert 'href="/?tag=garden">' in sidebar  # from a project page: the list of that tag
    listed = text_of(signed_in.get("/?tag=garden&status=active"))
    # On the list filtered by it, the tag's link turns the filter off and keeps the view.
    assert re.search(r'class="tag-link" href="/\?status=active" aria-current="true">\s*<span>#garden</span>', listed)


def test_archiving_hides_the_project_and_its_tasks_from_the_sidebar_and_views(signed_in, user, work, make_task):
    make_task(user, "Secret plan", project_id=str(work.id))
    post(signed_in, f"/projects/{work.id}/archive", {"archived": "true"})
    home = text_of(signed_in.get("/"))
    assert "Secret plan" not in home and f'href="/projects/{work.id}"' not in home
    assert "Secret plan" in text_of(signed_in.get(f"/projects/{work.id}"))
    assert "archived" in text_of(signed_in.get("/projects"))
    post(signed_in, f"/projects/{work.id}/archive", {"archived": "false"})
    assert "Secret plan" in text_of(signed_in.get("/"))


def test_deleting_a_project_says_how_many_tasks_first_and_can_move_them(signed_in, user, work, make_project,
                                                                        make_task, sql):
    keep = make_project(user, "Keep")
    root = make_task(user, "One", project_id=str(work.id))
    make_task(user, "Two", parent_id=str(root.id))
    confirm = text_of(signed_in.get(f"/projects/{work.id}/delete"))
    assert "2 tasks" in confirm and f'value="{keep.id}"' in confirm
    response = post(signed_in, f"/projects/{work.id}/delete", {"move_to": str(keep.id)})
    assert response.status_code == 302
    assert sql("SELECT DISTINCT project_id FROM tasks") == [(keep.id,)]
    post(signed_in, f"/projects/{keep.id}/delete", {"move_to": ""})
    assert sql("SELECT count(*) FROM tasks")[0][0] == 0


@pytest.mark.parametrize("method, path", [
    ("get", "/projects/{id}"), ("get", "/projects/{id}/settings"), ("post", "/projects/{id}/settings"),
    ("post", "/projects/{id}/move"), ("post", "/projects/{id}/archive"), ("get", "/projects/{id}/delete"),
    ("post", "/projects/{id}/delete"), ("post", "/projects/{id}/tasks"),
])
def test_another_users_project_is_a_404_page_and_stays_unchanged(client, user, other_user, work, sql, method, path):
    sign_in(client, other_user.email)
    path = path.format(id=work.id)
    if method == "post":
        response = post(client, path, {"name": "hijacked", "color": "red", "version": "1", "direction": "up",
                                       "archived": "true", "title": "planted"})
    else:
        response = client.get(path)
    assert response.status_code == 404
    assert "Work" not in text_of(response)
    assert sql("SELECT name, color, archived, version FROM projects WHERE id = :id", id=work.id) == \
        [("Work", "blue", False, 1)]
    assert sql("SELECT count(*) FROM tasks")[0][0] == 0


def test_another_users_parent_or_project_cannot_be_used_from_a_form(signed_in, user, other_user, make_task, sql):
    theirs = make_task(other_user, "Bob's")
    mine = make_task(user, "Mine")
    others_project = projects.list_projects(other_user.id)[0]
    db.session.remove()
    post(signed_in, f"/projects/{projects.list_projects(user.id)[0].id}/tasks",
         {"title": "sneaky", "parent_id": str(theirs.id), "return_to": "/"})
    response = post(signed_in, f"/tasks/{mine.id}/edit", {"title": "Mine", "priority": "none",
                                                          "project_id": str(others_project.id), "version": "1"})
    assert response.status_code == 422 and "Project not found." in text_of(response)
    assert sql("SELECT title FROM tasks WHERE user_id = :u", u=user.id) == [("Mine",)]
    assert tasks.get_task(other_user.id, theirs.id).subtask_count == 0


def test_today_and_upcoming_views_in_the_sidebar_with_upcoming_grouped_by_day(signed_in, user, make_task):
    from datetime import timedelta

    from myapp.pages.display import friendly_date
    from myapp.services.timezones import today_in

    today = today_in(user.timezone)
    make_task(user, "Late", due_date=(today - timedelta(days=1)).isoformat())
    make_task(user, "Now", due_date=today.isoformat())
    make_task(user, "Soon", due_date=(today + timedelta(days=2)).isoformat())
    make_task(user, "Later", due_date=(today + timedelta(days=20)).isoformat())
    home = text_of(signed_in.get("/"))
    assert 'href="/?status=today"' in home and 'href="/?status=upcoming"' in home
    today_view = text_of(signed_in.get("/?status=today"))
    assert today_view.index("Late") < today_view.index("Now") and "Soon" not in today_view
    upcoming = text_of(signed_in.get("/?status=upcoming"))
    assert "Late" not in upcoming and "Later" not in upcoming
    soon = today + timedelta(days=2)
    headings = re.findall(r'<h2 class="day-heading" id="day-([0-9-]+)">([^<]+)<', upcoming)
    assert headings == [(today.isoformat(), "Today"), (soon.isoformat(), friendly_date(soon, today))]
    assert upcoming.index("Now") < upcoming.index(f'id="day-{soon.isoformat()}"') < upcoming.index("Soon")
