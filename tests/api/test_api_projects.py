"""/api/v1/projects and the project and subtask fields of tasks: shapes, ETags over the
counts, If-Match, the Inbox's rules, filters, export, and ownership across two users."""
from __future__ import annotations

import uuid

import pytest

from myapp.extensions import db
from myapp.services import projects

pytestmark = pytest.mark.pooled

PROJECT_FIELDS = {"id", "name", "color", "position", "archived", "is_inbox", "active_count", "completed_count",
                  "version", "created_at", "updated_at"}


@pytest.fixture
def make_project(app):
    def make(owner, name: str, **fields):
        project = projects.create_project(owner.id, {"name": name, **fields})
        db.session.remove()
        return project

    return make


def test_projects_are_listed_in_order_with_the_inbox_first_and_archived_ones_included(client, as_alice, alice,
                                                                                     make_project):
    make_project(alice, "Work")
    old = make_project(alice, "Old")
    projects.update_project(alice.id, old.id, {"archived": True})
    db.session.remove()
    response = client.get("/api/v1/projects", headers=as_alice)
    assert response.status_code == 200
    items = response.json["items"]
    assert [(p["name"], p["is_inbox"], p["archived"]) for p in items] == \
        [("Inbox", True, False), ("Work", False, False), ("Old", False, True)]
    assert all(set(p) == PROJECT_FIELDS for p in items)


def test_create_answers_201_with_location_and_an_etag_over_version_and_counts(client, as_alice):
    response = client.post("/api/v1/projects", headers=as_alice, json={"name": " Garden ", "color": "green"})
    assert response.status_code == 201
    project = response.json
    assert (project["name"], project["color"], project["active_count"]) == ("Garden", "green", 0)
    assert response.headers["Location"] == f"/api/v1/projects/{project['id']}"
    assert response.headers["ETag"] == '"1.0.0"'
    client.post("/api/v1/tasks", headers=as_alice, json={"title": "dig", "project_id": project["id"]})
    fetched = client.get(response.headers["Location"], headers=as_alice)
    assert fetched.headers["ETag"] == '"1.1.0"'  # a new task changes what the project shows
    not_modified = client.get(response.headers["Location"], headers={**as_alice, "If-None-Match": '"1.0.0"'})
    assert not_modified.status_code == 200  # the stale counts are not served as fresh


def test_patch_with_a_stale_etag_is_412_and_with_the_current_one_applies(client, as_alice, alice, make_project):
    work = make_project(alice, "Work")
    client.post("/api/v1/tasks", headers=as_alice, json={"title": "t", "project_id": str(work.id)})
    stale = client.patch(f"/api/v1/projects/{work.id}", headers={**as_alice, "If-Match": '"1.0.0"'},
                         json={"name": "Office"})
    assert stale.status_code == 412
    current = client.get(f"/api/v1/projects/{work.id}", headers=as_alice).headers["ETag"]
    applied = client.patch(f"/api/v1/projects/{work.id}", headers={**as_alice, "If-Match": current},
                           json={"name": "Office", "color": "teal"})
    assert applied.status_code == 200 and applied.json["name"] == "Office" and applied.json["version"] == 2


def test_name_and_colour_rules_and_duplicates_are_422s(client, as_alice, make_project, alice):
    make_project(alice, "Work")
    for body, field in (({"name": "WORK"}, "name"), ({"name": ""}, "name"), ({"name": "x" * 101}, "name"),
                        ({"name": "ok", "color": "mauve"}, "color"), ({"name": "ok", "owner": "me"}, "owner")):
        response = client.post("/api/v1/projects", headers=as_alice, json=body)
        assert response.status_code == 422 and field in response.json["details"], body
    assert len(client.get("/api/v1/projects", headers=as_alice).json["items"]) == 2


