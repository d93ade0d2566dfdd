"""Benchmark: the app under gunicorn against a bare Flask + psycopg baseline, on PostgreSQL.

Seeds one user with 1,000 tasks and one with 100,000 (10 projects each, a fifth of the
tasks subtasks, tags, due dates, descriptions),
serves the app as production runs it (gunicorn, 2 workers, request logs on, API rate
limits on with their counts in Redis) and the baseline (bench/baseline_app.py) under the
same gunicorn settings, and drives each endpoint with wrk on loopback: the app and the
baseline back to back (in alternating one-second slices, so that the machine's slower
and faster spells fall on both alike), in three interleaved rounds. Per endpoint it
prints the medians over the rounds of requests per second, p50 and p99 latency, the
app/baseline ratio of requests per second, and the round trips to PostgreSQL per
request (counted on the wire, in-process).

    bash bench/run.sh [--duration 6] [--rounds 3] [--connections 32] [--only TEXT]

Database: BENCH_DATABASE_URL, else TEST_DATABASE_URL, else an embedded PostgreSQL under
instance/bench-pgdata; a database of its own is created there and dropped at the end.
Redis: BENCH_REDIS_URL, else 127.0.0.1:6379, else a redis-server of its own.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psutil
import psycopg
from sqlalchemy import text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
VENV_BIN = ROOT / ".venv" / "bin"
SORTS = ("newest", "oldest", "due", "priority", "title")
SIZES = {"1k": 1_000, "100k": 100_000}
# What the lean request path aims for (issue 8): app req/s over the baseline's.
RATIO_TARGETS = {"GET /api/v1/tasks": 0.6, "GET /api/v1/tasks/<id>": 0.6, "HTML task list": 0.5,
                 "GET /api/v1/projects": 0.6, "HTML project page": 0.5}
GROWTH_TARGET = 1.3  # p50 at 100k tasks over p50 at 1k, for every list endpoint


@dataclass
class Endpoint:
    name: str
    user: str  # "1k" or "100k"
    method: str
    app_path: str
    baseline_path: str
    auth: str = "bearer"  # or "session"
    body: str | None = None
    task_ids: tuple[str, ...] = ()  # "{id}" in the path is one of these, at random per request

    @property
    def label(self) -> str:
        return f"{self.name} ({self.user})"


@dataclass
class Result:
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    requests: int = 0
    cpu_ms: float = 0.0  # the server's workers' CPU time (user + system) per request
    db_cpu_ms: float = 0.0  # PostgreSQL's per request, when it runs on this machine (else 0)


@dataclass
class Server:
    """A server under gunicorn: its URL, and its master process (whose children are the workers)."""

    url: str
    master: psutil.Process

    def cpu_seconds(self) -> float:
        return _cpu_seconds(self.master.children())


def _cpu_seconds(processes) -> float:
    total = 0.0
    for process in processes:
        with contextlib.suppress(psutil.Error):  # one that ended meanwhile
            times = process.cpu_times()
            total += times.user + times.system
    return total


def database_cpu_seconds() -> float:
    """The CPU time of this machine's PostgreSQL processes so far (none when it runs elsewhere)."""
    return _cpu_seconds(process for process in psutil.process_iter(["name"])
                        if (process.info["name"] or "").startswith("postgres"))


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


@contextmanager
def redis_url():
    """BENCH_REDIS_URL, the machine's Redis on 127.0.0.1:6379, or a redis-server of our own."""
    import redis

    given = os.environ.get("BENCH_REDIS_URL")
    candidates = [given] if given else ["redis://127.0.0.1:6379/0"]
    for url in candidates:
        try:
            redis.Redis.from_url(url, socket_connect_timeout=2).ping()
            yield url
            return
        except redis.RedisError:
            if given:
                raise SystemExit(f"Redis does not answer at BENCH_REDIS_URL={given}") from None
    binary = shutil.which("redis-server")
    if binary is None:
        raise SystemExit("Redis is needed (rate-limit counts): install the Debian package redis-server "
                         "(bench/run.sh does when run as root) or set BENCH_REDIS_URL")
    port = free_port()
    process = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        url = f"redis://127.0.0.1:{port}/0"
        deadline = time.monotonic() + 10
        while True:
            try:
                redis.Redis.from_url(url, socket_connect_timeout=1).ping()
                break
            except redis.RedisError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(10)


