"""Round trips to PostgreSQL per request, counted on the wire (support.wire), pings,
BEGIN, SET and ROLLBACK included: an authenticated API read costs at most 3, a page at
most 4, a write at most 4; and the count does not grow with the number of tasks or tags.
"""
from __future__ import annotations

import pytest

from myapp.extensions import db
from myapp.services import projects, tasks, tokens

from support.pages import PASSWORD, csrf_token, sign_in
from support.wire import round_trips

pytestmark = pytest.mark.pooled

API_READ_BUDGET = 3
PAGE_BUDGET = 4
WRITE_BUDGET = 4


def add_tasks(user_id, count: int, tags_each: int) -> list:
    return [tasks.create_task(user_id, {"title": f"task {n}", "tags": [f"tag{t}" for t in range(tags_each)],
                                        "due_date": "2026-01-01" if n % 2 else None, "priority": "high"})
            for n in range(count)]


def trips_for(client, method: str, path: str, **kwargs) -> int:
    """Round trips of the second of two identical requests (the first records a token's or
    a sign-in's last use, which happens at most once a minute)."""
    db.session.remove()
    client.open(path, method=method, **kwargs)
    db.session.remove()
    with round_trips(db.engine) as trips:
        response = client.open(path, method=method, **kwargs)
    assert response.status_code < 400, (path, response.status_code)
    return trips.count


@pytest.fixture
def few_and_many(make_user):
    few, many = make_user(password=PASSWORD), make_user(password=PASSWORD)
    add_tasks(few.id, 2, tags_each=1)
    add_tasks(many.id, 60, tags_each=10)
    return few, many


@pytest.mark.parametrize("path", ["/", "/?status=active&sort=priority", "/?tag=tag1&sort=due", "/account"])
def test_a_page_costs_the_same_few_round_trips_for_2_or_60_tasks(app, new_client, few_and_many, path):
    counts = []
    for user in few_and_many:
        browser = new_client()
        assert sign_in(browser, user.email).status_code == 302
        counts.append(trips_for(browser, "GET", path))
    assert counts[0] == counts[1], counts
    assert counts[1] <= PAGE_BUDGET


@pytest.mark.parametrize("query", ["", "?sort=title&limit=200", "?status=overdue&sort=due", "?tag=tag3",
                                   "?q=task&priority=high"])
def test_the_list_api_costs_the_same_few_round_trips_for_2_or_60_tasks(app, client, few_and_many, query):
    counts = []
    for user in few_and_many:
        _, secret = tokens.create_token(user.id, "counting")
        counts.append(trips_for(client, "GET", f"/api/v1/tasks{query}", headers={"Authorization": f"Bearer {secret}"}))
    assert counts[0] == counts[1], counts
    assert counts[1] <= API_READ_BUDGET


@pytest.mark.parametrize("path", ["/api/v1/tasks/{id}", "/api/v1/tags", "/api/v1/me"])
def test_every_api_read_stays_within_its_budget(app, client, few_and_many, path):
    _, many = few_and_many
    _, secret = tokens.create_token(many.id, "counting")
    task = tasks.list_tasks(many.id, {"limit": "1"}).items[0]
    headers = {"Authorization": f"Bearer {secret}"}
    assert trips_for(client, "GET", path.format(id=task.id), headers=headers) <= API_READ_BUDGET


def test_an_api_read_with_the_browser_session_stays_within_its_budget(app, client, few_and_many):
    few, _ = few_and_many
    assert sign_in(client, few.email).status_code == 302
    assert trips_for(client, "GET", "/api/v1/tasks") <= API_READ_BUDGET


