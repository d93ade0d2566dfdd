"""Benchmark: the app under gunicorn against a bare Flask + psycopg baseline, on PostgreSQL.

Seeds one user with 1,000 tasks and one with 100,000, serves the app and the baseline
(bench/baseline_app.py) the same way (gunicorn, same workers and threads), drives each
endpoint with wrk on loopback for a bounded time, and prints per endpoint: requests per
second, p50 and p99 latency, the app/baseline ratio, and SQL statements per request.

    bash bench/run.sh [--duration 10] [--connections 32]

Database: BENCH_DATABASE_URL, else TEST_DATABASE_URL, else an embedded PostgreSQL under
instance/bench-pgdata. A database of its own is created there and dropped at the end.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

import psycopg
from sqlalchemy import event, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
VENV_BIN = ROOT / ".venv" / "bin"
SORTS = ("newest", "oldest", "due", "priority", "title")
SIZES = {"1k": 1_000, "100k": 100_000}


@dataclass
class Endpoint:
    name: str
    user: str  # "1k" or "100k"
    method: str
    app_path: str
    baseline_path: str
    auth: str = "bearer"  # or "session"
    body: str | None = None
    toggle_ids: tuple[str, ...] = ()  # toggle picks one of these at random per request


@dataclass
class Result:
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_url() -> str:
    url = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL")
    if url:
        return url
    import pgserver

    pgdata = ROOT / "instance" / "bench-pgdata"
    pgdata.parent.mkdir(exist_ok=True)
    info = pgserver.get_server(pgdata, cleanup_mode="stop").get_postmaster_info()
    return f"postgresql://postgres@/postgres?host={info.socket_dir}"


def libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@contextmanager
def bench_database(server: str):
    name = f"tm_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(libpq(server), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(server).set(drivername="postgresql+psycopg", database=name).render_as_string(
            hide_password=False)
    finally:
        with psycopg.connect(libpq(server), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def app_env(database_url: str, secret_key: str) -> dict[str, str]:
    return {
        **os.environ,
        "APP_ENV": "production",
        "SECRET_KEY": secret_key,
        "DATABASE_URL": database_url,
        "LOG_LEVEL": "INFO",
        # Set explicitly: high enough never to trigger under this load.
        "RATELIMIT_API": "10000000 per minute",
        "RATELIMIT_STORAGE_URI": "memory://",
    }


SEED_SQL = """
INSERT INTO tasks (user_id, title, description, due_date, priority, tags, completed, created_at)
SELECT :user_id,
       'Task ' || n || ' ' || (ARRAY['report', 'groceries', 'call', 'review', 'plan'])[1 + n % 5],
       CASE WHEN n % 3 = 0 THEN 'Some notes for task ' || n END,
       CASE WHEN n % 4 = 0 THEN NULL ELSE current_date + (n % 90 - 30) END,
       (ARRAY['none', 'low', 'medium', 'high'])[1 + n % 4],
       CASE n % 3 WHEN 0 THEN ARRAY['work'] WHEN 1 THEN ARRAY['home', 'errand'] ELSE ARRAY[]::text[] END,
       n % 3 = 0,
       now() - n * interval '1 second'