def app_env(database_url: str, secret_key: str, redis: str) -> dict[str, str]:
    """Production settings: request logs at INFO, API rate limits on with counts in Redis."""
    return {
        **os.environ,
        "APP_ENV": "production",
        "SECRET_KEY": secret_key,
        "DATABASE_URL": database_url,
        "LOG_LEVEL": "INFO",
        "RATELIMIT_STORAGE_URI": redis,
        "RATELIMIT_KEY_PREFIX": f"tm-bench-{secrets.token_hex(4)}",
        # Counted as in production, set high enough never to refuse this load.
        "RATELIMIT_API": "100000000 per minute",
    }


# Per user: 10 projects (the Inbox and 9 more), tasks in blocks of five per project, the
# fifth of each block a subtask of the fourth (a fifth of the tasks are subtasks); tags,
# due dates (past and future), some with a time, a tenth recurring (four kinds of rule),
# descriptions, priorities, a third done. Ids are derived
# from the user and the task's number, so that a subtask can name its parent.
PROJECTS_SQL = """
INSERT INTO projects (user_id, name, color)
SELECT %(user_id)s, 'Project ' || k, (ARRAY['red', 'orange', 'yellow', 'green', 'teal', 'blue', 'purple', 'pink',
                                           'grey'])[k]
FROM generate_series(1, 9) AS k
"""
SEED_SQL = """
WITH mine AS (SELECT array_agg(id ORDER BY is_inbox DESC, position) AS ids FROM projects WHERE user_id = %(user_id)s)
INSERT INTO tasks (id, project_id, parent_id, user_id, title, description, due_date, due_time, recurrence_rule,
                   recurrence_anchor, recurrence_mode, priority, tags, completed, created_at)
SELECT md5(%(user_id)s || ':' || n)::uuid,
       mine.ids[1 + ((n - 1) / 5) %% 10],
       CASE WHEN n %% 5 = 0 THEN md5(%(user_id)s || ':' || (n - 1))::uuid END,
       %(user_id)s,
       'Task ' || n || ' ' || (ARRAY['report', 'groceries', 'call', 'review', 'plan'])[1 + n %% 5],
       CASE WHEN n %% 3 = 0 THEN 'Some notes for task ' || n END,
       CASE WHEN n %% 4 = 0 THEN NULL ELSE current_date + (n %% 90 - 30) END,
       CASE WHEN n %% 4 <> 0 AND n %% 7 = 0 THEN time '08:00' + (n %% 12) * interval '1 hour' END,
       CASE WHEN n %% 10 = 1 THEN (ARRAY['FREQ=DAILY', 'FREQ=WEEKLY;BYDAY=MO,WE,FR', 'FREQ=MONTHLY;BYMONTHDAY=15',
                                        'FREQ=MONTHLY;BYDAY=-1FR'])[1 + n / 10 %% 4] END,
       CASE WHEN n %% 10 = 1 THEN current_date + (n %% 90 - 30) END,
       CASE WHEN n %% 10 = 1 THEN 'due' END,
       (ARRAY['none', 'low', 'medium', 'high'])[1 + n %% 4],
       CASE n %% 3 WHEN 0 THEN ARRAY['work'] WHEN 1 THEN ARRAY['home', 'errand'] ELSE ARRAY[]::text[] END,
       n %% 3 = 0,
       now() - n * interval '1 second'
FROM mine, generate_series(1, %(count)s) AS n
ORDER BY n
"""


def seed(app, database_url: str) -> dict:
    """Two users (1,000 and 100,000 tasks), each with a token and a signed-in browser session."""
    from flask_login.utils import _create_identifier

    from myapp.extensions import db
    from myapp.services import signins, tokens, users

    seeded = {}
    with app.app_context():
        for label, count in SIZES.items():
            user = users.create_user(f"bench-{label}@example.com", secrets.token_urlsafe(12))
            # A connection of its own: seeding may take longer than the app's statement timeout.
            with psycopg.connect(libpq(database_url), autocommit=True) as conn:
                conn.execute("SET statement_timeout = 0")
                conn.execute(PROJECTS_SQL, {"user_id": user.id})
                conn.execute(SEED_SQL, {"user_id": str(user.id), "count": count})
                project_id = conn.execute("SELECT id FROM projects WHERE user_id = %s AND NOT is_inbox "
                                          "ORDER BY position LIMIT 1", (user.id,)).fetchone()[0]
            _, token = tokens.create_token(user.id, "bench")
            browser = signins.start(user.id, "wrk")
            task_ids = [str(row[0]) for row in db.session.execute(
                text("SELECT id FROM tasks WHERE user_id = :u ORDER BY random() LIMIT 200"), {"u": user.id})]
            # As a browser's cookie is after signing in, with the identifier Flask-Login
            # checks (wrk sends no User-Agent, from 127.0.0.1).
            with app.test_request_context(environ_base={"REMOTE_ADDR": "127.0.0.1"}):
                session = app.session_interface.get_signing_serializer(app).dumps(
                    {"_user_id": browser.get_id(), "_fresh": True, "_id": _create_identifier()})
            seeded[label] = {"user_id": str(user.id), "token": token, "session": session, "task_ids": task_ids,
                             "sign_in_id": str(browser.sign_in_id), "project_id": str(project_id)}
        db.session.execute(text("ANALYZE"))
        db.session.remove()
    return seeded


