"""JSON logs (one line per request, carrying its service operations) and the health probes."""
from __future__ import annotations

import re
import uuid
from contextlib import contextmanager

import pytest
from flask_login import current_user, login_user
from sqlalchemy import event, text

from myapp.errors import NotFound
from myapp.extensions import db
from myapp.services import signins, tasks, tokens

from conftest import make_app

HEX_ID = re.compile(r"^[0-9a-f]{32}$")


def request_lines(lines: list[dict]) -> list[dict]:
    return [line for line in lines if line.get("logger") == "myapp.request"]


@contextmanager
def database_activity(engine):
    """Every SQL statement sent and every connection taken from the pool meanwhile."""
    seen = {"statements": [], "checkouts": 0}

    def on_statement(conn, cursor, statement, parameters, context, executemany):
        seen["statements"].append(statement)

    def on_checkout(dbapi_connection, record, proxy):
        seen["checkouts"] += 1

    event.listen(engine, "before_cursor_execute", on_statement)
    event.listen(engine.pool, "checkout", on_checkout)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", on_statement)
        event.remove(engine.pool, "checkout", on_checkout)


@pytest.fixture
def probe_app(app, database_url):
    """An app of its own with a few routes that stand in for pages not built yet."""
    probe = make_app(database_url)

    @probe.get("/_probe/sign-in/<user_id>")
    def sign_in(user_id):
        login_user(signins.start(uuid.UUID(user_id)))
        return "signed in"

    @probe.get("/_probe/whoami")
    def whoami():
        return str(current_user.id) if current_user.is_authenticated else "anonymous"

    @probe.get("/_probe/sql-error")
    def sql_error():
        db.session.execute(text("INSERT INTO tasks (user_id, title) VALUES (:user_id, :title)"),
                           {"user_id": uuid.uuid4(), "title": "param-secret-title"})
        return "unreachable"

    yield probe
    with probe.app_context():
        db.session.remove()
        db.engine.dispose()


def test_each_request_logs_one_json_line_with_id_method_path_status_and_duration(client, json_logs):
    json_logs()
    response = client.get("/readyz")
    (line,) = request_lines(json_logs())
    assert line["request_id"] == response.headers["X-Request-ID"]
    assert HEX_ID.match(line["request_id"])
    assert (line["method"], line["path"], line["status"]) == ("GET", "/readyz", 200)
    assert isinstance(line["duration_ms"], (int, float)) and line["duration_ms"] >= 0
    assert line["level"] == "INFO"


def test_a_request_for_a_missing_page_is_logged_with_its_status(client, json_logs):
    json_logs()
    client.post("/no-such-page", data={"x": "1"})
    (line,) = request_lines(json_logs())
    assert (line["method"], line["path"], line["status"]) == ("POST", "/no-such-page", 404)


@pytest.mark.parametrize("request_id", ["abc-123", "9f2b8c1d-6d0e-4a5b-8f3e-1c2d3e4f5a6b", "lb.trace:42_x",
                                        "x" * 128])
def test_a_safe_request_id_from_the_client_is_echoed_and_logged(client, json_logs, request_id):
    json_logs()
    response = client.get("/readyz", headers={"X-Request-ID": request_id})
    assert response.headers["X-Request-ID"] == request_id
    (line,) = request_lines(json_logs())
    assert line["request_id"] == request_id


@pytest.mark.parametrize("request_id", ["two words", "x" * 129, "<script>", "id;drop", "caf\u00e9", ""])
def test_an_unsafe_request_id_is_replaced_by_a_new_one(client, json_logs, request_id):
    json_logs()
    response = client.get("/readyz", headers={"X-Request-ID": request_id})
    echoed = response.headers["X-Request-ID"]
    assert echoed != request_id and HEX_ID.match(echoed)
    (line,) = request_lines(json_logs())
    assert line["request_id"] == echoed


def test_a_request_writes_one_line_that_carries_its_service_operations(client, alice, json_logs):
    task = tasks.create_task(alice.id, {"title": "private words in the title"})
    _, secret = tokens.create_token(alice.id, "logs")
    json_logs()
    client.get(f"/api/v1/tasks/{task.id}", headers={"Authorization": f"Bearer {secret}", "X-Request-ID": "trace-me"})
    (line,) = json_logs()  # one line for the whole request
    assert (line["logger"], line["request_id"], line["user_id"]) == ("myapp.request", "trace-me", str(alice.id))
    authenticate, fetch = line["operations"]
    assert (authenticate["operation"], authenticate["outcome"]) == ("token.authenticate", "ok")
    assert (fetch["operation"], fetch["user_id"], fetch["task_id"], fetch["outcome"]) == \
        ("task.get", str(alice.id), str(task.id), "ok")
    assert all(isinstance(op["duration_ms"], (int, float)) and op["duration_ms"] >= 0 for op in line["operations"])
    assert "private words" not in str(line)


