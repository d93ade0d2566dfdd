"""The schema, as raw SQL sees it: defaults, triggers and checks live in the database."""
import time

import pytest
from sqlalchemy import exc

pytestmark = pytest.mark.pooled


def test_an_insert_naming_only_user_and_title_gets_everything_else_from_the_database(sql, alice):
    (row,) = sql("INSERT INTO tasks (user_id, title) VALUES (:u, 'raw') "
                 "RETURNING id, created_at, updated_at, completed, completed_at, version, priority, tags",
                 u=alice.id)
    assert row.id is not None
    assert row.created_at is not None and row.updated_at is not None
    assert row.completed is False and row.completed_at is None
    assert row.version == 1
    assert row.priority == "none" and row.tags == []


def test_a_raw_update_moves_updated_at_and_version(sql, alice):
    (row,) = sql("INSERT INTO tasks (user_id, title) VALUES (:u, 'raw') RETURNING id, updated_at", u=alice.id)
    time.sleep(0.01)
    (after,) = sql("UPDATE tasks SET title = 'changed' WHERE id = :id RETURNING updated_at, version", id=row.id)
    assert after.updated_at > row.updated_at
    assert after.version == 2


def test_updated_at_moves_twice_within_one_transaction(app, alice):
    from sqlalchemy import text

    from myapp.extensions import db

    with db.engine.begin() as conn:
        task_id = conn.execute(text("INSERT INTO tasks (user_id, title) VALUES (:u, 't') RETURNING id"),
                               {"u": alice.id}).scalar()
        first = conn.execute(text("UPDATE tasks SET title = 'a' WHERE id = :id RETURNING updated_at"),
                             {"id": task_id}).scalar()
        second = conn.execute(text("UPDATE tasks SET title = 'b' WHERE id = :id RETURNING updated_at"),
                              {"id": task_id}).scalar()
    assert second > first


@pytest.mark.parametrize("title", ["", "   ", "x" * 256, "\u0085", "\t\n", "\u2028\u3000\ufeff"])
def test_the_database_itself_refuses_a_blank_or_long_title(sql, alice, title):
    with pytest.raises(exc.IntegrityError):
        sql("INSERT INTO tasks (user_id, title) VALUES (:u, :t)", u=alice.id, t=title)


def test_completed_at_follows_completed_in_raw_sql(sql, alice):
    (row,) = sql("INSERT INTO tasks (user_id, title, completed) VALUES (:u, 't', true) RETURNING id, completed_at",
                 u=alice.id)
    assert row.completed_at is not None
    (undone,) = sql("UPDATE tasks SET completed = false WHERE id = :id RETURNING completed_at", id=row.id)
    assert undone.completed_at is None


def test_counts_are_kept_by_the_database_for_raw_writes(sql, alice):
    sql("INSERT INTO tasks (user_id, title, tags) SELECT :u, 't' || n, ARRAY['work'] FROM generate_series(1, 5) n",
        u=alice.id)
    sql("UPDATE tasks SET completed = true, tags = ARRAY['home'] "
        "WHERE id IN (SELECT id FROM tasks WHERE user_id = :u LIMIT 2)", u=alice.id)
    (counts,) = sql("SELECT active_count, completed_count FROM projects WHERE user_id = :u", u=alice.id)
    assert (counts.active_count, counts.completed_count) == (3, 2)
    tags = dict(sql("SELECT tag, count FROM tag_counts WHERE user_id = :u", u=alice.id))
    assert tags == {"work": 3, "home": 2}
    sql("DELETE FROM tasks WHERE user_id = :u AND 'home' = ANY(tags)", u=alice.id)
    assert dict(sql("SELECT tag, count FROM tag_counts WHERE user_id = :u", u=alice.id)) == {"work": 3}
    (counts,) = sql("SELECT active_count, completed_count FROM projects WHERE user_id = :u", u=alice.id)
    assert (counts.active_count, counts.completed_count) == (3, 0)


def test_deleting_a_user_deletes_their_tasks_and_counts(sql, alice):
    sql("INSERT INTO tasks (user_id, title, tags) VALUES (:u, 't', ARRAY['a'])", u=alice.id)
    sql("DELETE FROM users WHERE id = :u", u=alice.id)
    for table in ("tasks", "projects", "tag_counts"):
        assert sql(f"SELECT count(*) FROM {table} WHERE user_id = :u", u=alice.id)[0][0] == 0


def test_email_is_unique_and_stored_lowercase(sql, alice):
    with pytest.raises(exc.IntegrityError, match="uq_users_email_lower"):
        sql("INSERT INTO users (email, password_hash) VALUES ('alice@example.com', 'x')")
    with pytest.raises(exc.IntegrityError, match="ck_users_email_normalised"):
        sql("INSERT INTO users (email, password_hash) VALUES ('Carol@example.com', 'x')")
