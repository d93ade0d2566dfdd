"""Every failure under /api has one shape, {"code", "message", "details"}, and hostile input
is refused with a 4xx, never a crash."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import exc

from myapp.extensions import db
from myapp.services import tasks, tokens

from conftest import make_app
from support.processes import free_port

pytestmark = pytest.mark.pooled


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    assert response.mimetype == "application/json"
    assert set(response.json) == {"code", "message", "details"}
    assert response.json["code"] == code
    return response.json


def post_raw(client, headers, body: bytes | str, content_type: str = "application/json"):
    return client.post("/api/v1/tasks", data=body, headers={**headers, "Content-Type": content_type})


def count_tasks(sql) -> int:
    return sql("SELECT count(*) FROM tasks")[0][0]


@pytest.mark.parametrize("path", ["/api/v1/nothing", "/api/v2/tasks", "/api", "/api/v1/tasks/1/2/3"])
def test_an_unknown_route_under_api_is_404_json(client, as_alice, path):
    assert_error(client.get(path, headers=as_alice), 404, "NOT_FOUND")


@pytest.mark.parametrize(("method", "path", "allowed"), [
    ("put", "/api/v1/tasks", {"GET", "HEAD", "OPTIONS", "POST"}),
    ("delete", "/api/v1/tasks", {"GET", "HEAD", "OPTIONS", "POST"}),
    ("post", "/api/v1/tasks/3f2b8c1e-0000-4000-8000-000000000000", {"GET", "HEAD", "OPTIONS", "PATCH", "DELETE"}),
    ("get", "/api/v1/tasks/3f2b8c1e-0000-4000-8000-000000000000/toggle", {"OPTIONS", "POST"}),
    ("post", "/api/v1/me", {"GET", "HEAD", "OPTIONS"}),
])
def test_a_method_a_route_does_not_have_is_405_json_with_allow(client, as_alice, method, path, allowed):
    response = getattr(client, method)(path, headers=as_alice)
    assert_error(response, 405, "METHOD_NOT_ALLOWED")
    assert set(response.headers["Allow"].split(", ")) == allowed


@pytest.mark.parametrize("body", ['{"title": "unclosed"', "{'title': 'single quotes'}", "", "\xff\xfe", "[1,]", "NaN?"])
def test_malformed_json_is_400(client, as_alice, sql, body):
    assert_error(post_raw(client, as_alice, body.encode("latin-1")), 400, "MALFORMED_JSON")
    assert count_tasks(sql) == 0


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data",
                                          "application/xml", ""])
def test_a_body_that_is_not_json_is_415(client, as_alice, sql, content_type):
    assert_error(post_raw(client, as_alice, '{"title": "t"}', content_type), 415, "UNSUPPORTED_MEDIA_TYPE")
    response = client.patch("/api/v1/tasks/3f2b8c1e-0000-4000-8000-000000000000", data="title=t",
                            headers={**as_alice, "Content-Type": content_type})
    assert_error(response, 415, "UNSUPPORTED_MEDIA_TYPE")
    assert count_tasks(sql) == 0


def test_a_10_mb_body_is_413(client, as_alice, sql):
    body = json.dumps({"title": "big", "description": "x" * (10 * 1024 * 1024)})
    assert_error(post_raw(client, as_alice, body), 413, "PAYLOAD_TOO_LARGE")
    assert count_tasks(sql) == 0


NESTING_ERRORS = {400: "MALFORMED_JSON", 422: "VALIDATION_ERROR"}


@pytest.mark.parametrize(("depth", "statuses"), [(900, {400, 422}), (100_000, {400})])
def test_deeply_nested_json_is_refused_without_a_crash(client, as_alice, sql, depth, statuses):
    for body in ("[" * depth + "]" * depth, '{"title": ' + '{"a": ' * depth + "1" + "}" * depth + "}"):
        response = post_raw(client, as_alice, body)
        assert response.status_code in statuses
        assert_error(response, response.status_code, NESTING_ERRORS[response.status_code])
    assert count_tasks(sql) == 0


@pytest.mark.parametrize("body", ["[]", '"a title"', "null", "42", "true", '[["title", "x"]]'])
def test_a_json_body_that_is_not_an_object_is_422(client, as_alice, body):
    assert assert_error(post_raw(client, as_alice, body), 422, "VALIDATION_ERROR")["details"] == {
        "_": "Expected a JSON object."}


# Raw JSON text, so that the escapes reach the server as a client would send them.
@pytest.mark.parametrize(("body", "field"), [
    ('{"title": "a\\u0000b"}', "title"),
    ('{"title": "\\u0000"}', "title"),
    ('{"title": "ok", "description": "nul \\u0000 inside"}', "description"),
    ('{"title": "ok", "tags": ["a\\u0000"]}', "tags"),
    ('{"title": "lone \\ud800 surrogate"}', "title"),
    ('{"title": "\\udfff"}', "title"),
    ('{"title": "ok", "description": "\\ud83d"}', "description"),
    ('{"title": "ok", "tags": ["\\ud800"]}', "tags"),
    ('{"title\\u0000": "key with NUL"}', "title\x00"),
])
def test_nul_characters_and_lone_surrogates_are_422_and_nothing_is_stored(client, as_alice, sql, body, field):
    details = assert_error(post_raw(client, as_alice, body), 422, "VALIDATION_ERROR")["details"]
    assert field in details
    assert count_tasks(sql) == 0


def test_nul_and_lone_surrogates_are_refused_by_patch_too(client, alice, as_alice, make_task, sql):
    task = make_task(alice)
    for body in ('{"title": "a\\u0000"}', '{"description": "\\ud800"}', '{"tags": ["\\udc00"]}'):
        response = client.patch(f"/api/v1/tasks/{task.id}", data=body,
                                headers={**as_alice, "Content-Type": "application/json"})
        assert_error(response, 422, "VALIDATION_ERROR")
    assert sql("SELECT title, version FROM tasks") == [("a task", 1)]


WRONG_TYPES = {
    "title": [1, 1.5, True, None, [], {}, ["a title"]],
    "description": [1, False, [], {}],
    "due_date": [20261231, 1.5, True, [], {}],
    "priority": [1, True, None, [], {}, ["high"]],
    "tags": ["work", 1, True, None, {}, [1], [None], [["nested"]], [{}]],
    "completed": [1, 0, "true", "false", None, [], {}],
}


@pytest.mark.parametrize(("field", "value"), [
    pytest.param(field, value, id=f"{field}={value!r}") for field, values in WRONG_TYPES.items() for value in values])
def test_a_wrong_type_for_any_field_is_422_naming_it(client, alice, as_alice, make_task, sql, field, value):
    create = {"title": "t", field: value}
    assert field in assert_error(client.post("/api/v1/tasks", json=create, headers=as_alice), 422,
                                 "VALIDATION_ERROR")["details"]
    task = make_task(alice)
    response = client.patch(f"/api/v1/tasks/{task.id}", json={field: value}, headers=as_alice)
    assert field in assert_error(response, 422, "VALIDATION_ERROR")["details"]
    assert count_tasks(sql) == 1


@pytest.mark.parametrize("value", ["2026-02-30", "2026-13-01", "2025-02-29", "0000-01-01", "2026-1-5",
                                   "2026-01-01T00:00:00Z", "31/12/2026", "tomorrow", "+2026-01-01", "２０２６-01-01"])
def test_an_impossible_or_non_iso_date_is_422(client, as_alice, sql, value):
    details = assert_error(client.post("/api/v1/tasks", json={"title": "t", "due_date": value}, headers=as_alice),
                           422, "VALIDATION_ERROR")["details"]
    assert "due_date" in details
    assert count_tasks(sql) == 0


@pytest.mark.parametrize(("body", "field"), [
    ({"title": " \t\u00a0\u3000\ufeff "}, "title"),
    ({"title": "x" * 256}, "title"),
    ({"title": "t", "description": "d" * 10_001}, "description"),
    ({"title": "t", "priority": "urgent"}, "priority"),
    ({"title": "t", "tags": [f"t{n}" for n in range(11)]}, "tags"),
    ({"title": "t", "tags": ["has space"]}, "tags"),
    ({"title": "t", "tags": ["x" * 33]}, "tags"),
    ({"title": "t", "tags": ["\u212a"]}, "tags"),  # Kelvin sign: lowercases to an ASCII "k"
    ({"title": "t", "owner": "someone"}, "owner"),
    ({"title": "t", "user_id": "3f2b8c1e-0000-4000-8000-000000000000"}, "user_id"),
    ({"title": "t", "id": "3f2b8c1e-0000-4000-8000-000000000000"}, "id"),
    ({"title": "t", "version": 7}, "version"),
    ({"description": "no title"}, "title"),
])
def test_values_outside_the_rules_are_422_naming_the_field(client, as_alice, sql, body, field):
    assert field in assert_error(client.post("/api/v1/tasks", json=body, headers=as_alice), 422,
                                 "VALIDATION_ERROR")["details"]
    assert count_tasks(sql) == 0


def test_an_unexpected_error_is_500_json_without_a_traceback(client, as_alice, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("internal detail: /srv/secret.py line 42")

    monkeypatch.setattr(tasks, "list_tasks", broken)
    response = client.get("/api/v1/tasks", headers=as_alice)
    assert_error(response, 500, "INTERNAL_ERROR")
    text = response.get_data(as_text=True)
    assert "internal detail" not in text and "Traceback" not in text


def test_a_database_error_that_is_not_an_outage_is_500_too(client, as_alice, monkeypatch):
    def failing(*args, **kwargs):
        raise exc.IntegrityError("INSERT ...", {}, Exception("duplicate key value"))

    monkeypatch.setattr(tasks, "create_task", failing)
    response = client.post("/api/v1/tasks", json={"title": "t"}, headers=as_alice)
    assert_error(response, 500, "INTERNAL_ERROR")
    assert "duplicate" not in response.get_data(as_text=True)


# Rate limits and outages: apps of their own


@pytest.fixture
def limited_app(app, app_database_url):
    """An app with API limits on (3 calls a minute, fresh memory storage)."""
    limited = make_app(app_database_url, env={"RATELIMIT_ENABLED": "true", "RATELIMIT_API": "3 per minute"})
    yield limited
    with limited.app_context():
        db.engine.dispose()


def secret_for(user, scope="write") -> str:
    _, secret = tokens.create_token(user.id, "limits", scope)
    return f"Bearer {secret}"


def test_the_fourth_call_in_a_minute_is_429_with_retry_after(limited_app, alice):
    client = limited_app.test_client()
    headers = {"Authorization": secret_for(alice)}
    for _ in range(3):
        assert client.get("/api/v1/me", headers=headers).status_code == 200
    response = client.post("/api/v1/tasks", json={"title": "t"}, headers=headers)
    assert_error(response, 429, "RATE_LIMITED")
    assert 1 <= int(response.headers["Retry-After"]) <= 60


def test_each_user_has_one_budget_across_the_whole_api_and_all_their_tokens(limited_app, alice, bob):
    client = limited_app.test_client()
    first, second = {"Authorization": secret_for(alice)}, {"Authorization": secret_for(alice, "read")}
    for path, headers in (("/api/v1/me", first), ("/api/v1/tags", second), ("/api/v1/tasks", first)):
        assert client.get(path, headers=headers).status_code == 200
    assert client.get("/api/v1/export", headers=second).status_code == 429
    assert client.get("/api/v1/me", headers={"Authorization": secret_for(bob)}).status_code == 200


@pytest.mark.parametrize("authorization", [None, "Bearer tm_made-up-{n}", "Basic {n}"])
def test_calls_without_valid_credentials_are_limited_by_address(limited_app, authorization):
    client = limited_app.test_client()
    statuses = [client.get("/api/v1/me", headers={"Authorization": authorization.format(n=n)} if authorization
                           else {}).status_code for n in range(4)]
    assert statuses == [401, 401, 401, 429]
    other_address = client.get("/api/v1/me", environ_base={"REMOTE_ADDR": "198.51.100.9"})
    assert other_address.status_code == 401


@pytest.fixture
def app_without_database(app):
    """The app pointed at a port where no database listens: it starts anyway."""
    down = make_app(f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/nowhere",
                    env={"DB_CONNECT_TIMEOUT": "1"})
    yield down
    with down.app_context():
        db.engine.dispose()


@pytest.mark.parametrize("path", ["/api/v1/tasks", "/api/v1/me"])
def test_with_the_database_down_the_api_answers_503_with_retry_after(app_without_database, path):
    response = app_without_database.test_client().get(path, headers={"Authorization": "Bearer tm_anything"})
    assert_error(response, 503, "DATABASE_UNAVAILABLE")
    assert int(response.headers["Retry-After"]) > 0


@pytest.mark.parametrize("path", ["/api/v1/tasks", "/api/v1/tasks/{id}", "/api/v1/export", "/api/v1/me",
                                  "/api/v1/tags", "/api/v1/tasks/00000000-0000-4000-8000-000000000000"])
def test_every_api_answer_with_my_data_says_no_store(client, as_alice, make_task, alice, path):
    task = make_task(alice)
    response = client.get(path.format(id=task.id), headers=as_alice)
    assert response.headers["Cache-Control"] == "no-store"


def test_answers_carry_retry_after_only_when_limited_or_unavailable(limited_app, alice):
    client = limited_app.test_client()
    headers = {"Authorization": secret_for(alice)}
    ok, missing = client.get("/api/v1/me", headers=headers), client.get("/api/v1/tasks/nope", headers=headers)
    assert (ok.status_code, missing.status_code) == (200, 404)
    for response in (ok, missing):
        assert "Retry-After" not in response.headers
        assert not [name for name, _ in response.headers if name.lower().startswith("x-ratelimit")]
    down_app = make_app(f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/nowhere",
                        env={"DB_CONNECT_TIMEOUT": "1", "RATELIMIT_ENABLED": "true"})
    down = down_app.test_client().get("/api/v1/me", headers={"Authorization": "Bearer tm_x"})
    assert down.status_code == 503 and down.headers.getlist("Retry-After") == ["5"]  # the app's own, alone
    with down_app.app_context():
        db.engine.dispose()
