"""An app whose database does not answer: it starts, says why once, and reports 503 until it does."""
from __future__ import annotations

import uuid

import pytest

from myapp.errors import DatabaseUnavailable
from myapp.extensions import db
from myapp.services import health, signins, tasks, tokens, users

from conftest import make_app

SECRET = "pw-secret"
CLOSED_PORT_URL = f"postgresql+psycopg://user:{SECRET}@127.0.0.1:1/x"


@pytest.fixture
def down_app():
    app = make_app(CLOSED_PORT_URL)
    yield app
    with app.app_context():
        db.engine.dispose()


def test_start_up_logs_one_line_with_host_port_and_reason_and_does_not_raise(json_logs):
    app = make_app(CLOSED_PORT_URL)
    lines = json_logs()
    assert len(lines) == 1
    (line,) = lines
    assert line["level"] == "ERROR"
    assert "127.0.0.1:1" in line["message"]
    assert "refused" in line["message"].lower()
    assert SECRET not in str(line)
    assert app.config["DATABASE_URL"].password == SECRET  # it was there to leak
    with app.app_context():
        db.engine.dispose()


SERVICE_CALLS = {
    "tasks.create_task": lambda: tasks.create_task(uuid.uuid4(), {"title": "t"}),
    "tasks.get_task": lambda: tasks.get_task(uuid.uuid4(), uuid.uuid4()),
    "tasks.list_tasks": lambda: tasks.list_tasks(uuid.uuid4(), {}),
    "tasks.update_task": lambda: tasks.update_task(uuid.uuid4(), uuid.uuid4(), {"title": "t"}),
    "tasks.toggle_task": lambda: tasks.toggle_task(uuid.uuid4(), uuid.uuid4()),
    "tasks.delete_task": lambda: tasks.delete_task(uuid.uuid4(), uuid.uuid4()),
    "tasks.clear_completed": lambda: tasks.clear_completed(uuid.uuid4()),
    "tasks.count_tasks": lambda: tasks.count_tasks(uuid.uuid4()),
    "tasks.list_tags": lambda: tasks.list_tags(uuid.uuid4()),
    "users.create_user": lambda: users.create_user("new@example.com", "long enough password"),
    "signins.sign_in": lambda: signins.sign_in("new@example.com", "long enough password"),
    "signins.load": lambda: signins.load(uuid.uuid4()),
    "signins.list_sign_ins": lambda: signins.list_sign_ins(uuid.uuid4()),
    "users.get_user": lambda: users.get_user(uuid.uuid4()),
    "tokens.authenticate_token": lambda: tokens.authenticate_token("tm_" + "x" * 43),
    "health.check_database": lambda: health.check_database(),
}


@pytest.mark.parametrize("call", SERVICE_CALLS.values(), ids=SERVICE_CALLS.keys())
def test_services_raise_database_unavailable(down_app, call):
    with down_app.app_context(), pytest.raises(DatabaseUnavailable):
        call()


def test_readyz_answers_503_json_with_retry_after(down_app):
    response = down_app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.headers["Retry-After"].isdigit()
    assert response.json["code"] == "DATABASE_UNAVAILABLE"
    assert set(response.json) == {"code", "message", "details"}


def test_healthz_still_answers_200(down_app):
    response = down_app.test_client().get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok"}


def test_no_log_line_carries_the_password(capsys):
    app = make_app(CLOSED_PORT_URL)
    with app.app_context(), pytest.raises(DatabaseUnavailable):
        tasks.list_tasks(uuid.uuid4(), {})
    app.test_client().get("/readyz")
    out = capsys.readouterr()
    assert "database unavailable at 127.0.0.1:1" in out.out
    assert SECRET not in out.out + out.err
    with app.app_context():
        db.engine.dispose()


@pytest.mark.parametrize("path", ["/", "/account", "/?status=overdue"])
def test_a_signed_in_page_with_the_database_unreachable_is_the_503_page(down_app, path):
    # A browser that signed in before the outage: its cookie names a sign-in the app must check.
    client = down_app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = str(uuid.uuid4())
        session["_fresh"] = True
    response = client.get(path)
    assert response.status_code == 503
    html = response.get_data(as_text=True)
    assert "Temporarily unavailable" in html and '<link rel="stylesheet"' in html
    assert response.headers["Retry-After"].isdigit()
    assert SECRET not in html and "Traceback" not in html
