"""The task endpoints, through the test client with a bearer token."""
from __future__ import annotations

import base64
import os

import pytest

pytestmark = pytest.mark.pooled

TASK_FIELDS = {"id", "project_id", "parent_id", "title", "description", "completed", "completed_at", "due_date",
               "due_time", "recurrence", "priority", "tags", "version", "created_at", "updated_at", "subtask_count",
               "subtask_completed_count"}


def task_row(sql, task_id):
    (row,) = sql("SELECT title, description, completed, due_date, priority, tags, version FROM tasks "
                 "WHERE id = :id", id=task_id)
    return row


def test_creating_a_task_answers_201_with_the_task_its_location_and_its_etag(client, as_alice, alice, sql):
    response = client.post("/api/v1/tasks", headers=as_alice, json={
        "title": "  Write the report ", "description": "for Monday", "tags": ["Work", " q3 ", "work"],
        "priority": "high", "due_date": "2026-12-31"})
    assert response.status_code == 201
    task = response.json
    assert set(task) == TASK_FIELDS
    assert task["title"] == "Write the report" and task["tags"] == ["work", "q3"]
    assert task["priority"] == "high" and task["due_date"] == "2026-12-31"
    assert task["completed"] is False and task["completed_at"] is None and task["version"] == 1
    assert task["created_at"].endswith("+00:00")
    assert response.headers["Location"] == f"/api/v1/tasks/{task['id']}"
    assert response.headers["ETag"] == '"1.0.0"'
    assert sql("SELECT user_id, title FROM tasks") == [(alice.id, "Write the report")]


def test_the_location_of_a_new_task_serves_that_task(client, as_alice):
    created = client.post("/api/v1/tasks", headers=as_alice, json={"title": "Find me"})
    fetched = client.get(created.headers["Location"], headers=as_alice)
    assert fetched.status_code == 200
    assert fetched.json == created.json


def test_a_task_is_read_with_a_strong_etag_made_of_its_version(client, as_alice, alice, make_task, sql):
    task = make_task(alice)
    sql("UPDATE tasks SET title = 'changed twice' WHERE id = :id", id=task.id)
    sql("UPDATE tasks SET title = 'changed again' WHERE id = :id", id=task.id)
    response = client.get(f"/api/v1/tasks/{task.id}", headers=as_alice)
    assert response.status_code == 200
    assert response.json["version"] == 3
    assert response.headers["ETag"] == '"3.0.0"'


def test_if_none_match_with_the_current_etag_answers_304_without_a_body(client, as_alice, alice, make_task):
    task = make_task(alice)
    response = client.get(f"/api/v1/tasks/{task.id}", headers={**as_alice, "If-None-Match": '"1.0.0"'})
    assert response.status_code == 304
    assert response.data == b""
    assert response.headers["ETag"] == '"1.0.0"'
    assert client.get(f"/api/v1/tasks/{task.id}", headers={**as_alice, "If-None-Match": '"7"'}).status_code == 200


def test_a_read_whose_if_match_is_not_the_current_etag_answers_412(client, as_alice, alice, make_task):
    task = make_task(alice)
    assert client.get(f"/api/v1/tasks/{task.id}", headers={**as_alice, "If-Match": '"7"'}).status_code == 412
    assert client.get(f"/api/v1/tasks/{task.id}", headers={**as_alice, "If-Match": '"1.0.0"'}).status_code == 200


def test_patch_changes_only_the_fields_sent(client, as_alice, alice, make_task, sql):
    task = make_task(alice, description="keep me", tags=["home"], priority="low")
    response = client.patch(f"/api/v1/tasks/{task.id}", headers=as_alice, json={"title": "Renamed"})
    assert response.status_code == 200
    assert response.json["title"] == "Renamed" and response.json["version"] == 2
    assert response.headers["ETag"] == '"2.0.0"'
    row = task_row(sql, task.id)
    assert (row.title, row.description, row.tags, row.priority) == ("Renamed", "keep me", ["home"], "low")