@pytest.mark.parametrize(("method", "path", "body", "headers"), [
    ("POST", "/api/v1/tasks", {"title": "new", "tags": ["a", "b"]}, {}),
    ("POST", "/api/v1/tasks", {"title": "keyed"}, {"Idempotency-Key": "key-1"}),
    ("PATCH", "/api/v1/tasks/{id}", {"title": "renamed", "tags": ["x"]}, {}),
    ("PATCH", "/api/v1/tasks/{id}", {"priority": "low"}, {"If-Match": "*"}),
    ("POST", "/api/v1/tasks/{id}/toggle", None, {}),
    ("DELETE", "/api/v1/tasks/{id}", None, {}),
])
def test_every_api_write_stays_within_its_budget(app, client, few_and_many, method, path, body, headers):
    _, many = few_and_many
    _, secret = tokens.create_token(many.id, "counting")
    first, second = add_tasks(many.id, 2, tags_each=2)
    db.session.remove()
    headers = {"Authorization": f"Bearer {secret}", **headers}
    client.get("/api/v1/me", headers=headers)  # last use recorded: not part of what is counted
    db.session.remove()
    with round_trips(db.engine) as trips:
        response = client.open(path.format(id=first.id), method=method, json=body, headers=headers)
    assert response.status_code < 400, response.json
    assert trips.count <= WRITE_BUDGET, trips.messages


@pytest.mark.parametrize(("path", "data"), [
    ("/tasks", {"title": "from the page", "tags": "a b"}),
    ("/tasks/{id}/toggle", {}),
    ("/tasks/{id}/delete", {}),
])
def test_every_page_write_stays_within_its_budget(app, client, few_and_many, path, data):
    few, _ = few_and_many
    assert sign_in(client, few.email).status_code == 302
    task = tasks.list_tasks(few.id, {"limit": "1"}).items[0]
    token = csrf_token(client)
    db.session.remove()
    with round_trips(db.engine) as trips:
        response = client.post(path.format(id=task.id), data={"csrf_token": token, **data})
    assert response.status_code == 302
    assert trips.count <= WRITE_BUDGET, trips.messages


# --- projects and subtasks -------------------------------------------------------------------

PROJECT_PAGE_BUDGET = PAGE_BUDGET + 1  # the sidebar of projects: one more at most


def add_projects_with_subtasks(user_id, project_count: int, roots_each: int) -> list:
    """Projects, each with root tasks holding three levels of subtasks."""
    made = []
    for n in range(project_count):
        project = projects.create_project(user_id, {"name": f"project {n}", "color": "teal"})
        for r in range(roots_each):
            parent = tasks.create_task(user_id, {"title": f"root {r}", "project_id": str(project.id)})
            for level in range(3):
                parent = tasks.create_task(user_id, {"title": f"level {level}", "parent_id": str(parent.id),
                                                     "completed": level == 2})
        made.append(project)
    return made


@pytest.fixture
def small_and_large_trees(make_user):
    small, large = make_user(password=PASSWORD), make_user(password=PASSWORD)
    small_projects = add_projects_with_subtasks(small.id, 1, roots_each=1)
    large_projects = add_projects_with_subtasks(large.id, 12, roots_each=1)
    for r in range(15):  # a long first project: many roots, each with its subtree
        parent = tasks.create_task(large.id, {"title": f"more {r}", "project_id": str(large_projects[0].id)})
        tasks.create_task(large.id, {"title": "below", "parent_id": str(parent.id)})
    db.session.remove()
    return (small, small_projects[0]), (large, large_projects[0])


@pytest.mark.parametrize("path", ["/projects/{id}", "/", "/projects"])
def test_the_project_pages_cost_the_same_few_round_trips_for_any_number_of_projects_and_subtasks(
        app, new_client, small_and_large_trees, path):
    counts = []
    for user, project in small_and_large_trees:
        browser = new_client()
        assert sign_in(browser, user.email).status_code == 302
        counts.append(trips_for(browser, "GET", path.format(id=project.id)))
    assert counts[0] == counts[1], counts
    assert counts[1] <= PROJECT_PAGE_BUDGET


@pytest.mark.parametrize("path", ["/api/v1/projects", "/api/v1/projects/{id}", "/api/v1/tasks?project_id={id}",
                                  "/api/v1/tasks?parent_id=none"])
