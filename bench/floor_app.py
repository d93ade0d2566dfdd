"""The floor: the bare baseline plus only the work the guarantees require of a request.

baseline_app.py runs an endpoint's SQL and nothing else. This adds, per request, exactly
what no implementation may skip, each done the cheapest way there is:
- the caller checked in PostgreSQL (one indexed read: no credential cache, so that
  revoking a token or signing out takes effect on the very next request): the API
  token, or for the list page the browser's sign-in;
- for the API, one count in Redis for the rate limit (an INCR on a raw socket, no client
  library), so that limits hold across workers and instances;
- for the list page, the counts, projects and tags its sidebar shows (one read of the rows
  the triggers keep), and still no HTML: the same JSON as the baseline;
- one JSON log line per request (request id, method, path, status, duration, user id),
  written out at once, as a logging handler writes (and the app).
No validation, no error handling, no framework hooks. What it reaches against the
baseline bounds what the app can reach (bench/run.py --floor prints it).
"""
import hashlib
import json
import os
import socket
import sys
import threading
import time
import uuid

import psycopg
from baseline_app import COLUMNS, rows_json
from flask import Flask, Response, g, request

app = Flask(__name__)
_local = threading.local()
REDIS_HOST, REDIS_PORT = os.environ.get("FLOOR_REDIS", "127.0.0.1:6379").split(":")
TOKEN_SQL = ("SELECT u.id, u.timezone FROM api_tokens k JOIN users u ON u.id = k.user_id "
             "WHERE k.token_hash = %s AND (k.expires_at IS NULL OR k.expires_at > now())")
SIGN_IN_SQL = ("SELECT u.id, u.timezone FROM sign_ins s JOIN users u ON u.id = s.user_id "
               "WHERE s.id = %s AND s.last_seen_at > now() - interval '30 days'")
SIDEBAR_SQL = ("SELECT (SELECT sum(active_count) FROM projects WHERE user_id = %(u)s AND NOT archived), "
               "(SELECT sum(completed_count) FROM projects WHERE user_id = %(u)s AND NOT archived), "
               "(SELECT json_agg(json_build_array(id, name, color, active_count, is_inbox) "
               "ORDER BY is_inbox DESC, position, created_at) FROM projects WHERE user_id = %(u)s AND NOT archived), "
               "(SELECT json_agg(json_build_array(tag, count) ORDER BY tag) FROM tag_counts "
               "WHERE user_id = %(u)s AND count > 0)")


def connection() -> psycopg.Connection:
    conn = getattr(_local, "conn", None)
    if conn is None or conn.closed:
        conn = _local.conn = psycopg.connect(os.environ["BASELINE_DSN"], autocommit=True, prepare_threshold=None)
    return conn


def count_in_redis(key: str) -> int:
    sock = getattr(_local, "redis", None)
    if sock is None:
        sock = _local.redis = socket.create_connection((REDIS_HOST, int(REDIS_PORT)))
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.sendall(b"*2\r\n$4\r\nINCR\r\n$%d\r\n%s\r\n" % (len(key), key.encode()))
    return int(sock.recv(64)[1:].split(b"\r\n", 1)[0])


@app.before_request
def authenticate():
    g.started = time.perf_counter()
    if request.path == "/page":
        g.user_id, _ = connection().execute(SIGN_IN_SQL, (request.args["sign_in"],)).fetchone()
        return
    if "Authorization" not in request.headers:  # bench/run.py's start-up probe
        return Response(status=401)
    secret = request.headers["Authorization"].removeprefix("Bearer ")
    token_hash = hashlib.sha256(secret.encode()).hexdigest()
    g.user_id, _ = connection().execute(TOKEN_SQL, (token_hash,)).fetchone()
    count_in_redis(f"floor:{g.user_id}")


@app.after_request
def log_line(response: Response) -> Response:
    sys.stdout.write(json.dumps({"request_id": uuid.uuid4().hex, "method": request.method, "path": request.path,
                                 "status": response.status_code, "user_id": str(g.get("user_id")),
                                 "duration_ms": round((time.perf_counter() - g.started) * 1000, 2)}) + "\n")
    sys.stdout.flush()  # written as it happens, as a logging handler does (the app's too)
    return response


@app.get("/tasks")
def list_tasks():
    cursor = connection().execute(f"SELECT {COLUMNS} FROM tasks WHERE user_id = %s ORDER BY created_at DESC, id DESC "
                                  "LIMIT 51", (g.user_id,))
    return rows_json(cursor)


@app.get("/page")
def list_page():
    connection().execute(SIDEBAR_SQL, {"u": g.user_id}).fetchone()
    return list_tasks()


@app.get("/tasks/<task_id>")
def get_task(task_id):
    cursor = connection().execute(f"SELECT {COLUMNS} FROM tasks WHERE id = %s AND user_id = %s", (task_id, g.user_id))
    return rows_json(cursor)