def test_the_inbox_cannot_be_renamed_archived_or_deleted(client, as_alice, alice):
    inbox = client.get("/api/v1/projects", headers=as_alice).json["items"][0]
    url = f"/api/v1/projects/{inbox['id']}"
    for body in ({"name": "Other"}, {"archived": True}, {"position": 5}):
        response = client.patch(url, headers=as_alice, json=body)
        assert response.status_code == 422 and response.json["code"] == "VALIDATION_ERROR"
    assert client.delete(url, headers=as_alice).status_code == 422
    assert client.patch(url, headers=as_alice, json={"color": "red"}).json["color"] == "red"


def test_delete_deletes_the_tasks_or_moves_them_with_move_to(client, as_alice, alice, make_project):
    trip, keep = make_project(alice, "Trip"), make_project(alice, "Keep")
    root = client.post("/api/v1/tasks", headers=as_alice, json={"title": "pack", "project_id": str(trip.id)}).json
    child = client.post("/api/v1/tasks", headers=as_alice, json={"title": "socks", "parent_id": root["id"]}).json
    assert child["project_id"] == str(trip.id)
    assert client.delete(f"/api/v1/projects/{trip.id}?move_to={keep.id}", headers=as_alice).status_code == 204
    moved = client.get(f"/api/v1/tasks/{child['id']}", headers=as_alice).json
    assert (moved["project_id"], moved["parent_id"]) == (str(keep.id), root["id"])
    assert client.delete(f"/api/v1/projects/{keep.id}?colour=red", headers=as_alice).status_code == 422
    assert client.delete(f"/api/v1/projects/{keep.id}", headers=as_alice).status_code == 204
    assert client.get(f"/api/v1/tasks/{child['id']}", headers=as_alice).status_code == 404


def test_tasks_carry_their_project_parent_and_subtask_counts_and_an_etag_over_them(client, as_alice):
    root = client.post("/api/v1/tasks", headers=as_alice, json={"title": "root"})
    assert root.headers["ETag"] == '"1.0.0"' and root.json["parent_id"] is None
    child = client.post("/api/v1/tasks", headers=as_alice, json={"title": "child", "parent_id": root.json["id"]}).json
    assert child["project_id"] == root.json["project_id"]
    fetched = client.get(f"/api/v1/tasks/{root.json['id']}", headers=as_alice)
    assert (fetched.json["subtask_count"], fetched.json["subtask_completed_count"]) == (1, 0)
    assert fetched.headers["ETag"] == '"1.1.0"'
    stale = client.post(f"/api/v1/tasks/{root.json['id']}/toggle", headers={**as_alice, "If-Match": '"1.0.0"'})
    assert stale.status_code == 412
    done = client.post(f"/api/v1/tasks/{root.json['id']}/toggle", headers={**as_alice, "If-Match": '"1.1.0"'})
    assert done.status_code == 200 and done.json["subtask_completed_count"] == 1 and done.headers["ETag"] == '"2.1.1"'
    assert client.get(f"/api/v1/tasks/{child['id']}", headers=as_alice).json["completed"] is True


def test_a_cycle_or_a_fifth_level_is_a_422_naming_parent_id(client, as_alice):
    ids = []
    for n in range(4):
        body = {"title": f"level {n + 1}", **({"parent_id": ids[-1]} if ids else {})}
        ids.append(client.post("/api/v1/tasks", headers=as_alice, json=body).json["id"])
    fifth = client.post("/api/v1/tasks", headers=as_alice, json={"title": "5", "parent_id": ids[-1]})
    assert fifth.status_code == 422 and set(fifth.json["details"]) == {"parent_id"}
    cycle = client.patch(f"/api/v1/tasks/{ids[0]}", headers=as_alice, json={"parent_id": ids[2]})
    assert cycle.status_code == 422 and set(cycle.json["details"]) == {"parent_id"}