def test_patch_with_null_clears_the_description_and_the_due_date(client, as_alice, alice, make_task, sql):
    task = make_task(alice, description="old", due_date="2026-05-01")
    response = client.patch(f"/api/v1/tasks/{task.id}", headers=as_alice, json={"description": None, "due_date": None})
    assert response.status_code == 200
    row = task_row(sql, task.id)
    assert row.description is None and row.due_date is None


def test_patch_with_nothing_to_change_is_422(client, as_alice, alice, make_task):
    task = make_task(alice)
    response = client.patch(f"/api/v1/tasks/{task.id}", headers=as_alice, json={})
    assert response.status_code == 422
    assert response.json["code"] == "VALIDATION_ERROR" and "_" in response.json["details"]


def test_patch_with_the_current_etag_is_applied(client, as_alice, alice, make_task):
    task = make_task(alice)
    response = client.patch(f"/api/v1/tasks/{task.id}", headers={**as_alice, "If-Match": '"1.0.0"'},
                            json={"completed": True})
    assert response.status_code == 200
    assert response.json["completed"] is True and response.json["completed_at"] is not None


def test_patch_with_a_stale_etag_is_412_and_writes_nothing(client, as_alice, alice, make_task, sql):
    task = make_task(alice)
    sql("UPDATE tasks SET title = 'changed elsewhere' WHERE id = :id", id=task.id)
    before = task_row(sql, task.id)
    response = client.patch(f"/api/v1/tasks/{task.id}", headers={**as_alice, "If-Match": '"1.0.0"'},
                            json={"title": "my change"})
    assert response.status_code == 412
    assert response.json["code"] == "PRECONDITION_FAILED"
    assert task_row(sql, task.id) == before


def test_if_match_star_matches_whatever_the_version(client, as_alice, alice, make_task, sql):
    task = make_task(alice)
    sql("UPDATE tasks SET title = 'changed elsewhere' WHERE id = :id", id=task.id)
    response = client.patch(f"/api/v1/tasks/{task.id}", headers={**as_alice, "If-Match": "*"}, json={"title": "mine"})
    assert response.status_code == 200


def test_an_empty_if_match_counts_as_absent(client, as_alice, alice, make_task, sql):
    task = make_task(alice)
    sql("UPDATE tasks SET title = 'changed elsewhere' WHERE id = :id", id=task.id)
    response = client.patch(f"/api/v1/tasks/{task.id}", headers={**as_alice, "If-Match": ""}, json={"title": "mine"})
    assert response.status_code == 200


@pytest.mark.parametrize("value", ['W/"1"', '"abc"', '"0"', '"9999999999"', '"not-the-etag"', '"2", "3"', '""'])
def test_a_well_formed_if_match_naming_no_current_version_is_412_and_writes_nothing(client, as_alice, alice,
                                                                                      make_task, sql, value):
    task = make_task(alice)
    response = client.patch(f"/api/v1/tasks/{task.id}", headers={**as_alice, "If-Match": value},
                            json={"title": "mine"})
    assert response.status_code == 412 and response.json["code"] == "PRECONDITION_FAILED"
    assert task_row(sql, task.id).title == "a task"


def test_an_if_match_list_matches_when_one_of_its_tags_does(client, as_alice, alice, make_task, sql):
    task = make_task(alice)
    response = client.patch(f"/api/v1/tasks/{task.id}",
                            headers={**as_alice, "If-Match": '"7.0.0", W/"1.0.0" ,"1.0.0"'},
                            json={"title": "mine"})
    assert response.status_code == 200 and task_row(sql, task.id).title == "mine"


@pytest.mark.parametrize("value", ["1", '"1', "W/1", '"a" "b"', "**", '"1",,', "garbage"])
def test_an_if_match_that_is_not_one_at_all_is_400(client, as_alice, alice, make_task, sql, value):
    task = make_task(alice)
    response = client.patch(f"/api/v1/tasks/{task.id}", headers={**as_alice, "If-Match": value},
                            json={"title": "mine"})
    assert response.status_code == 400
    assert response.json["code"] == "MALFORMED_HEADER" and "If-Match" in response.json["details"]
    assert task_row(sql, task.id).title == "a task"