def endpoints(seeded: dict) -> list[Endpoint]:
    found = []
    for label in SIZES:
        user = seeded[label]
        user_id, ids = user["user_id"], tuple(user["task_ids"])
        project_id = user["project_id"]
        found.append(Endpoint("HTML task list", label, "GET", "/", f"/tasks?user_id={user_id}", auth="session"))
        found.append(Endpoint("HTML project page", label, "GET", f"/projects/{project_id}",
                              f"/projects/{project_id}/tasks?user_id={user_id}", auth="session"))
        found.append(Endpoint("GET /api/v1/projects", label, "GET", "/api/v1/projects",
                              f"/projects?user_id={user_id}"))
        for sort in SORTS:
            found.append(Endpoint(f"GET /api/v1/tasks sort={sort}", label, "GET",
                                  f"/api/v1/tasks?limit=50&sort={sort}", f"/tasks?user_id={user_id}&sort={sort}"))
        found += [
            Endpoint("GET /api/v1/tasks/<id>", label, "GET", "/api/v1/tasks/{id}",
                     "/tasks/{id}?user_id=" + user_id, task_ids=ids),
            Endpoint("POST /api/v1/tasks", label, "POST", "/api/v1/tasks", f"/tasks?user_id={user_id}",
                     body=json.dumps({"title": "Benchmark task", "tags": ["bench"], "due_date": "2026-12-24"})),
            Endpoint("POST /api/v1/tasks/<id>/toggle", label, "POST", "/api/v1/tasks/{id}/toggle",
                     "/tasks/{id}/toggle?user_id=" + user_id, task_ids=ids),
        ]
    return found


def request_headers(endpoint: Endpoint, user: dict) -> dict[str, str]:
    headers = {"Content-Type": "application/json"} if endpoint.body else {}
    if endpoint.auth == "session":
        return {**headers, "Cookie": f"session={user['session']}"}
    return {**headers, "Authorization": f"Bearer {user['token']}"}


def count_round_trips(app, seeded: dict, endpoint: Endpoint) -> int:
    """Round trips to PostgreSQL for one request to this endpoint, on the wire (in-process)."""
    from myapp.extensions import db

    from support.wire import round_trips

    user = seeded[endpoint.user]
    client = app.test_client()
    path = endpoint.app_path.replace("{id}", user["task_ids"][1])
    with app.app_context():
        engine = db.engine
    headers = request_headers(endpoint, user)
    if "Cookie" in headers:  # the test client sends the cookies of its own jar
        client.set_cookie("session", user["session"])
        del headers["Cookie"]
    client.open(path, method=endpoint.method, headers=headers, data=endpoint.body)  # warm: last use recorded
    with round_trips(engine) as seen:
        response = client.open(path, method=endpoint.method, headers=headers, data=endpoint.body)
    if response.status_code >= 400:
        raise RuntimeError(f"{endpoint.label}: in-process request answered {response.status_code}")
    return seen.count


# The floor (bench/floor_app.py) serves the reads it bounds.
FLOOR_ENDPOINTS = ("HTML task list", "GET /api/v1/tasks sort=newest", "GET /api/v1/tasks/<id>")


