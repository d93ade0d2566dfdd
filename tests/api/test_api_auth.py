"""Who may call the API, and whose data they see: tokens, sessions, CSRF, ownership."""
from __future__ import annotations

import uuid

import pytest

from myapp.services import tokens

from conftest import PASSWORD
from support.pages import csrf_token, sign_in

pytestmark = pytest.mark.pooled

SOME_ID = "3f2b8c1e-0000-4000-8000-000000000000"
# Every operation, with a body where it takes one ({id} is filled with a task's id).
OPERATIONS = [
    ("get", "/api/v1/tasks", None),
    ("post", "/api/v1/tasks", {"title": "new"}),
    ("get", "/api/v1/tasks/{id}", None),
    ("patch", "/api/v1/tasks/{id}", {"title": "changed"}),
    ("delete", "/api/v1/tasks/{id}", None),
    ("post", "/api/v1/tasks/{id}/toggle", None),
    ("get", "/api/v1/tags", None),
    ("get", "/api/v1/me", None),
    ("get", "/api/v1/export", None),
]
TASK_OPERATIONS = [operation for operation in OPERATIONS if "{id}" in operation[1]]
UNSAFE_OPERATIONS = [operation for operation in OPERATIONS if operation[0] != "get"]


def call(client, operation, task_id=SOME_ID, **kwargs):
    method, path, body = operation
    return getattr(client, method)(path.format(id=task_id), json=body, **kwargs)


def task_rows(sql):
    return sql("SELECT id, user_id, title, description, completed, due_date, priority, tags, version, "
               "updated_at FROM tasks ORDER BY id")


def assert_unauthorized(response):
    assert response.status_code == 401
    assert response.json["code"] == "UNAUTHORIZED"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert "Location" not in response.headers


@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda op: f"{op[0]} {op[1]}")
def test_without_credentials_every_operation_is_401_json_never_a_redirect(client, alice, make_task, operation, sql):
    task = make_task(alice)
    before = task_rows(sql)
    assert_unauthorized(call(client, operation, task.id))
    assert task_rows(sql) == before


@pytest.mark.parametrize("authorization", [
    "Bearer tm_not-a-real-token", "Bearer", "Bearer ", "Basic YWxpY2U6cGFzc3dvcmQ=", "tm_no_scheme",
    "Bearer " + "x" * 5000,
])
def test_a_wrong_or_malformed_authorization_header_is_401(client, authorization):
    assert_unauthorized(client.get("/api/v1/tasks", headers={"Authorization": authorization}))


def test_the_bearer_scheme_is_case_insensitive(client, as_alice):
    secret = as_alice["Authorization"].removeprefix("Bearer ")
    assert client.get("/api/v1/me", headers={"Authorization": f"bearer {secret}"}).status_code == 200


def test_an_expired_token_is_401(client, alice, make_token, sql):
    headers = make_token(alice, expires_in_days=1)
    sql("UPDATE api_tokens SET expires_at = now() - interval '1 second'")
    assert_unauthorized(client.get("/api/v1/tasks", headers=headers))


def test_a_revoked_token_is_401(client, alice, make_token):
    headers = make_token(alice)
    (token,) = tokens.list_tokens(alice.id)
    tokens.revoke_token(alice.id, token.id)
    assert_unauthorized(client.get("/api/v1/tasks", headers=headers))


def test_a_read_only_token_reads(client, alice, make_token, make_task):
    headers = make_token(alice, scope="read")
    task = make_task(alice)
    for operation in OPERATIONS:
        if operation[0] == "get":
            assert call(client, operation, task.id, headers=headers).status_code == 200, operation


@pytest.mark.parametrize("operation", UNSAFE_OPERATIONS, ids=lambda op: f"{op[0]} {op[1]}")
def test_a_read_only_token_gets_403_on_every_unsafe_method_and_changes_nothing(client, alice, make_token,
                                                                               make_task, sql, operation):
    headers = make_token(alice, scope="read")
    task = make_task(alice)
    before = task_rows(sql)
    response = call(client, operation, task.id, headers=headers)
    assert response.status_code == 403
    assert response.json["code"] == "FORBIDDEN"
    assert task_rows(sql) == before


def test_the_request_log_of_a_token_call_carries_the_users_id(client, alice, as_alice, json_logs):
    json_logs()
    client.get("/api/v1/tasks", headers=as_alice)
    (request_line,) = [line for line in json_logs() if line.get("logger") == "myapp.request"]
    assert request_line["user_id"] == str(alice.id)
    assert as_alice["Authorization"].removeprefix("Bearer ") not in str(json_logs())


# The browser session


