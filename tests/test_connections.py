"""The connection guarantees of the lean request path (README: "Connections").

Statements run in autocommit; the statement timeout is a default of the app's role in
its database, set by `flask db upgrade`; a pooled connection is pinged only after it sat
idle long enough to have been dropped or when the server closed it, and a dead one is
replaced before anything is sent on it; a statement that may have run is never sent
again. The tests marked `pooled` run again through a real PgBouncer in transaction mode.
"""
from __future__ import annotations

import io
import json
import threading
import time

import psycopg
import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import event, text
from sqlalchemy.engine import make_url

from myapp.errors import DatabaseUnavailable, QueryTimeout
from myapp.extensions import db
from myapp.services import tasks, tokens, users
from myapp.services.operations import operation, transaction

from conftest import PASSWORD, libpq, make_app
from support.pages import sign_in
from support.wire import round_trips


@pytest.fixture
def fresh_database(databases, app_database_url):
    """A database of its own, upgraded with the given settings: (direct URL, URL the app uses)."""
    made = []

    def make(**env):
        direct = databases.create("tm_conn")
        migrator = make_app(direct, env=env)
        with migrator.app_context():
            upgrade()
            db.engine.dispose()
        through = make_url(app_database_url).set(database=make_url(direct).database).render_as_string(
            hide_password=False)
        made.append(direct)
        return direct, through

    return make


@pytest.fixture
def app_on(request):
    """An app of its own on a given URL, disposed of afterwards."""
    apps = []

    def make(url, **env):
        made = make_app(url, env=env)
        apps.append(made)
        return made

    yield make
    for made in apps:
        with made.app_context():
            db.session.remove()
            db.engine.dispose()


def sleep_for(seconds: float):
    return operation("test.sleep")(lambda: db.session.execute(text(f"SELECT pg_sleep({seconds})")).all())()


# --- engine ----------------------------------------------------------------------------------


def test_the_engine_keeps_a_small_pool_and_does_not_ping_on_every_checkout(app):
    engine = db.engine
    assert engine.pool._pre_ping is False
    assert engine.pool.size() == 5
    assert engine.pool._max_overflow == 10
    assert engine.pool._recycle == 300  # idle connections replaced (Neon suspends idle computes)
    assert engine.hide_parameters is True


@pytest.mark.pooled
def test_connections_have_no_prepared_statements_keepalives_and_the_application_name(app):
    with db.engine.connect() as conn:
        driver = conn.connection.driver_connection
        assert isinstance(driver, psycopg.Connection)
        assert driver.prepare_threshold is None
        assert driver.autocommit is True
        parameters = driver.info.get_parameters()
        assert parameters["connect_timeout"] == "5"
        assert (parameters["keepalives"], parameters["keepalives_idle"]) == ("1", "5")
        assert parameters["tcp_user_timeout"] == "8000"
        assert conn.execute(text("SHOW application_name")).scalar() == "taskmanager"


@pytest.mark.pooled
def test_a_read_sends_only_its_statement_no_begin_set_or_rollback(app):
    db.session.remove()
    with round_trips(db.engine) as trips:
        db.session.execute(text("SELECT 1")).all()
        db.session.remove()
    assert trips.count == 1
    assert not any(trips.sent(word) for word in ("BEGIN", "SET", "ROLLBACK", "COMMIT"))


@pytest.mark.pooled
def test_a_transaction_sends_begin_and_commit_and_leaves_the_connection_in_autocommit(app, alice, sql):
    @operation("test.two_writes")
    def two_writes(user_id):
        with transaction():
            tasks.create_task(user_id, {"title": "one"})
            tasks.create_task(user_id, {"title": "two"})

    db.session.remove()
    with round_trips(db.engine) as trips:
        two_writes(alice.id)
        db.session.remove()
    assert trips.count == 4
    assert trips.sent("BEGIN") and trips.sent("COMMIT")
    with db.engine.connect() as conn:
        assert conn.connection.driver_connection.autocommit is True


@pytest.mark.pooled
def test_a_failure_inside_a_transaction_leaves_nothing_written(app, alice, sql):
    @operation("test.half")
    def half(user_id):
        with transaction():
            tasks.create_task(user_id, {"title": "first"})
            db.session.execute(text("SELECT 1/0"))

    with pytest.raises(Exception, match="division by zero"):
        half(alice.id)
    assert sql("SELECT count(*) FROM tasks")[0][0] == 0


# --- the statement timeout -------------------------------------------------------------------


@pytest.mark.pooled
def test_the_statement_timeout_is_a_default_of_the_apps_role_in_its_database(fresh_database, app_on):
    _, url = fresh_database(DB_STATEMENT_TIMEOUT_MS=300)
    app = app_on(url, DB_STATEMENT_TIMEOUT_MS=300)
    with app.app_context():
        with round_trips(db.engine) as trips:
            assert db.session.execute(text("SHOW statement_timeout")).scalar() == "300ms"
            assert db.session.execute(text("SHOW TimeZone")).scalar() == "UTC"
            db.session.remove()
        assert trips.count == 2  # nothing sent for them