def endpoint_loads(endpoint: Endpoint, seeded: dict, bases: dict[str, Server], args, workdir: Path) -> dict[str, Load]:
    user = seeded[endpoint.user]
    base_headers = {"Content-Type": "application/json"} if endpoint.body else {}
    loads = {"app": Load(bases["app"], endpoint, endpoint.app_path, request_headers(endpoint, user), args, workdir),
             "baseline": Load(bases["baseline"], endpoint, endpoint.baseline_path, base_headers, args, workdir)}
    if "floor" in bases and endpoint.name == "HTML task list":
        loads["floor"] = Load(bases["floor"], endpoint, f"/page?sign_in={user['sign_in_id']}", {}, args, workdir)
    elif "floor" in bases and endpoint.name in FLOOR_ENDPOINTS:
        loads["floor"] = Load(bases["floor"], endpoint, endpoint.baseline_path.split("?")[0],
                              {"Authorization": f"Bearer {user['token']}"}, args, workdir)
    return loads


def lua_script(endpoint: Endpoint, path: str, headers: dict[str, str], workdir: Path) -> Path:
    lines = [f'wrk.method = "{endpoint.method}"']
    lines += [f'wrk.headers["{name}"] = "{value}"' for name, value in headers.items()]
    if endpoint.body:
        lines.append(f"wrk.body = {json.dumps(endpoint.body)}")
    if endpoint.task_ids:
        ids = ", ".join(f'"{task_id}"' for task_id in endpoint.task_ids)
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
    requests = int(re.search(r"(\d+) requests in", output).group(1))
    errors = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    total_errors = int(errors.group(1)) if errors else 0
    if socket_errors:
        total_errors += sum(int(n) for n in socket_errors.groups())
    return Result(rps, latency("50"), latency("99"), total_errors, requests)


class Load:
    """wrk aimed at one endpoint of one server, ready to run for a given time."""

    def __init__(self, server: Server, endpoint: Endpoint, path: str, headers: dict, args, workdir: Path):
        script = lua_script(endpoint, path, headers, workdir)
        self.command = ["wrk", "-t", str(args.threads), "-c", str(args.connections), "--latency", "-s", str(script)]
        self.server = server
        self.url = server.url + (path if not endpoint.task_ids else "/")

    def run(self, seconds: int) -> Result:
        before = self.server.cpu_seconds(), database_cpu_seconds()
        done = subprocess.run([*self.command, "-d", f"{seconds}s", self.url], capture_output=True, text=True)
        after = self.server.cpu_seconds(), database_cpu_seconds()
        if done.returncode != 0:
            raise RuntimeError(f"wrk failed on {self.url}: {(done.stdout + done.stderr)[-2000:]}")
        result = parse_wrk(done.stdout)
        if result.requests:
            result.cpu_ms = (after[0] - before[0]) * 1000 / result.requests
            result.db_cpu_ms = (after[1] - before[1]) * 1000 / result.requests
        return result


def back_to_back(loads: dict[str, Load], args, round_number: int) -> dict[str, Result]:
    """Each server in turn, in one-second slices for --duration seconds each, the order
    turning with every slice and round, so that a slower or faster spell of the machine
    falls on all of them alike."""
    slices: dict[str, list[Result]] = {side: [] for side in loads}
    order = list(loads.items())
    for n in range(args.duration):
        shift = (n + round_number) % len(order)
        for side, load in order[shift:] + order[:shift]:
            slices[side].append(load.run(1))
    return {side: combine(results) for side, results in slices.items()}


def combine(slices: list[Result]) -> Result:
    requests = sum(r.requests for r in slices)
    return Result(statistics.mean(r.rps for r in slices), statistics.median(r.p50_ms for r in slices),
                  statistics.median(r.p99_ms for r in slices), sum(r.errors for r in slices), requests,
                  sum(r.cpu_ms * r.requests for r in slices) / max(requests, 1),
                  sum(r.db_cpu_ms * r.requests for r in slices) / max(requests, 1))