def test_project_api_reads_stay_within_the_api_read_budget(app, client, small_and_large_trees, path):
    counts = []
    for user, project in small_and_large_trees:
        _, secret = tokens.create_token(user.id, "counting")
        counts.append(trips_for(client, "GET", path.format(id=project.id),
                                headers={"Authorization": f"Bearer {secret}"}))
    assert counts[0] == counts[1], counts
    assert counts[1] <= API_READ_BUDGET


@pytest.mark.parametrize("field", ["parent_id", "project_id"])
def test_moving_a_task_stays_within_the_write_budget(app, client, small_and_large_trees, field):
    (user, project), _ = small_and_large_trees
    _, secret = tokens.create_token(user.id, "counting")
    task = tasks.create_task(user.id, {"title": "to move"})
    target = tasks.list_tasks(user.id, {"project_id": str(project.id), "parent_id": "none"}).items[0]
    db.session.remove()
    headers = {"Authorization": f"Bearer {secret}"}
    client.get("/api/v1/me", headers=headers)  # last use recorded: not part of what is counted
    db.session.remove()
    with round_trips(db.engine) as trips:
        response = client.patch(f"/api/v1/tasks/{task.id}", headers=headers,
                                json={field: str(target.id if field == "parent_id" else project.id)})
    assert response.status_code == 200, response.json
    assert trips.count <= WRITE_BUDGET, trips.messages


# --- recurring tasks and the calendar feed ---------------------------------------------------

@pytest.mark.parametrize(("method", "action", "body"), [
    ("POST", "toggle", None),
    ("POST", "skip", None),
    ("PATCH", "", {"completed": True}),
])
def test_moving_a_recurring_task_on_stays_within_the_write_budget(app, client, make_user, method, action, body):
    user = make_user(password=PASSWORD)
    task = tasks.create_task(user.id, {"title": "repeats", "due_date": "2030-01-07",
                                       "recurrence": {"text": "every monday"}})
    for n in range(3):  # subtasks to reopen
        tasks.set_completed(user.id, tasks.create_task(user.id, {"title": f"sub {n}", "parent_id": str(task.id)}).id,
                            True)
    _, secret = tokens.create_token(user.id, "counting")
    headers = {"Authorization": f"Bearer {secret}"}
    client.get("/api/v1/me", headers=headers)
    db.session.remove()
    with round_trips(db.engine) as trips:
        response = client.open(f"/api/v1/tasks/{task.id}/{action}".rstrip("/"), method=method, json=body,
                               headers=headers)
    assert response.status_code == 200, response.json
    assert response.json["due_date"] == "2030-01-14"
    assert trips.count <= WRITE_BUDGET, trips.messages


@pytest.mark.parametrize("path", ["/api/v1/tasks/{id}/completions", "/api/v1/tasks/{id}/occurrences?limit=50"])
def test_the_schedule_reads_stay_within_the_api_read_budget(app, client, make_user, path):
    user = make_user(password=PASSWORD)
    task = tasks.create_task(user.id, {"title": "repeats", "due_date": "2030-01-07",
                                       "recurrence": {"text": "every day"}})
    for _ in range(20):
        task = tasks.toggle_task(user.id, task.id)
    _, secret = tokens.create_token(user.id, "counting")
    assert trips_for(client, "GET", path.format(id=task.id),
                     headers={"Authorization": f"Bearer {secret}"}) <= API_READ_BUDGET


def test_the_calendar_feed_costs_two_round_trips_for_any_number_of_tasks(app, new_client, make_user):
    from myapp.services import calendar_feed

    counts = []
    for count in (2, 60):
        user = make_user(password=PASSWORD)
        add_tasks(user.id, count, tags_each=2)
        secret = calendar_feed.regenerate(user.id)
        db.session.remove()
        counts.append(trips_for(new_client(), "GET", f"/calendar/{secret}.ics"))
    assert counts == [2, 2]
