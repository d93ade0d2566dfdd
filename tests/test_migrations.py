"""The migrations, run as an operator runs them: the real `flask db` CLI on a fresh database."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import psycopg
import pytest

from myapp.models import DUE_KEY

from conftest import ROOT, libpq

# Everything the schema is made of, as PostgreSQL's catalogue describes it.
SCHEMA_LISTING = """
SELECT 'table ' || tablename FROM pg_tables WHERE schemaname = 'public'
UNION ALL
SELECT 'column ' || table_name || '.' || column_name || ' ' || data_type || ' '
       || is_nullable || ' ' || coalesce(column_default, '') || ' ' || coalesce(generation_expression, '')
FROM information_schema.columns WHERE table_schema = 'public'
UNION ALL
SELECT 'index ' || indexdef FROM pg_indexes WHERE schemaname = 'public'
UNION ALL
SELECT 'constraint ' || conrelid::regclass || ' ' || conname || ' ' || pg_get_constraintdef(oid)
FROM pg_constraint WHERE connamespace = 'public'::regnamespace
UNION ALL
SELECT 'trigger ' || pg_get_triggerdef(oid) FROM pg_trigger WHERE NOT tgisinternal
UNION ALL
SELECT 'function ' || proname || ' ' || md5(prosrc) FROM pg_proc WHERE pronamespace = 'public'::regnamespace
UNION ALL
SELECT 'extension ' || extname FROM pg_extension WHERE extname <> 'plpgsql'
"""


def flask(database_url: str, *args: str, **extra_env: str) -> subprocess.CompletedProcess:
    """Run `flask --app app <args>` from the top of the repository, as an operator would."""
    env = {key: value for key, value in os.environ.items()
           if key not in ("DATABASE_URL", "DATABASE_URL_UNPOOLED", "FLASK_APP", "SECRET_KEY")}
    env.update(APP_ENV="testing", LOG_LEVEL="INFO", DATABASE_URL=database_url, **extra_env)
    return subprocess.run([sys.executable, "-m", "flask", "--app", "app", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


def ok(result: subprocess.CompletedProcess) -> subprocess.CompletedProcess:
    assert result.returncode == 0, f"exit {result.returncode}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    return result


def schema(database_url: str) -> list[str]:
    with psycopg.connect(libpq(database_url)) as conn:
        return sorted(row[0] for row in conn.execute(SCHEMA_LISTING))


def run_sql(database_url: str, statement: str, *params):
    with psycopg.connect(libpq(database_url), autocommit=True) as conn:
        cursor = conn.execute(statement, params)
        return cursor.fetchall() if cursor.description else None


@pytest.fixture
def empty_database(databases) -> str:
    return databases.create("tm_migrate")


@pytest.fixture
def migrated_database(empty_database) -> str:
    ok(flask(empty_database, "db", "upgrade"))
    return empty_database


def test_upgrade_builds_the_whole_schema_on_an_empty_database(empty_database):
    assert schema(empty_database) == []
    ok(flask(empty_database, "db", "upgrade"))
    listing = schema(empty_database)
    for table in ("users", "projects", "tasks", "tag_counts", "api_tokens", "idempotency_keys",
                  "task_completions", "alembic_version"):
        assert f"table {table}" in listing
    triggers = " ".join(line for line in listing if line.startswith("trigger "))
    for trigger in ("users_set_updated_at", "tasks_before_update", "tasks_counts_insert",
                    "tasks_counts_update", "tasks_counts_delete", "users_create_inbox", "projects_before_write",
                    "tasks_check_tree_insert", "tasks_check_tree_update", "tasks_follow_completion"):
        assert trigger in triggers
    indexes = " ".join(line for line in listing if line.startswith("index "))
    for index in ("ix_tasks_user_created", "ix_tasks_user_due", "ix_tasks_user_priority", "ix_tasks_user_title",
                  "ix_tasks_tags", "ix_tasks_search", "uq_users_email_lower", "ix_tasks_parent",
                  "ix_tasks_project_created", "uq_projects_user_name", "uq_projects_user_inbox",
                  "ix_task_completions_task"):
        assert index in indexes
    assert not [line for line in listing if line.startswith("extension ")], "the schema must use core PostgreSQL only"


def test_the_foreign_keys_delete_a_users_rows_with_the_user(migrated_database):
    rules = run_sql(migrated_database,
                    "SELECT conrelid::regclass::text, confdeltype FROM pg_constraint "
                    "WHERE contype = 'f' AND confrelid = 'users'::regclass")
    assert {table for table, _ in rules} == {"tasks", "projects", "tag_counts", "api_tokens", "idempotency_keys",
                                             "sign_ins", "task_completions"}
    assert {rule for _, rule in rules} == {"c"}  # ON DELETE CASCADE


FIRST_REVISION = "65d3a1b86e5c"
SIGN_INS_REVISION = "2fa59d9ebef4"
TITLES_REVISION = "6063131dcbc8"
PROJECTS_REVISION = "b7e2c41f9a30"


def test_upgrading_a_database_with_data_keeps_every_task_and_points_idempotency_keys_at_their_tasks(empty_database):
    ok(flask(empty_database, "db", "upgrade", FIRST_REVISION))
    user = run_sql(empty_database, "INSERT INTO users (email, password_hash, session_epoch) "
                                   "VALUES ('old@example.com', 'x', 3) RETURNING id")[0][0]
    run_sql(empty_database, "INSERT INTO tasks (user_id, title, description, due_date, priority, tags, completed) "
                            "VALUES (%s, 'Kept', 'notes', '2026-12-24', 'high', '{home,work}', false), "
                            "(%s, 'Done', NULL, NULL, 'none', '{}', true)", user, user)
    before = run_sql(empty_database, "SELECT id, title, description, due_date, priority, tags, completed, "
                                     "completed_at, version, created_at, updated_at FROM tasks ORDER BY title")
    counts = run_sql(empty_database, "SELECT active, completed FROM task_counts")
    kept_id = before[1][0]
    run_sql(empty_database, "INSERT INTO idempotency_keys (user_id, key, request_hash, status_code, response_body) "
                            "VALUES (%s, 'kept', %s, 201, jsonb_build_object('id', %s::text, 'title', 'Kept')), "
                            "(%s, 'gone', %s, 201, jsonb_build_object('id', gen_random_uuid()::text, 'title', 'x'))",
            user, "0" * 64, str(kept_id), user, "1" * 64)

    ok(flask(empty_database, "db", "upgrade", SIGN_INS_REVISION))
    assert run_sql(empty_database, "SELECT id, title, description, due_date, priority, tags, completed, "
                                   "completed_at, version, created_at, updated_at FROM tasks ORDER BY title") == before
    assert run_sql(empty_database, "SELECT active, completed FROM task_counts") == counts
    assert sorted(run_sql(empty_database, "SELECT key, task_id FROM idempotency_keys")) == \
        [("gone", None), ("kept", kept_id)]
    columns = {row[0] for row in run_sql(empty_database, "SELECT column_name FROM information_schema.columns "
                                                         "WHERE table_name = 'idempotency_keys'")}
    assert "response_body" not in columns  # no task text is kept there any more
    assert run_sql(empty_database, "SELECT count(*) FROM sign_ins") == [(0,)]  # old sessions sign in again

    ok(flask(empty_database, "db", "downgrade", FIRST_REVISION))
    assert run_sql(empty_database, "SELECT key, status_code, response_body->>'title', response_body->>'id' "
                                   "FROM idempotency_keys") == [("kept", 201, "Kept", str(kept_id))]
    assert run_sql(empty_database, "SELECT email, session_epoch FROM users") == [("old@example.com", 0)]
    assert len(run_sql(empty_database, "SELECT * FROM tasks")) == 2


def test_upgrading_repairs_titles_that_are_only_unicode_whitespace_and_then_refuses_them(empty_database):
    ok(flask(empty_database, "db", "upgrade", "2fa59d9ebef4"))
    user = run_sql(empty_database, "INSERT INTO users (email, password_hash) VALUES ('nel@example.com', 'x') "
                                   "RETURNING id")[0][0]
    run_sql(empty_database, "INSERT INTO tasks (user_id, title) VALUES (%s, %s), (%s, %s), (%s, %s)",
            user, "\u0085", user, "\t\u3000", user, "  Kept as it is  ")
    ok(flask(empty_database, "db", "upgrade"))
    assert sorted(row[0] for row in run_sql(empty_database, "SELECT title FROM tasks")) == \
        ["  Kept as it is  ", "Untitled task", "Untitled task"]
    with pytest.raises(psycopg.errors.CheckViolation):
        run_sql(empty_database, "INSERT INTO tasks (user_id, title) VALUES (%s, %s)", user, "\u0085\u2028")


def test_upgrading_a_database_with_data_puts_every_task_in_its_owners_new_inbox(empty_database):
    ok(flask(empty_database, "db", "upgrade", TITLES_REVISION))
    owners = [run_sql(empty_database, "INSERT INTO users (email, password_hash) VALUES (%s, 'x') RETURNING id",
                      email)[0][0] for email in ("ann@example.com", "ben@example.com", "cy@example.com")]
    ann, ben, _ = owners  # cy has no tasks: an Inbox all the same
    run_sql(empty_database, "INSERT INTO tasks (user_id, title, description, due_date, priority, tags, completed) "
                            "VALUES (%s, 'Kept', 'notes', '2026-12-24', 'high', '{home,work}', false), "
                            "(%s, 'Done', NULL, NULL, 'none', '{}', true), (%s, 'Ben''s', NULL, NULL, 'low', "
                            "'{x}', false)", ann, ann, ben)
    run_sql(empty_database, "UPDATE tasks SET title = 'Kept' WHERE title = 'Kept'")  # version 2
    fields = "id, user_id, title, description, due_date, priority, tags, completed, completed_at, version, " \
             "created_at, updated_at"
    before = run_sql(empty_database, f"SELECT {fields} FROM tasks ORDER BY title")
    counts = dict((user, (active, completed)) for user, active, completed in
                  run_sql(empty_database, "SELECT user_id, active, completed FROM task_counts"))
    tag_counts = run_sql(empty_database, "SELECT user_id, tag, count FROM tag_counts ORDER BY 1, 2")

    ok(flask(empty_database, "db", "upgrade"))
    assert run_sql(empty_database, f"SELECT {fields} FROM tasks ORDER BY title") == before
    inboxes = dict(run_sql(empty_database, "SELECT user_id, id FROM projects WHERE is_inbox AND name = 'Inbox'"))
    assert set(inboxes) == set(owners)
    assert run_sql(empty_database, "SELECT count(*) FROM projects")[0][0] == 3
    placed = run_sql(empty_database, "SELECT user_id, project_id, parent_id FROM tasks")
    assert all(project == inboxes[user] and parent is None for user, project, parent in placed)
    for user, (active, completed) in counts.items():
        assert run_sql(empty_database, "SELECT active_count, completed_count FROM projects WHERE id = %s",
                       inboxes[user]) == [(active, completed)]
    assert run_sql(empty_database, "SELECT user_id, tag, count FROM tag_counts ORDER BY 1, 2") == tag_counts
    # New rows keep the rules: a new user gets an Inbox, a task without a project goes there.
    dee = run_sql(empty_database, "INSERT INTO users (email, password_hash) VALUES ('dee@example.com', 'x') "
                                  "RETURNING id")[0][0]
    run_sql(empty_database, "INSERT INTO tasks (user_id, title) VALUES (%s, 'new')", dee)
    assert run_sql(empty_database, "SELECT p.name, p.active_count FROM tasks t JOIN projects p "
                                   "ON p.id = t.project_id WHERE t.user_id = %s", dee) == [("Inbox", 1)]

    ok(flask(empty_database, "db", "downgrade", TITLES_REVISION))
    assert run_sql(empty_database, f"SELECT {fields} FROM tasks WHERE title <> 'new' ORDER BY title") == before
    assert dict((user, (active, completed)) for user, active, completed in run_sql(
        empty_database, "SELECT user_id, active, completed FROM task_counts WHERE user_id <> %s "
                        "AND active + completed > 0", dee)) == counts
    run_sql(empty_database, "INSERT INTO tasks (user_id, title, completed) VALUES (%s, 'after', true)", ann)
    assert run_sql(empty_database, "SELECT active, completed FROM task_counts WHERE user_id = %s", ann) == \
        [(counts[ann][0], counts[ann][1] + 1)]  # the previous revision's trigger keeps them again
    ok(flask(empty_database, "db", "upgrade"))


def test_upgrading_a_database_with_data_keeps_every_task_and_sorts_by_due_date_and_time(empty_database):
    ok(flask(empty_database, "db", "upgrade", PROJECTS_REVISION))
    ann = run_sql(empty_database, "INSERT INTO users (email, password_hash) VALUES ('ann@example.com', 'x') "
                                  "RETURNING id")[0][0]
    run_sql(empty_database, "INSERT INTO tasks (user_id, title, due_date, tags, completed) VALUES "
                            "(%s, 'Later', '2026-12-24', '{home}', false), (%s, 'None', NULL, '{}', false), "
                            "(%s, 'Sooner', '2026-12-01', '{}', true)", ann, ann, ann)
    fields = "id, user_id, project_id, title, due_date, tags, completed, completed_at, version, created_at, updated_at"
    before = run_sql(empty_database, f"SELECT {fields} FROM tasks ORDER BY title")

    ok(flask(empty_database, "db", "upgrade"))
    assert run_sql(empty_database, f"SELECT {fields} FROM tasks ORDER BY title") == before
    assert run_sql(empty_database, "SELECT count(*) FROM tasks WHERE due_time IS NOT NULL "
                                   "OR recurrence_rule IS NOT NULL") == [(0,)]
    run_sql(empty_database, "INSERT INTO tasks (user_id, title, due_date, due_time) VALUES "
                            "(%s, 'Later, at nine', '2026-12-24', '09:00')", ann)
    by_due = f"SELECT title FROM tasks ORDER BY {DUE_KEY}, created_at, id"
    assert [row[0] for row in run_sql(empty_database, by_due)] == ["Sooner", "Later", "Later, at nine", "None"]
    with pytest.raises(psycopg.errors.CheckViolation):  # a time needs a date
        run_sql(empty_database, "INSERT INTO tasks (user_id, title, due_time) VALUES (%s, 'x', '09:00')", ann)

    ok(flask(empty_database, "db", "downgrade", PROJECTS_REVISION))
    assert run_sql(empty_database, f"SELECT {fields} FROM tasks WHERE title <> 'Later, at nine' "
                                   "ORDER BY title") == before
    ok(flask(empty_database, "db", "upgrade"))


IMPORT_KEYS_REVISION = "d5e9f3a28c61"


def test_upgrading_a_database_with_data_keeps_every_task_and_completion_and_imports_nothing_twice(empty_database):
    ok(flask(empty_database, "db", "upgrade", IMPORT_KEYS_REVISION))
    ann = run_sql(empty_database, "INSERT INTO users (email, password_hash) VALUES ('ann@example.com', 'x') "
                                  "RETURNING id")[0][0]
    task = run_sql(empty_database, "INSERT INTO tasks (user_id, title, due_date, recurrence_rule, recurrence_anchor, "
                                   "recurrence_mode, import_key) VALUES (%s, 'Water', '2026-12-07', 'FREQ=WEEKLY', "
                                   "'2026-11-30', 'due', 'csv:1') RETURNING id", ann)[0][0]
    run_sql(empty_database, "INSERT INTO task_completions (task_id, user_id, due_date, anchor) "
                            "VALUES (%s, %s, '2026-11-30', '2026-11-30')", task, ann)
    before = run_sql(empty_database, "SELECT id, due_date, anchor, completed_at FROM task_completions")

    ok(flask(empty_database, "db", "upgrade"))
    assert run_sql(empty_database, "SELECT id, due_date, anchor, completed_at FROM task_completions") == before
    assert run_sql(empty_database, "SELECT reopened FROM task_completions") == [([],)]  # undo reopens nothing
    assert run_sql(empty_database, "SELECT import_key FROM tasks") == [("csv:1",)]

    ok(flask(empty_database, "db", "downgrade", IMPORT_KEYS_REVISION))
    assert run_sql(empty_database, "SELECT id, due_date, anchor, completed_at FROM task_completions") == before
    ok(flask(empty_database, "db", "upgrade"))


def test_running_upgrade_again_changes_nothing(migrated_database):
    before = schema(migrated_database)
    run_sql(migrated_database, "INSERT INTO users (email, password_hash) VALUES ('keep@example.com', 'x')")
    ok(flask(migrated_database, "db", "upgrade"))
    assert schema(migrated_database) == before
    assert run_sql(migrated_database, "SELECT email FROM users") == [("keep@example.com",)]


def test_downgrade_to_base_removes_everything_and_upgrade_builds_it_again(migrated_database):
    built = schema(migrated_database)
    ok(flask(migrated_database, "db", "downgrade", "base"))
    left = schema(migrated_database)
    assert "table alembic_version" in left
    assert [line for line in left if "alembic_version" not in line] == []
    ok(flask(migrated_database, "db", "upgrade"))
    assert schema(migrated_database) == built


def test_check_finds_no_difference_between_the_models_and_the_migrations(migrated_database):
    result = ok(flask(migrated_database, "db", "check"))
    assert "No new upgrade operations detected" in result.stdout + result.stderr


def test_check_reports_a_schema_that_has_drifted_from_the_models(migrated_database):
    # The check above is only worth something if it can see a difference.
    run_sql(migrated_database, "ALTER TABLE tasks ALTER COLUMN priority DROP DEFAULT")
    result = flask(migrated_database, "db", "check")
    assert result.returncode != 0
    assert "New upgrade operations detected" in result.stdout + result.stderr
    assert "'tasks', 'priority'" in result.stdout + result.stderr


def test_upgrade_uses_the_unpooled_url_when_it_is_set(empty_database):
    # The pooled URL leads nowhere: the schema can only have been built through the unpooled one.
    result = ok(flask("postgresql://postgres:pooled-pw@127.0.0.1:1/nowhere", "db", "upgrade",
                      DATABASE_URL_UNPOOLED=empty_database))
    assert "table tasks" in schema(empty_database)
    assert "pooled-pw" not in result.stdout + result.stderr


def test_upgrade_without_the_unpooled_url_uses_the_database_url(empty_database, databases):
    other = databases.create("tm_migrate")
    ok(flask(empty_database, "db", "upgrade"))
    assert "table tasks" in schema(empty_database)
    assert schema(other) == []


def test_the_migration_cli_logs_through_the_apps_json_logging(empty_database):
    result = ok(flask(empty_database, "db", "upgrade"))
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert any(line["logger"].startswith("alembic") and "Running upgrade" in line["message"] for line in lines)


def test_running_migrations_does_not_silence_the_apps_own_logging(empty_database):
    # In the same process as the migration: a logging.config.fileConfig() in env.py would
    # disable the app's loggers, and the lines after the upgrade would never appear.
    script = (
        "import logging\n"
        "from flask_migrate import upgrade\n"
        "from app import app\n"
        "from myapp.services import health\n"
        "with app.app_context():\n"
        "    upgrade()\n"
        "    logging.getLogger('myapp.request').info('after-the-migration')\n"
        "    health.check_database()\n"
    )
    env = {key: value for key, value in os.environ.items() if key not in ("DATABASE_URL", "DATABASE_URL_UNPOOLED")}
    env.update(APP_ENV="testing", LOG_LEVEL="INFO", DATABASE_URL=empty_database)
    result = ok(subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True,
                               timeout=120))
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    messages = [line["message"] for line in lines]
    assert any("Running upgrade" in message for message in messages)
    assert "after-the-migration" in messages
    assert any(line.get("operation") == "health.database" and line["outcome"] == "ok" for line in lines)