@contextmanager
def gunicorn(app_spec: str, env: dict, args, chdir: Path = ROOT):
    """Serve `app_spec` under gunicorn as production does. Its stderr goes to a file (read
    on failure, and summed up at the end if it holds errors): a pipe nobody reads fills up
    and then blocks the server on its next log line."""
    port = free_port()
    env = {**env, "WEB_CONCURRENCY": str(args.workers), "GUNICORN_THREADS": str(args.gunicorn_threads)}
    with tempfile.TemporaryFile() as errors:
        def logged() -> str:
            errors.seek(0)
            return errors.read().decode(errors="replace")

        process = subprocess.Popen([str(VENV_BIN / "gunicorn"), "-c", str(ROOT / "gunicorn.conf.py"),
                                    "--bind", f"127.0.0.1:{port}", "--chdir", str(chdir), app_spec],
                                   env=env, stdout=subprocess.DEVNULL, stderr=errors)
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)
                    break
                except OSError as error:
                    if getattr(error, "code", None):  # an HTTP answer (the baselines have no /healthz): it is up
                        break
                    if process.poll() is not None or time.monotonic() > deadline:
                        process.kill()
                        process.wait()
                        raise RuntimeError(f"gunicorn {app_spec} did not start: {logged()[-2000:]}") from error
                    time.sleep(0.2)
            yield Server(f"http://127.0.0.1:{port}", psutil.Process(process.pid))
        finally:
            process.terminate()
            try:
                process.wait(30)  # gunicorn's graceful_timeout is 20 s
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
                print(f"{app_spec} did not stop within 30 s of SIGTERM: killed", file=sys.stderr)
            log = logged()
            if "Traceback" in log:
                first = log[log.index("Traceback"):][:1500]
                print(f"{app_spec} logged {log.count('Traceback')} tracebacks; the first:\n{first}", file=sys.stderr)


def summarise(runs: list[Result]) -> dict:
    return {"rps": statistics.median(r.rps for r in runs), "p50_ms": statistics.median(r.p50_ms for r in runs),
            "p99_ms": statistics.median(r.p99_ms for r in runs), "errors": sum(r.errors for r in runs),
            "cpu_ms": statistics.median(r.cpu_ms for r in runs),
            "db_cpu_ms": statistics.median(r.db_cpu_ms for r in runs)}


def format_table(rows: list[dict]) -> str:
    header = ("endpoint", "tasks", "app req/s", "app p50", "app p99", "base req/s", "base p50", "base p99",
              "req/s ratio", "round trips")
    lines = [header]
    for row in rows:
        app, base = row["app"], row["baseline"]
        lines.append((row["endpoint"], row["user"], f"{app['rps']:.0f}", f"{app['p50_ms']:.2f}ms",
                      f"{app['p99_ms']:.2f}ms", f"{base['rps']:.0f}", f"{base['p50_ms']:.2f}ms",
                      f"{base['p99_ms']:.2f}ms", f"{row['ratio']:.2f}", str(row["round_trips"])))
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    rendered = ["  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
                for line in lines]
    rendered.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(rendered)