@pytest.mark.pooled
def test_a_statement_over_the_timeout_is_stopped_with_query_timeout_not_a_hang(fresh_database, app_on, json_logs):
    _, url = fresh_database(DB_STATEMENT_TIMEOUT_MS=300)
    app = app_on(url, DB_STATEMENT_TIMEOUT_MS=300)
    with app.app_context():
        started = time.monotonic()
        with pytest.raises(QueryTimeout):
            sleep_for(3)
        assert time.monotonic() - started < 2
        db.session.remove()
        assert db.session.execute(text("SELECT 1")).scalar() == 1  # the connection is still good
        db.session.remove()
    warning = [line for line in json_logs() if line.get("level") == "WARNING" and "timeout" in line["message"]]
    assert warning and warning[0]["operation"] == "test.sleep"


@pytest.mark.pooled
def test_a_statement_timeout_is_answered_as_503_query_timeout_with_retry_after(fresh_database, app_on):
    _, url = fresh_database(DB_STATEMENT_TIMEOUT_MS=300)
    app = app_on(url, DB_STATEMENT_TIMEOUT_MS=300)

    @app.get("/api/_probe/slow")
    def slow():
        sleep_for(3)
        return {}

    response = app.test_client().get("/api/_probe/slow")
    assert response.status_code == 503
    assert response.json["code"] == "QUERY_TIMEOUT"
    assert response.json["message"] != DatabaseUnavailable.message
    assert response.headers["Retry-After"].isdigit()


def test_every_upgrade_applies_the_configured_timeout_and_downgrade_base_removes_it(fresh_database, app_on, server_url):
    direct, _ = fresh_database(DB_STATEMENT_TIMEOUT_MS=300)
    migrator = make_app(direct, env={"DB_STATEMENT_TIMEOUT_MS": 450})
    with migrator.app_context():
        upgrade()  # nothing left to migrate: the setting is applied all the same
        with psycopg.connect(libpq(direct)) as conn:
            assert conn.execute("SHOW statement_timeout").fetchone()[0] == "450ms"
        downgrade(revision="base")
        with psycopg.connect(libpq(direct)) as conn, psycopg.connect(libpq(server_url)) as plain:
            assert conn.execute("SHOW statement_timeout").fetchone()[0] == \
                plain.execute("SHOW statement_timeout").fetchone()[0]
        db.engine.dispose()


def test_the_migrations_themselves_run_without_the_timeout(fresh_database):
    direct, _ = fresh_database(DB_STATEMENT_TIMEOUT_MS=1)  # 1 ms: any real statement would be stopped
    with psycopg.connect(libpq(direct)) as conn:
        # The check itself runs without the 1 ms its role now has (a first read in a new
        # server session can take longer than that on a busy machine).
        conn.execute("SET statement_timeout = 0")
        assert conn.execute("SELECT count(*) FROM alembic_version").fetchone()[0] == 1


def test_start_up_says_so_when_the_timeout_in_force_is_not_the_configured_one(database_url, app_on, json_logs):
    json_logs()
    app_on(database_url, DB_STATEMENT_TIMEOUT_MS=1234)
    (line,) = [line for line in json_logs() if line.get("event") == "role_settings_mismatch"]
    assert "DB_STATEMENT_TIMEOUT_MS=1234" in line["message"] and "flask db upgrade" in line["message"]


# --- dead connections ------------------------------------------------------------------------


@pytest.mark.pooled
def test_a_request_borrows_one_connection_for_its_statements_and_never_holds_two(app_database_url, app_on):
    """A read's statements (who is calling, then the task) share one checkout; a request
    whose session then begins a transaction gives that connection back first, so that a
    pool of one serves them all (else the transaction would wait for the pool, then 503)."""
    small = app_on(app_database_url, DB_POOL_SIZE=1, DB_MAX_OVERFLOW=0, DB_POOL_TIMEOUT=1)
    with small.app_context():
        user = users.create_user("pool@example.com", PASSWORD)
        _, secret = tokens.create_token(user.id, "script")
        db.session.remove()
        checkouts = []
        event.listen(db.engine, "checkout", lambda *_args: checkouts.append(1))
    client, headers = small.test_client(), {"Authorization": f"Bearer {secret}"}
    task = client.post("/api/v1/tasks", json={"title": "Water the plants", "due_date": "2030-01-07",
                                              "recurrence": {"rule": "FREQ=DAILY"}}, headers=headers).json
    checkouts.clear()
    assert client.get(f"/api/v1/tasks/{task['id']}", headers=headers).status_code == 200
    assert len(checkouts) == 1
    # Done and renamed at once: one transaction, after the token's lookup.
    changed = client.patch(f"/api/v1/tasks/{task['id']}", json={"completed": True, "title": "Water them"},
                           headers=headers)
    assert changed.status_code == 200 and changed.json["due_date"] == "2030-01-08"
    project = client.post("/api/v1/projects", json={"name": "Garden"}, headers=headers).json
    assert client.delete(f"/api/v1/projects/{project['id']}", headers=headers).status_code == 204
    # An export and an import run on connections of their own, streamed after the lookup's.
    exported = client.get("/api/v1/export", headers=headers)
    assert exported.status_code == 200 and b"Water them" in exported.data
    imported = client.post("/api/v1/import", headers={**headers, "Accept": "application/x-ndjson"},
                           data={"file": (io.BytesIO(b"Task,List\nMulch,Garden\n"), "tasks.csv")})
    assert imported.status_code == 200 and json.loads(imported.data.splitlines()[-1])["tasks_created"] == 1


