"""The benchmark's baseline: Flask + psycopg, the same SQL, nothing else.

No ORM, no templates, no auth, no validation, no logging: what the app's endpoints
would cost if they were only their SQL. Served by gunicorn exactly as the app is.
One connection per worker thread, kept open (no pool library).
"""
import json
import os
import threading

import psycopg
from flask import Flask, Response, request

app = Flask(__name__)
_local = threading.local()
COLUMNS = ("id, project_id, parent_id, title, description, completed, completed_at, due_date, "
           "to_char(due_time, 'HH24:MI') AS due_time, recurrence_rule, recurrence_mode, recurrence_anchor, priority, "
           "tags, version, created_at, updated_at, "
           "(SELECT count(*) FROM tasks AS c WHERE c.parent_id = tasks.id) AS subtask_count, "
           "(SELECT count(*) FROM tasks AS c WHERE c.parent_id = tasks.id AND c.completed) AS subtask_completed_count")
PROJECT_COLUMNS = ("id, name, color, position, archived, is_inbox, active_count, completed_count, version, "
                   "created_at, updated_at")
ORDER = {
    "newest": "created_at DESC, id DESC",
    "oldest": "created_at, id",
    "due": "coalesce(due_date + due_time, due_date - '00:00:00.000001'::interval, "
           "'infinity'::timestamp without time zone), created_at, id",
    "priority": "priority_rank DESC, created_at DESC, id DESC",
    "title": "lower(title), id",
}


def connection() -> psycopg.Connection:
    conn = getattr(_local, "conn", None)
    if conn is None or conn.closed:
        conn = _local.conn = psycopg.connect(os.environ["BASELINE_DSN"], autocommit=True, prepare_threshold=None)
    return conn


def rows_json(cursor) -> Response:
    names = [column.name for column in cursor.description]
    rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    return Response(json.dumps({"items": rows}, default=str), mimetype="application/json")


@app.get("/tasks")
def list_tasks():
    order = ORDER[request.args.get("sort", "newest")]
    cursor = connection().execute(
        f"SELECT {COLUMNS} FROM tasks WHERE user_id = %s ORDER BY {order} LIMIT 51", (request.args["user_id"],))
    return rows_json(cursor)


@app.get("/tasks/<task_id>")
def get_task(task_id):
    cursor = connection().execute(f"SELECT {COLUMNS} FROM tasks WHERE id = %s AND user_id = %s",
                                  (task_id, request.args["user_id"]))
    return rows_json(cursor)


@app.post("/tasks")
def create_task():
    body = request.get_json()
    cursor = connection().execute(f"INSERT INTO tasks (user_id, title) VALUES (%s, %s) RETURNING {COLUMNS}",
                                  (request.args["user_id"], body["title"]))
    return rows_json(cursor), 201


@app.post("/tasks/<task_id>/toggle")
def toggle_task(task_id):
    cursor = connection().execute(
        f"UPDATE tasks SET completed = NOT completed WHERE id = %s AND user_id = %s RETURNING {COLUMNS}",
        (task_id, request.args["user_id"]))
    return rows_json(cursor)


@app.get("/projects")
def list_projects():
    cursor = connection().execute(f"SELECT {PROJECT_COLUMNS} FROM projects WHERE user_id = %s "
                                  "ORDER BY is_inbox DESC, position, created_at, id", (request.args["user_id"],))
    return rows_json(cursor)


@app.get("/projects/<project_id>/tasks")
def project_tasks(project_id):
    """A project page's data: a page of its root tasks, then their subtasks at every level."""
    conn, user_id = connection(), request.args["user_id"]
    roots = conn.execute(f"SELECT {COLUMNS} FROM tasks WHERE user_id = %s AND project_id = %s AND parent_id IS NULL "
                         "ORDER BY created_at DESC, id DESC LIMIT 21", (user_id, project_id))
    names = [column.name for column in roots.description]
    items = [dict(zip(names, row, strict=True)) for row in roots.fetchall()]
    below = conn.execute(f"""
        WITH RECURSIVE below(id) AS (
            SELECT id FROM tasks WHERE parent_id = ANY(%s) AND user_id = %s
            UNION ALL SELECT t.id FROM tasks AS t JOIN below ON t.parent_id = below.id)
        SELECT {COLUMNS} FROM tasks WHERE id IN (SELECT id FROM below) AND user_id = %s
        ORDER BY created_at, id""", ([item["id"] for item in items], user_id, user_id))
    items += [dict(zip(names, row, strict=True)) for row in below.fetchall()]
    return Response(json.dumps({"items": items}, default=str), mimetype="application/json")