def verdicts(rows: list[dict]) -> list[str]:
    """The figures the product aims for, each marked met or SHORT."""
    lines = []
    for row in rows:
        goal = next((goal for prefix, goal in RATIO_TARGETS.items()
                     if row["endpoint"] == prefix or row["endpoint"].startswith(prefix + " sort=")), None)
        if goal is not None:
            verdict = "met" if row["ratio"] >= goal else "SHORT"
            lines.append(f"{verdict:5}  {row['endpoint']} ({row['user']}): median req/s ratio "
                         f"{row['ratio']:.2f} >= {goal}")
    by_name: dict[str, dict[str, dict]] = {}
    for row in rows:
        by_name.setdefault(row["endpoint"], {})[row["user"]] = row
    for name, sizes in by_name.items():
        if name.startswith(("GET /api/v1/tasks sort=", "HTML task list", "HTML project page")) \
                and set(sizes) == set(SIZES):
            growth = sizes["100k"]["app"]["p50_ms"] / sizes["1k"]["app"]["p50_ms"]
            verdict = "met" if growth <= GROWTH_TARGET else "SHORT"
            lines.append(f"{verdict:5}  {name}: p50 at 100k / p50 at 1k = {growth:.2f} <= {GROWTH_TARGET}")
    errors = sum(row[side]["errors"] for row in rows for side in ("app", "baseline", "floor") if side in row)
    lines.append(f"{'met' if not errors else 'SHORT':5}  non-2xx answers or socket errors: {errors}")
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=6,
                        help="seconds of load per endpoint, server and round, in one-second slices that "
                             "alternate between the app and the baseline (default 6)")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds; medians are reported (default 3)")
    parser.add_argument("--connections", type=int, default=32,
                        help="wrk keep-alive connections (default 32: enough that they spread evenly over the workers)")
    parser.add_argument("--threads", type=int, default=1, help="wrk threads (default 1)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers for both servers (default 2)")
    parser.add_argument("--gunicorn-threads", type=int, default=4, help="threads per worker (default 4)")
    parser.add_argument("--only", default="", help="run only endpoints whose name contains this text")
    parser.add_argument("--floor", action="store_true",
                        help="also run bench/floor_app.py (the baseline plus what the guarantees require) on the "
                             "list page, the list API and get-one, to show what any implementation could reach")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        print("wrk not found: install the Debian package wrk (bench/run.sh does when run as root)")
        return 2

    from myapp import create_app

    secret_key = secrets.token_urlsafe(48)
    workdir = Path(tempfile.mkdtemp(prefix="tm-bench-"))
    with bench_database(server_url()) as database_url, redis_url() as redis:
        env = app_env(database_url, secret_key, redis)
        subprocess.run([str(VENV_BIN / "flask"), "--app", "app", "db", "upgrade"], env=env, cwd=ROOT,
                       check=True, capture_output=True)
        print("seeding 1,000 and 100,000 tasks ...", flush=True)
        app = create_app({**env, "LOG_LEVEL": "ERROR"})
        seeded = seed(app, database_url)
        found = [endpoint for endpoint in endpoints(seeded) if args.only in endpoint.label]
        trips = {endpoint.label: count_round_trips(app, seeded, endpoint) for endpoint in found}
        baseline_env = {**os.environ, "BASELINE_DSN": libpq(database_url)}
        sides = ["app", "baseline", *(["floor"] if args.floor else [])]
        runs: dict[str, dict[str, list[Result]]] = {endpoint.label: {side: [] for side in sides} for endpoint in found}
        with contextlib.ExitStack() as servers:
            bases = {"app": servers.enter_context(gunicorn("app:app", env, args)),
                     "baseline": servers.enter_context(gunicorn("baseline_app:app", baseline_env, args,
                                                                chdir=ROOT / "bench"))}
            if args.floor:
                bases["floor"] = servers.enter_context(gunicorn("floor_app:app", {
                    **baseline_env, "FLOOR_REDIS": redis.split("//", 1)[1].split("/", 1)[0]}, args,
                    chdir=ROOT / "bench"))
            loads = {endpoint.label: endpoint_loads(endpoint, seeded, bases, args, workdir) for endpoint in found}
            for round_number in range(1, args.rounds + 1):
                for endpoint in found:
                    print(f"  round {round_number}/{args.rounds}: {endpoint.label} ...", flush=True)
                    if round_number == 1:  # warm each up: pools filled, code paths hot
                        for load in loads[endpoint.label].values():
                            load.run(1)
                    for side, result in back_to_back(loads[endpoint.label], args, round_number).items():
                        runs[endpoint.label][side].append(result)
    shutil.rmtree(workdir, ignore_errors=True)

    rows = []
    for endpoint in found:
        app_runs, base_runs = runs[endpoint.label]["app"], runs[endpoint.label]["baseline"]
        ratios = [a.rps / b.rps if b.rps else 0.0 for a, b in zip(app_runs, base_runs, strict=True)]
        row = {"endpoint": endpoint.name, "user": endpoint.user, "app": summarise(app_runs),
               "baseline": summarise(base_runs), "ratio": statistics.median(ratios), "ratios": ratios,
               "round_trips": trips[endpoint.label]}
        if runs[endpoint.label].get("floor"):
            row["floor"] = summarise(runs[endpoint.label]["floor"])
            row["floor_ratio"] = statistics.median(
                f.rps / b.rps if b.rps else 0.0 for f, b in zip(runs[endpoint.label]["floor"], base_runs, strict=True))
        rows.append(row)
    print()
    print(format_table(rows))
    print()
    print("\n".join(verdicts(rows)))
    for row in rows:
        if "floor_ratio" in row:
            print(f"floor  {row['endpoint']} ({row['user']}): the baseline plus only what the guarantees require "
                  f"reaches {row['floor_ratio']:.2f} of it; the app {row['ratio']:.2f}")
    print("\nCPU time per request, in ms: the server's gunicorn workers + PostgreSQL (on this machine)")
    for row in rows:
        sides = ", ".join(f"{side} {row[side]['cpu_ms']:.2f} + {row[side]['db_cpu_ms']:.2f}"
                          for side in ("app", "floor", "baseline") if side in row)
        print(f"cpu    {row['endpoint']} ({row['user']}): {sides}")
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    machine = {"cpus": os.cpu_count(), "platform": sys.platform, "python": sys.version.split()[0],
               "args": vars(args)}
    (out / "latest.json").write_text(json.dumps({"machine": machine, "rows": rows}, indent=2))
    print(f"\nresults saved to {out / 'latest.json'}")
    errors = sum(row[side]["errors"] for row in rows for side in ("app", "baseline", "floor") if side in row)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