@pytest.mark.parametrize("method, path", [("DELETE", "/api/v1/tasks/{id}"), ("POST", "/api/v1/tasks/{id}/toggle")])
def test_a_non_matching_if_match_on_delete_and_toggle_is_412(client, as_alice, alice, make_task, sql, method, path):
    task = make_task(alice)
    response = client.open(path.format(id=task.id), method=method, headers={**as_alice, "If-Match": '"nope"'})
    assert response.status_code == 412
    assert task_row(sql, task.id).version == 1


def test_delete_answers_204_and_removes_the_task(client, as_alice, alice, make_task, sql):
    task = make_task(alice)
    response = client.delete(f"/api/v1/tasks/{task.id}", headers=as_alice)
    assert response.status_code == 204
    assert response.data == b""
    assert sql("SELECT count(*) FROM tasks") == [(0,)]
    assert client.get(f"/api/v1/tasks/{task.id}", headers=as_alice).status_code == 404


def test_delete_with_a_stale_etag_is_412_and_keeps_the_task(client, as_alice, alice, make_task, sql):
    task = make_task(alice)
    sql("UPDATE tasks SET title = 'changed elsewhere' WHERE id = :id", id=task.id)
    response = client.delete(f"/api/v1/tasks/{task.id}", headers={**as_alice, "If-Match": '"1.0.0"'})
    assert response.status_code == 412
    assert sql("SELECT count(*) FROM tasks") == [(1,)]


def test_toggle_flips_completed_back_and_forth(client, as_alice, alice, make_task):
    task = make_task(alice)
    done = client.post(f"/api/v1/tasks/{task.id}/toggle", headers=as_alice)
    assert done.status_code == 200
    assert done.json["completed"] is True and done.json["completed_at"] is not None
    assert done.headers["ETag"] == '"2.0.0"'
    undone = client.post(f"/api/v1/tasks/{task.id}/toggle", headers={**as_alice, "If-Match": '"2.0.0"'})
    assert undone.json["completed"] is False and undone.json["completed_at"] is None


def test_toggle_with_a_stale_etag_is_412_and_changes_nothing(client, as_alice, alice, make_task, sql):
    task = make_task(alice)
    client.post(f"/api/v1/tasks/{task.id}/toggle", headers=as_alice)
    response = client.post(f"/api/v1/tasks/{task.id}/toggle", headers={**as_alice, "If-Match": '"1.0.0"'})
    assert response.status_code == 412
    assert task_row(sql, task.id).completed is True


def test_tags_lists_my_tags_with_their_counts(client, as_alice, alice, make_task):
    make_task(alice, tags=["work", "urgent"])
    make_task(alice, tags=["work"])
    response = client.get("/api/v1/tags", headers=as_alice)
    assert response.status_code == 200
    assert response.json == {"items": [{"tag": "urgent", "count": 1}, {"tag": "work", "count": 2}]}


def test_me_is_my_account(client, as_alice, alice):
    response = client.get("/api/v1/me", headers=as_alice)
    assert response.status_code == 200
    assert response.json == {"id": str(alice.id), "email": "alice@example.com", "timezone": "UTC",
                             "created_at": response.json["created_at"]}


def test_export_holds_my_account_tasks_and_tokens_but_no_token_secret(client, as_alice, alice, make_task):
    make_task(alice, title="exported")
    response = client.get("/api/v1/export", headers=as_alice)
    assert response.status_code == 200
    data = response.json
    assert data["user"]["email"] == "alice@example.com"
    assert [task["title"] for task in data["tasks"]] == ["exported"]
    assert len(data["tokens"]) == 1
    secret = as_alice["Authorization"].removeprefix("Bearer ")
    assert secret not in response.get_data(as_text=True)


# Listing