def test_a_failed_operation_is_named_in_the_request_line_with_its_outcome(client, alice, bob, json_logs):
    task = tasks.create_task(alice.id, {"title": "t"})
    _, secret = tokens.create_token(bob.id, "logs")
    json_logs()
    assert client.get(f"/api/v1/tasks/{task.id}", headers={"Authorization": f"Bearer {secret}"}).status_code == 404
    (line,) = json_logs()
    assert line["status"] == 404
    assert (line["operations"][-1]["operation"], line["operations"][-1]["outcome"]) == ("task.get", "not_found")


def test_an_error_adds_its_own_line_with_the_request_id(probe_app, json_logs):
    json_logs()
    probe_app.test_client().get("/_probe/sql-error", headers={"X-Request-ID": "err-1"})
    lines = json_logs()
    error = [line for line in lines if line["level"] == "ERROR"]
    assert error and error[0]["request_id"] == "err-1" and "exc_info" in error[0]
    assert [line["status"] for line in request_lines(lines)] == [500]


def test_healthz_answers_without_touching_the_database(app, client):
    with database_activity(db.engine) as seen:
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok"}
    assert seen == {"statements": [], "checkouts": 0}


def test_healthz_does_not_touch_the_database_for_a_signed_in_visitor(probe_app, alice):
    visitor = probe_app.test_client()
    assert visitor.get(f"/_probe/sign-in/{alice.id}").status_code == 200
    with probe_app.app_context():
        engine = db.engine
    with database_activity(engine) as seen:
        response = visitor.get("/healthz")
    assert response.status_code == 200
    assert seen == {"statements": [], "checkouts": 0}


def test_readyz_runs_select_1_and_answers_200(app, client):
    with database_activity(db.engine) as seen:
        response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": "ok"}
    assert "SELECT 1" in seen["statements"]


def test_the_request_line_names_the_signed_in_user(probe_app, alice, json_logs):
    visitor = probe_app.test_client()
    json_logs()
    visitor.get(f"/_probe/sign-in/{alice.id}")
    (signed_in,) = request_lines(json_logs())
    assert signed_in["user_id"] == str(alice.id)
    assert visitor.get("/_probe/whoami").text == str(alice.id)
    (later,) = request_lines(json_logs())
    assert later["user_id"] == str(alice.id)


def test_the_request_line_of_an_anonymous_visitor_has_no_user(probe_app, json_logs):
    json_logs()
    assert probe_app.test_client().get("/_probe/whoami").text == "anonymous"
    (line,) = request_lines(json_logs())
    assert line["user_id"] is None


def test_each_service_operation_logs_operation_user_task_outcome_and_duration(alice, json_logs):
    task = tasks.create_task(alice.id, {"title": "private words in the title"})
    tasks.get_task(alice.id, task.id)
    lines = json_logs()
    (created,) = [line for line in lines if line.get("operation") == "task.create"]
    (fetched,) = [line for line in lines if line.get("operation") == "task.get"]
    assert created["user_id"] == str(alice.id) and created["outcome"] == "ok"
    assert fetched["user_id"] == str(alice.id)
    assert fetched["task_id"] == str(task.id)
    assert fetched["outcome"] == "ok"
    assert isinstance(fetched["duration_ms"], (int, float)) and fetched["duration_ms"] >= 0
    assert "private words" not in str(lines)


def test_a_failed_service_operation_logs_its_outcome(alice, bob, json_logs):
    task = tasks.create_task(alice.id, {"title": "t"})
    json_logs()
    with pytest.raises(NotFound):
        tasks.get_task(bob.id, task.id)
    (line,) = [line for line in json_logs() if line.get("operation") == "task.get"]
    assert (line["user_id"], line["task_id"], line["outcome"]) == (str(bob.id), str(task.id), "not_found")


def test_a_logged_sql_error_carries_no_statement_parameters(probe_app, capsys):
    capsys.readouterr()
    response = probe_app.test_client().get("/_probe/sql-error")
    assert response.status_code == 500
    assert "Traceback" not in response.text and "INSERT" not in response.text
    out = capsys.readouterr().out
    assert "IntegrityError" in out  # the error and its traceback are logged...
    assert "SQL parameters hidden" in out
    assert "param-secret-title" not in out  # ...but not what the statement was given


def test_a_logged_database_error_does_not_quote_row_values(app, alice, capsys):
    import logging

    from sqlalchemy import text

    from myapp.extensions import db

    try:
        with db.engine.begin() as conn:
            conn.execute(text("INSERT INTO tasks (user_id, title) VALUES (:u, :t)"),
                         {"u": alice.id, "t": "secret-task-text" + "x" * 300})
    except Exception:
        logging.getLogger("myapp.test").exception("unhandled error")
    out = capsys.readouterr().out
    assert "ck_tasks_title_length" in out
    assert "secret-task-text" not in out