@pytest.fixture
def session_client(client, alice):
    """The test client signed in as alice through the sign-in page."""
    assert sign_in(client, alice.email, PASSWORD).status_code == 302
    return client


def test_a_signed_in_browser_reads_the_api_without_a_token(session_client, alice):
    response = session_client.get("/api/v1/me")
    assert response.status_code == 200
    assert response.json["id"] == str(alice.id)


@pytest.mark.parametrize("operation", UNSAFE_OPERATIONS, ids=lambda op: f"{op[0]} {op[1]}")
def test_a_session_write_without_the_csrf_header_is_403_and_changes_nothing(session_client, alice, make_task, sql,
                                                                            operation):
    task = make_task(alice)
    before = task_rows(sql)
    response = call(session_client, operation, task.id)
    assert response.status_code == 403
    assert response.json["code"] == "CSRF_FAILED"
    assert call(session_client, operation, task.id, headers={"X-CSRFToken": "forged"}).status_code == 403
    assert task_rows(sql) == before


@pytest.mark.parametrize(("operation", "status"), [
    pytest.param(operation, status, id=f"{operation[0]} {operation[1]}")
    for operation, status in zip(UNSAFE_OPERATIONS, (201, 200, 204, 200), strict=True)])
def test_a_session_write_with_the_csrf_header_succeeds(session_client, alice, make_task, operation, status):
    task = make_task(alice)
    response = call(session_client, operation, task.id, headers={"X-CSRFToken": csrf_token(session_client)})
    assert response.status_code == status


def test_a_bearer_call_needs_no_csrf_token_even_with_a_session_cookie(session_client, as_alice):
    assert session_client.post("/api/v1/tasks", json={"title": "t"}, headers=as_alice).status_code == 201


def test_after_signing_out_the_session_no_longer_reaches_the_api(session_client):
    token = csrf_token(session_client)
    session_client.post("/sign-out", data={"csrf_token": token})
    assert_unauthorized(session_client.get("/api/v1/me"))


# Ownership: another user's task is a task that does not exist


@pytest.mark.parametrize("operation", TASK_OPERATIONS, ids=lambda op: f"{op[0]} {op[1]}")
def test_with_another_users_token_every_operation_on_a_task_is_404_and_changes_nothing(client, alice, as_bob,
                                                                                       make_task, sql, operation):
    task = make_task(alice, title="Alice's", tags=["private"])
    before = task_rows(sql)
    for headers in (as_bob, {**as_bob, "If-Match": '"1"'}, {**as_bob, "If-Match": "*"}):
        response = call(client, operation, task.id, headers=headers)
        assert response.status_code == 404, headers
        assert response.json == {"code": "NOT_FOUND", "message": "Task not found.", "details": {}}
    assert task_rows(sql) == before


@pytest.mark.parametrize("operation", TASK_OPERATIONS, ids=lambda op: f"{op[0]} {op[1]}")
@pytest.mark.parametrize("task_id", [str(uuid.uuid4()), "not-a-uuid", "1", "%00", "' OR 1=1 --"])
def test_an_unknown_or_malformed_task_id_is_404(client, as_alice, operation, task_id):
    response = call(client, operation, task_id, headers=as_alice)
    assert response.status_code == 404
    assert response.json["code"] == "NOT_FOUND"


def test_lists_tags_and_export_never_include_another_users_data(client, alice, bob, as_bob, make_task):
    make_task(alice, title="Alice's secret", tags=["alice-only"])
    make_task(bob, title="Bob's", tags=["shared"])
    titles = [task["title"] for task in client.get("/api/v1/tasks", headers=as_bob).json["items"]]
    assert titles == ["Bob's"]
    assert client.get("/api/v1/tasks?tag=alice-only", headers=as_bob).json["items"] == []
    assert client.get("/api/v1/tasks?q=secret", headers=as_bob).json["items"] == []
    assert client.get("/api/v1/tags", headers=as_bob).json == {"items": [{"tag": "shared", "count": 1}]}
    export = client.get("/api/v1/export", headers=as_bob)
    assert export.json["user"]["id"] == str(bob.id)
    assert [task["title"] for task in export.json["tasks"]] == ["Bob's"]
    assert "alice" not in export.get_data(as_text=True).lower()


def test_a_cursor_made_from_another_users_list_shows_only_my_tasks(client, alice, bob, as_alice, as_bob, make_task):
    for n in range(3):
        make_task(alice, title=f"alice {n}")
    make_task(bob, title="bob's only")
    cursor = client.get("/api/v1/tasks?limit=1", headers=as_alice).json["next_cursor"]
    page = client.get(f"/api/v1/tasks?limit=50&cursor={cursor}", headers=as_bob).json
    assert all(task["title"] == "bob's only" for task in page["items"])