def test_the_list_pages_through_every_task_once_with_cursors_both_ways(client, as_alice, alice, make_task):
    ids = [str(make_task(alice, title=f"task {n}").id) for n in range(5)]
    first = client.get("/api/v1/tasks?sort=oldest&limit=2", headers=as_alice).json
    assert [task["id"] for task in first["items"]] == ids[:2] and first["prev_cursor"] is None
    second = client.get(f"/api/v1/tasks?sort=oldest&limit=2&cursor={first['next_cursor']}", headers=as_alice).json
    third = client.get(f"/api/v1/tasks?sort=oldest&limit=2&cursor={second['next_cursor']}", headers=as_alice).json
    assert [task["id"] for task in second["items"] + third["items"]] == ids[2:]
    assert third["next_cursor"] is None
    back = client.get(f"/api/v1/tasks?sort=oldest&limit=2&cursor={second['prev_cursor']}", headers=as_alice).json
    assert [task["id"] for task in back["items"]] == ids[:2]


def test_the_list_defaults_to_newest_first_and_50_a_page(client, as_alice, alice, make_task):
    for n in range(51):
        make_task(alice, title=f"task {n}")
    page = client.get("/api/v1/tasks", headers=as_alice).json
    assert len(page["items"]) == 50
    assert page["items"][0]["title"] == "task 50"
    assert page["next_cursor"] is not None


@pytest.mark.parametrize(("query", "expected"), [
    ("status=active", ["open report", "open groceries"]),
    ("status=completed", ["done"]),
    ("status=overdue", ["open report"]),
    ("q=repo", ["open report"]),
    ("tag=HOME", ["open groceries"]),
    ("priority=high", ["open report"]),
    ("due_before=2000-01-01", ["open report"]),
    ("due_after=2000-01-02", ["open groceries"]),
    ("due_after=2000-01-01&due_before=2000-01-01", ["open report"]),
])
def test_the_list_filters(client, as_alice, alice, make_task, query, expected):
    make_task(alice, title="open report", priority="high", due_date="2000-01-01", tags=["work"])
    make_task(alice, title="open groceries", due_date="2999-01-01", tags=["home"])
    make_task(alice, title="done", completed=True)
    page = client.get(f"/api/v1/tasks?{query}&sort=title", headers=as_alice).json
    assert sorted(task["title"] for task in page["items"]) == sorted(expected)


def test_percent_and_underscore_in_q_are_not_wildcards(client, as_alice, alice, make_task):
    make_task(alice, title="100% done")
    make_task(alice, title="snake_case names")
    make_task(alice, title="anything else")

    def titles(q):
        page = client.get("/api/v1/tasks", query_string={"q": q}, headers=as_alice).json
        return [task["title"] for task in page["items"]]

    assert titles("%") == titles("_") == titles("%%") == []
    assert titles("100%") == ["100% done"]
    assert titles("snake_") == ["snake_case names"]


def random_cursor() -> str:
    return base64.urlsafe_b64encode(os.urandom(48)).decode().rstrip("=")


@pytest.mark.parametrize(("query", "field"), [
    ({"limit": "0"}, "limit"),
    ({"limit": "-1"}, "limit"),
    ({"limit": str(10**9)}, "limit"),
    ({"limit": "201"}, "limit"),
    ({"limit": "ten"}, "limit"),
    ({"limit": "1.5"}, "limit"),
    ({"sort": "title; DROP TABLE tasks; --"}, "sort"),
    ({"sort": "created_at DESC"}, "sort"),
    ({"status": "deleted"}, "status"),
    ({"priority": "urgent"}, "priority"),
    ({"tag": "no spaces inside"}, "tag"),
    ({"due_before": "2026-02-30"}, "due_before"),
    ({"due_after": "31/12/2026"}, "due_after"),
    ({"due_after": "2026-12-31T00:00:00"}, "due_after"),
    ({"q": "x" * 201}, "q"),
    ({"cursor": random_cursor()}, "cursor"),
    ({"cursor": "!!not base64!!"}, "cursor"),
    ({"page": "2"}, "page"),
    ({"user_id": "00000000-0000-0000-0000-000000000000"}, "user_id"),
])
def test_anything_outside_the_documented_query_is_422(client, as_alice, query, field):
    response = client.get("/api/v1/tasks", query_string=query, headers=as_alice)
    assert response.status_code == 422
    assert response.json["code"] == "VALIDATION_ERROR"
    assert field in response.json["details"]