def terminate_backends(server_url, database: str) -> int:
    with psycopg.connect(libpq(server_url), autocommit=True) as conn:
        return conn.execute("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                            "WHERE datname = %s AND pid <> pg_backend_pid()", (database,)).fetchone()[0]


@pytest.mark.pooled
def test_after_every_backend_of_the_app_is_terminated_the_next_requests_succeed(app, client, alice, server_url,
                                                                              database_url, sql):
    _, secret = tokens.create_token(alice.id, "script")
    headers = {"Authorization": f"Bearer {secret}"}
    db.session.remove()
    assert client.get("/api/v1/tasks", headers=headers).status_code == 200
    assert terminate_backends(server_url, make_url(database_url).database) >= 1
    time.sleep(0.2)  # the server's goodbye reaches the pooled connections
    assert client.get("/api/v1/tasks", headers=headers).status_code == 200
    assert terminate_backends(server_url, make_url(database_url).database) >= 1
    time.sleep(0.2)
    response = client.post("/api/v1/tasks", json={"title": "after the restart"}, headers=headers)
    assert response.status_code == 201
    assert sql("SELECT count(*) FROM tasks WHERE title = 'after the restart'")[0][0] == 1


@pytest.mark.pooled
def test_a_connection_idle_long_enough_is_pinged_before_use_and_a_recent_one_is_not(app_database_url, app_on):
    for ping_after, expected in ((30, 1), (0, 2)):
        app = app_on(app_database_url, DB_IDLE_PING_SECONDS=ping_after)
        with app.app_context():
            db.session.execute(text("SELECT 1")).all()  # a connection in the pool, used just now
            db.session.remove()
            with round_trips(db.engine) as trips:
                db.session.execute(text("SELECT 1")).all()
                db.session.remove()
        assert trips.count == expected, (ping_after, trips.messages)


@pytest.mark.pooled
def test_a_write_whose_connection_dies_while_it_runs_is_an_error_and_never_written_again(app, alice, server_url,
                                                                                       database_url, sql):
    tasks.create_task(alice.id, {"title": "makes the counts row"})
    db.session.remove()
    outcome = {}

    def write():
        with app.app_context():
            try:
                tasks.create_task(alice.id, {"title": "lost in flight"})
                outcome["result"] = "written"
            except DatabaseUnavailable:
                outcome["result"] = "unavailable"
            finally:
                db.session.remove()

    # Hold the row the INSERT's trigger must update, so that the INSERT is surely running.
    with psycopg.connect(libpq(database_url)) as holder:
        holder.execute("SELECT 1 FROM projects WHERE user_id = %s FOR UPDATE", (alice.id,))
        writer = threading.Thread(target=write)
        writer.start()
        with psycopg.connect(libpq(server_url), autocommit=True) as admin:
            deadline = time.monotonic() + 10
            while True:
                row = admin.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s AND wait_event_type = 'Lock' "
                                    "AND query LIKE 'INSERT INTO tasks%%'",
                                    (make_url(database_url).database,)).fetchone()
                if row or time.monotonic() > deadline:
                    break
                time.sleep(0.05)
            assert row, "the INSERT never started"
            admin.execute("SELECT pg_terminate_backend(%s)", (row[0],))
        writer.join(15)
        holder.rollback()
    assert outcome == {"result": "unavailable"}
    assert sql("SELECT count(*) FROM tasks WHERE title = 'lost in flight'")[0][0] == 0
    assert tasks.create_task(alice.id, {"title": "and then"}).title == "and then"  # the app carries on


def test_a_browser_session_also_survives_terminated_backends(app, client, server_url, database_url, make_user):
    user = make_user("carol@example.com", PASSWORD)
    assert sign_in(client, user.email, PASSWORD).status_code == 302
    assert terminate_backends(server_url, make_url(database_url).database) >= 1
    time.sleep(0.2)
    assert client.get("/").status_code == 200