def test_a_subtask_with_another_project_than_its_parents_is_a_422_naming_project_id(client, as_alice, alice,
                                                                                  make_project):
    work = make_project(alice, "Work")
    root = client.post("/api/v1/tasks", headers=as_alice, json={"title": "root"}).json
    response = client.post("/api/v1/tasks", headers=as_alice,
                           json={"title": "x", "parent_id": root["id"], "project_id": str(work.id)})
    assert response.status_code == 422 and set(response.json["details"]) == {"project_id"}


def test_list_filters_project_parent_and_archived(client, as_alice, alice, make_project):
    work = make_project(alice, "Work")
    root = client.post("/api/v1/tasks", headers=as_alice, json={"title": "root", "project_id": str(work.id)}).json
    client.post("/api/v1/tasks", headers=as_alice, json={"title": "child", "parent_id": root["id"]})
    client.post("/api/v1/tasks", headers=as_alice, json={"title": "loose"})

    def titles(query: str):
        response = client.get(f"/api/v1/tasks?{query}", headers=as_alice)
        assert response.status_code == 200, response.json
        return {item["title"] for item in response.json["items"]}

    assert titles(f"project_id={work.id}") == {"root", "child"}
    assert titles("parent_id=none") == {"root", "loose"}
    assert titles(f"parent_id={root['id']}") == {"child"}
    projects.update_project(alice.id, work.id, {"archived": True})
    db.session.remove()
    assert titles("") == {"loose"}
    assert titles("archived=true") == {"root", "child"}
    assert titles("archived=any") == {"root", "child", "loose"}
    assert titles(f"project_id={work.id}") == {"root", "child"}
    for query in ("parent_id=nope", "project_id=42", "archived=yes"):
        assert client.get(f"/api/v1/tasks?{query}", headers=as_alice).status_code == 422


def test_export_includes_the_projects(client, as_alice, alice, make_project):
    make_project(alice, "Work")
    exported = client.get("/api/v1/export", headers=as_alice).json
    assert [p["name"] for p in exported["projects"]] == ["Inbox", "Work"]
    assert all(set(p) == PROJECT_FIELDS for p in exported["projects"])


# --- ownership -----------------------------------------------------------------------------


@pytest.mark.parametrize("method, body", [("get", None), ("patch", {"name": "mine"}), ("delete", None)])
def test_another_users_project_is_a_404(client, as_bob, alice, make_project, method, body):
    theirs = make_project(alice, "Alice's")
    response = client.open(f"/api/v1/projects/{theirs.id}", method=method.upper(), headers=as_bob, json=body)
    assert response.status_code == 404 and response.json["code"] == "NOT_FOUND"
    assert projects.get_project(alice.id, theirs.id).name == "Alice's"


def test_another_users_project_or_parent_is_a_422_with_the_same_message_as_a_missing_one(client, as_alice, as_bob,
                                                                                       alice, make_project):
    theirs = make_project(alice, "Alice's")
    their_task = client.post("/api/v1/tasks", headers=as_alice, json={"title": "Alice's task"}).json
    mine = client.post("/api/v1/tasks", headers=as_bob, json={"title": "Bob's"}).json
    for field, foreign in (("project_id", str(theirs.id)), ("parent_id", their_task["id"])):
        answers = [client.post("/api/v1/tasks", headers=as_bob, json={"title": "x", field: value}).json
                   for value in (foreign, str(uuid.uuid4()))]
        answers += [client.patch(f"/api/v1/tasks/{mine['id']}", headers=as_bob, json={field: value}).json
                    for value in (foreign, str(uuid.uuid4()))]
        assert all(answer == answers[0] for answer in answers) and set(answers[0]["details"]) == {field}
    assert client.delete(f"/api/v1/projects/{client.get('/api/v1/projects', headers=as_bob).json['items'][0]['id']}"
                         f"?move_to={theirs.id}", headers=as_bob).status_code == 422
    assert client.get(f"/api/v1/tasks?project_id={theirs.id}", headers=as_bob).json["items"] == []
    assert client.get(f"/api/v1/tasks/{their_task['id']}", headers=as_alice).json["subtask_count"] == 0