def test_a_repeated_query_parameter_is_422_not_a_silent_pick(client, as_alice):
    response = client.get("/api/v1/tasks?status=active&status=completed", headers=as_alice)
    assert response.status_code == 422
    assert response.json["details"] == {"status": "Give this parameter once."}


def test_a_cursor_from_another_sort_is_422(client, as_alice, alice, make_task):
    for n in range(3):
        make_task(alice, title=f"task {n}")
    cursor = client.get("/api/v1/tasks?sort=oldest&limit=1", headers=as_alice).json["next_cursor"]
    response = client.get(f"/api/v1/tasks?sort=title&cursor={cursor}", headers=as_alice)
    assert response.status_code == 422 and "cursor" in response.json["details"]


# Idempotency-Key


def test_a_retry_with_the_same_idempotency_key_gets_the_task_the_first_created_and_one_task(client, as_alice, sql):
    headers = {**as_alice, "Idempotency-Key": "6b1f0a4e-retry"}
    first = client.post("/api/v1/tasks", headers=headers, json={"title": "Pay rent"})
    again = client.post("/api/v1/tasks", headers=headers, json={"title": "Pay rent"})
    assert first.status_code == again.status_code == 201
    assert again.json == first.json
    assert again.headers["Location"] == first.headers["Location"]
    assert again.headers["ETag"] == first.headers["ETag"]
    assert (first.headers["Idempotent-Replayed"], again.headers["Idempotent-Replayed"]) == ("false", "true")
    assert sql("SELECT count(*) FROM tasks") == [(1,)]


def test_a_retry_after_the_task_changed_gets_it_as_it_is_now(client, as_alice, sql):
    headers = {**as_alice, "Idempotency-Key": "changed-since"}
    first = client.post("/api/v1/tasks", headers=headers, json={"title": "Pay rent"})
    client.patch(first.headers["Location"], headers=as_alice, json={"title": "Pay the rent"})
    again = client.post("/api/v1/tasks", headers=headers, json={"title": "Pay rent"})
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert (again.json["id"], again.json["title"], again.json["version"]) == (first.json["id"], "Pay the rent", 2)
    assert sql("SELECT count(*) FROM tasks") == [(1,)]


def test_a_retry_after_the_task_was_deleted_is_410_and_creates_nothing(client, as_alice, sql):
    headers = {**as_alice, "Idempotency-Key": "deleted-since"}
    first = client.post("/api/v1/tasks", headers=headers, json={"title": "Secret plan", "description": "words"})
    assert client.delete(first.headers["Location"], headers=as_alice).status_code == 204
    again = client.post("/api/v1/tasks", headers=headers, json={"title": "Secret plan", "description": "words"})
    assert again.status_code == 410 and again.json["code"] == "GONE"
    assert sql("SELECT count(*) FROM tasks") == [(0,)]


def test_idempotency_keys_keep_no_task_text(client, as_alice, sql):
    client.post("/api/v1/tasks", headers={**as_alice, "Idempotency-Key": "private"},
                json={"title": "Secret plan", "description": "secret words"})
    (row,) = sql("SELECT * FROM idempotency_keys")
    assert "secret" not in str(tuple(row)).lower()


def test_a_retry_that_differs_only_in_form_is_the_same_request(client, as_alice, sql):
    headers = {**as_alice, "Idempotency-Key": "same-meaning"}
    first = client.post("/api/v1/tasks", headers=headers, json={"title": "Pay rent", "tags": ["home"]})
    again = client.post("/api/v1/tasks", headers=headers, json={"tags": ["HOME "], "title": " Pay rent"})
    assert again.json["id"] == first.json["id"]
    assert sql("SELECT count(*) FROM tasks") == [(1,)]