FROM generate_series(1, :count) AS n
"""


def seed(app) -> dict:
    """Two users (1,000 and 100,000 tasks), a token each, a session cookie each."""
    from myapp.extensions import db
    from myapp.services import tokens, users

    seeded = {}
    with app.app_context():
        for label, count in SIZES.items():
            user = users.create_user(f"bench-{label}@example.com", secrets.token_urlsafe(12))
            db.session.execute(text(SEED_SQL), {"user_id": user.id, "count": count})
            db.session.commit()
            _, token = tokens.create_token(user.id, "bench")
            task_ids = [str(row[0]) for row in db.session.execute(
                text("SELECT id FROM tasks WHERE user_id = :u ORDER BY random() LIMIT 200"), {"u": user.id})]
            with app.test_request_context():
                session = app.session_interface.get_signing_serializer(app).dumps(
                    {"_user_id": user.get_id(), "_fresh": True})
            seeded[label] = {"user_id": str(user.id), "token": token, "session": session, "task_ids": task_ids}
        db.session.execute(text("ANALYZE"))
        db.session.commit()
    return seeded


def endpoints(seeded: dict) -> list[Endpoint]:
    found = []
    for label in SIZES:
        user_id = seeded[label]["user_id"]
        found.append(Endpoint("HTML task list", label, "GET", "/", f"/tasks?user_id={user_id}", auth="session"))
        for sort in SORTS:
            found.append(Endpoint(f"GET /api/v1/tasks sort={sort}", label, "GET",
                                  f"/api/v1/tasks?limit=50&sort={sort}", f"/tasks?user_id={user_id}&sort={sort}"))
    big = seeded["100k"]
    one = big["task_ids"][0]
    found += [
        Endpoint("GET /api/v1/tasks/<id>", "100k", "GET", f"/api/v1/tasks/{one}",
                 f"/tasks/{one}?user_id={big['user_id']}"),
        Endpoint("POST /api/v1/tasks", "100k", "POST", "/api/v1/tasks", f"/tasks?user_id={big['user_id']}",
                 body=json.dumps({"title": "Benchmark task"})),
        Endpoint("POST /api/v1/tasks/<id>/toggle", "100k", "POST", "/api/v1/tasks/{id}/toggle",
                 "/tasks/{id}/toggle?user_id=" + big["user_id"], toggle_ids=tuple(big["task_ids"])),
    ]
    return found


def count_statements(app, seeded: dict, endpoint: Endpoint) -> int:
    """SQL statements the app runs for one request to this endpoint (in-process)."""
    from myapp.extensions import db

    user = seeded[endpoint.user]
    client = app.test_client()
    headers = {"Content-Type": "application/json"} if endpoint.body else {}
    if endpoint.auth == "session":
        client.set_cookie("session", user["session"])
    else:
        headers["Authorization"] = f"Bearer {user['token']}"
    path = endpoint.app_path.replace("{id}", user["task_ids"][1])
    statements = []
    with app.app_context():
        engine = db.engine

    def counter(*_args):
        statements.append(1)

    client.open(path, method=endpoint.method, headers=headers, data=endpoint.body)  # warm: token last use
    event.listen(engine, "before_cursor_execute", counter)
    try:
        response = client.open(path, method=endpoint.method, headers=headers, data=endpoint.body)
    finally:
        event.remove(engine, "before_cursor_execute", counter)
    if response.status_code >= 400:
        raise RuntimeError(f"{endpoint.name}: in-process request answered {response.status_code}")
    return len(statements)


def lua_script(endpoint: Endpoint, path: str, headers: dict[str, str], workdir: Path) -> Path:
    lines = [f'wrk.method = "{endpoint.method}"']
    lines += [f'wrk.headers["{name}"] = "{value}"' for name, value in headers.items()]
    if endpoint.body:
        lines.append(f"wrk.body = {json.dumps(endpoint.body)}")
    if endpoint.toggle_ids:
        ids = ", ".join(f'"{task_id}"' for task_id in endpoint.toggle_ids)
        lines += [f"ids = {{{ids}}}",
                  "request = function()",
                  f'  local path = string.gsub("{path}", "{{id}}", ids[math.random(#ids)])',
                  "  return wrk.format(nil, path)",
                  "end"]
    script = workdir / f"{uuid.uuid4().hex}.lua"
    script.write_text("\n".join(lines) + "\n")
    return script


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def parse_wrk(output: str) -> Result:
    def latency(pct: str) -> float:
        match = re.search(rf"^\s+{pct}%\s+([\d.]+)(us|ms|s)\s*$", output, re.M)
        return float(match.group(1)) * _UNITS[match.group(2)]

    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    errors = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    total_errors = int(errors.group(1)) if errors else 0
    if socket_errors:
        total_errors += sum(int(n) for n in socket_errors.groups())
    return Result(rps, latency("50"), latency("99"), total_errors)


def run_wrk(base: str, endpoint: Endpoint, path: str, headers: dict, args, workdir: Path) -> Result:
    script = lua_script(endpoint, path, headers, workdir)
    command = ["wrk", "-t", str(args.threads), "-c", str(args.connections), "--latency", "-s", str(script)]
    url = base + (path if not endpoint.toggle_ids else "/")
    subprocess.run([*command, "-d", "1s", url], check=True, capture_output=True)  # warm-up
    output = subprocess.run([*command, "-d", f"{args.duration}s", url], check=True, capture_output=True,
                            text=True).stdout
    return parse_wrk(output)


@contextmanager
def gunicorn(app_spec: str, env: dict, args, chdir: Path = ROOT):
    port = free_port()
    env = {**env, "WEB_CONCURRENCY": str(args.workers), "GUNICORN_THREADS": str(args.gunicorn_threads)}
    process = subprocess.Popen([str(VENV_BIN / "gunicorn"), "-c", str(ROOT / "gunicorn.conf.py"),
                                "--bind", f"127.0.0.1:{port}", "--chdir", str(chdir), app_spec],
                               env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except OSError as error:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"gunicorn {app_spec} did not start") from error
                if getattr(error, "code", None) == 404:  # the baseline has no /healthz: it is up
                    break
                time.sleep(0.2)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(20)


def format_table(rows: list[dict]) -> str:
    header = ("endpoint", "tasks", "app req/s", "app p50", "app p99", "base req/s", "base p50", "base p99",
              "req/s ratio", "SQL/req")
    lines = [header]
    for row in rows:
        app, base = row["app"], row["baseline"]
        lines.append((row["endpoint"], row["user"], f"{app['rps']:.0f}", f"{app['p50_ms']:.2f}ms",
                      f"{app['p99_ms']:.2f}ms", f"{base['rps']:.0f}", f"{base['p50_ms']:.2f}ms",
                      f"{base['p99_ms']:.2f}ms", f"{row['ratio']:.2f}", str(row["statements"])))
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    rendered = ["  ".join(cell.ljust(width) for cell, width in zip(line, widths)).rstrip() for line in lines]
    rendered.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(rendered)


def targets(rows: list[dict]) -> list[str]:
    """The figures the product aims for, each marked met or short."""
    lines = []
    for row in rows:
        if row["endpoint"].startswith("GET /api/v1/tasks sort"):
            goal = 0.6
        elif row["endpoint"] == "HTML task list":
            goal = 0.5
        else:
            continue
        verdict = "met" if row["ratio"] >= goal else "SHORT"
        lines.append(f"{verdict:5}  {row['endpoint']} ({row['user']}): req/s ratio {row['ratio']:.2f} >= {goal}")
    by_name: dict[str, dict[str, dict]] = {}
    for row in rows:
        by_name.setdefault(row["endpoint"], {})[row["user"]] = row
    for name, sizes in by_name.items():
        if set(sizes) == set(SIZES):
            growth = sizes["100k"]["app"]["p50_ms"] / sizes["1k"]["app"]["p50_ms"]
            verdict = "met" if growth <= 1.3 else "SHORT"
            lines.append(f"{verdict:5}  {name}: p50 at 100k / p50 at 1k = {growth:.2f} <= 1.3")
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds of load per endpoint (default 10)")
    parser.add_argument("--connections", type=int, default=32,
                        help="wrk keep-alive connections (default 32: enough that they spread evenly over the workers)")
    parser.add_argument("--threads", type=int, default=1, help="wrk threads (default 1)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers for both servers (default 2)")
    parser.add_argument("--gunicorn-threads", type=int, default=4, help="threads per worker (default 4)")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        print("wrk not found: install the Debian package wrk (bench/run.sh does when run as root)")
        return 2

    from myapp import create_app

    secret_key = secrets.token_urlsafe(48)
    workdir = Path(tempfile.mkdtemp(prefix="tm-bench-"))
    with bench_database(server_url()) as database_url:
        env = app_env(database_url, secret_key)
        subprocess.run([str(VENV_BIN / "flask"), "--app", "app", "db", "upgrade"], env=env, cwd=ROOT,
                       check=True, capture_output=True)
        print("seeding 1,000 and 100,000 tasks ...", flush=True)
        app = create_app({key: value for key, value in env.items() if key != "LOG_LEVEL"} | {"LOG_LEVEL": "ERROR"})
        seeded = seed(app)
        found = endpoints(seeded)
        statements = {id(endpoint): count_statements(app, seeded, endpoint) for endpoint in found}
        baseline_env = {**os.environ, "BASELINE_DSN": libpq(database_url)}
        results: dict[int, dict[str, Result]] = {id(endpoint): {} for endpoint in found}
        with gunicorn("app:app", env, args) as app_base, \
                gunicorn("baseline_app:app", baseline_env, args, chdir=ROOT / "bench") as baseline_base:
            for endpoint in found:
                user = seeded[endpoint.user]
                print(f"  {endpoint.name} ({endpoint.user}) ...", flush=True)
                headers = {"Content-Type": "application/json"} if endpoint.body else {}
                if endpoint.auth == "session":
                    app_headers = {**headers, "Cookie": f"session={user['session']}"}
                else:
                    app_headers = {**headers, "Authorization": f"Bearer {user['token']}"}
                results[id(endpoint)]["app"] = run_wrk(app_base, endpoint, endpoint.app_path, app_headers,
                                                       args, workdir)
                results[id(endpoint)]["baseline"] = run_wrk(baseline_base, endpoint, endpoint.baseline_path,
                                                            headers, args, workdir)
    shutil.rmtree(workdir, ignore_errors=True)

    rows = []
    for endpoint in found:
        app_result, base_result = results[id(endpoint)]["app"], results[id(endpoint)]["baseline"]
        rows.append({"endpoint": endpoint.name, "user": endpoint.user, "app": asdict(app_result),
                     "baseline": asdict(base_result), "ratio": app_result.rps / base_result.rps,
                     "statements": statements[id(endpoint)]})
    print()
    print(format_table(rows))
    print()
    print("\n".join(targets(rows)))
    errors = sum(row["app"]["errors"] + row["baseline"]["errors"] for row in rows)
    if errors:
        print(f"\nWARNING: {errors} non-2xx responses or socket errors during the run")
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    machine = {"cpus": os.cpu_count(), "platform": sys.platform, "python": sys.version.split()[0],
               "args": vars(args)}
    (out / "latest.json").write_text(json.dumps({"machine": machine, "rows": rows}, indent=2))
    print(f"\nresults saved to {out / 'latest.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