def test_the_same_idempotency_key_with_another_body_is_409_and_creates_nothing(client, as_alice, sql):
    headers = {**as_alice, "Idempotency-Key": "k-1"}
    client.post("/api/v1/tasks", headers=headers, json={"title": "Pay rent"})
    response = client.post("/api/v1/tasks", headers=headers, json={"title": "Pay the gas bill"})
    assert response.status_code == 409
    assert response.json["code"] == "IDEMPOTENCY_KEY_REUSED"
    assert sql("SELECT title FROM tasks") == [("Pay rent",)]


def test_idempotency_keys_belong_to_one_user(client, as_alice, as_bob, sql):
    alices = client.post("/api/v1/tasks", headers={**as_alice, "Idempotency-Key": "shared"}, json={"title": "Alice's"})
    bobs = client.post("/api/v1/tasks", headers={**as_bob, "Idempotency-Key": "shared"}, json={"title": "Bob's"})
    assert bobs.status_code == 201 and bobs.json["title"] == "Bob's"
    assert sql("SELECT count(*) FROM tasks") == [(2,)]
    # Each one's retry gets their own task back, never the other's.
    alice_again = client.post("/api/v1/tasks", headers={**as_alice, "Idempotency-Key": "shared"},
                              json={"title": "Alice's"})
    bob_again = client.post("/api/v1/tasks", headers={**as_bob, "Idempotency-Key": "shared"}, json={"title": "Bob's"})
    assert (alice_again.json["id"], bob_again.json["id"]) == (alices.json["id"], bobs.json["id"])
    assert alice_again.headers["Idempotent-Replayed"] == bob_again.headers["Idempotent-Replayed"] == "true"


def test_every_keyed_post_purges_a_bounded_batch_of_any_users_expired_keys(client, as_alice, bob, sql):
    sql("INSERT INTO idempotency_keys (user_id, key, request_hash, created_at) "
        "SELECT :u, 'old-' || n, repeat('0', 64), now() - interval '25 hours' FROM generate_series(1, 150) AS n",
        u=bob.id)
    client.post("/api/v1/tasks", headers={**as_alice, "Idempotency-Key": "first"}, json={"title": "one"})
    assert sql("SELECT count(*) FROM idempotency_keys WHERE user_id = :u", u=bob.id) == [(50,)]
    client.post("/api/v1/tasks", headers={**as_alice, "Idempotency-Key": "second"}, json={"title": "two"})
    assert sql("SELECT count(*) FROM idempotency_keys WHERE user_id = :u", u=bob.id) == [(0,)]
    assert sql("SELECT count(*) FROM idempotency_keys") == [(2,)]


def test_an_invalid_body_does_not_use_up_its_idempotency_key(client, as_alice):
    headers = {**as_alice, "Idempotency-Key": "first-try-invalid"}
    assert client.post("/api/v1/tasks", headers=headers, json={"title": ""}).status_code == 422
    assert client.post("/api/v1/tasks", headers=headers, json={"title": "fixed"}).status_code == 201


def test_an_idempotency_key_is_forgotten_after_a_day(client, as_alice, sql):
    headers = {**as_alice, "Idempotency-Key": "old-key"}
    client.post("/api/v1/tasks", headers=headers, json={"title": "Pay rent"})
    sql("UPDATE idempotency_keys SET created_at = now() - interval '25 hours'")
    again = client.post("/api/v1/tasks", headers=headers, json={"title": "Pay rent"})
    assert again.headers["Idempotent-Replayed"] == "false"
    assert sql("SELECT count(*) FROM tasks") == [(2,)]
    assert sql("SELECT count(*) FROM idempotency_keys") == [(1,)]


@pytest.mark.parametrize("key", ["", "with space", "é-accent", "x" * 256])
def test_a_malformed_idempotency_key_is_400_and_creates_nothing(client, as_alice, sql, key):
    response = client.post("/api/v1/tasks", headers={**as_alice, "Idempotency-Key": key}, json={"title": "t"})
    assert response.status_code == 400
    assert response.json["code"] == "MALFORMED_HEADER" and "Idempotency-Key" in response.json["details"]
    assert sql("SELECT count(*) FROM tasks") == [(0,)]
