"""Where one request's time goes: an endpoint run in-process under cProfile, by component.

Seeds a database as bench/run.py does, builds the app with the production settings
(request logs, rate limits counted in Redis), runs one endpoint many times in one
thread, and prints the time per request without the profiler, then the share of each
component under it: waiting for PostgreSQL, psycopg, SQLAlchemy, Jinja and markupsafe
(rendering), werkzeug and Flask, logging, Redis, the app's own code.

    .venv/bin/python bench/profile_request.py "GET /api/v1/tasks/<id>" [--requests 1000] [--tasks 1k]
"""
from __future__ import annotations

import argparse
import collections
import contextlib
import cProfile
import io
import pstats
import secrets
import sys
import time

from run import SIZES, app_env, bench_database, endpoints, redis_url, request_headers, seed, server_url

# (label, path fragment) in the order they are tried: the first that matches a frame's file wins.
COMPONENTS = (
    ("the test client (not there under gunicorn)", ("werkzeug/test.py", "flask/testing.py")),
    ("PostgreSQL (waiting for it)", "psycopg/connection.py:479(wait)"),
    ("psycopg", "/psycopg/"),
    ("SQLAlchemy", "/sqlalchemy/"),
    ("Jinja and markupsafe (rendering)", ("/jinja2/", "/markupsafe/", "/templates/", "/wtforms/")),
    ("Redis (rate limits)", ("/redis/", "/limits/")),
    ("logging", ("/logging/", "/pythonjsonlogger/")),
    ("Flask, werkzeug and their extensions", ("/flask/", "/werkzeug/", "/flask_login/", "/flask_wtf/",
                                              "/flask_sqlalchemy/", "/itsdangerous/")),
    ("the app (myapp/)", "/myapp/"),
)


def component(frame: str) -> str:
    for label, fragments in COMPONENTS:
        if any(fragment in frame for fragment in ([fragments] if isinstance(fragments, str) else fragments)):
            return label
    return "Python and the rest"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("endpoint", help='an endpoint name as bench/run.py prints it, e.g. "HTML task list"')
    parser.add_argument("--tasks", choices=list(SIZES), default="1k")
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--cpu", action="store_true",
                        help="profile this process's CPU time only (what a loaded server runs out of), not waits")
    parser.add_argument("--stats", metavar="FILE", help="also write the raw profile there (for pstats or snakeviz)")
    args = parser.parse_args()

    from myapp import create_app

    with bench_database(server_url()) as database_url, redis_url() as redis:
        env = app_env(database_url, secrets.token_urlsafe(48), redis)
        with contextlib.redirect_stdout(io.StringIO()):  # the migrations' and the app's JSON logs
            app = create_app({**env, "WEB_CONCURRENCY": "1"})
            with app.app_context():
                from flask_migrate import upgrade

                upgrade()
            app = create_app({**env, "WEB_CONCURRENCY": "1"})  # a fresh one, with the role settings in force
            seeded = seed(app, database_url)
        found = [e for e in endpoints(seeded) if e.name == args.endpoint and e.user == args.tasks]
        if not found:
            print(f"no endpoint {args.endpoint!r}: see bench/run.py's table for the names")
            return 2
        endpoint, user = found[0], seeded[args.tasks]
        client = app.test_client()
        headers = request_headers(endpoint, user)
        if "Cookie" in headers:
            client.set_cookie("session", user["session"])
            del headers["Cookie"]
        path = endpoint.app_path.replace("{id}", user["task_ids"][1])

        def run(n: int) -> None:
            for _ in range(n):
                response = client.open(path, method=endpoint.method, headers=headers, data=endpoint.body)
                assert response.status_code < 400, response.status_code

        with contextlib.redirect_stdout(io.StringIO()):  # request log lines are written, not shown
            run(100)
            started = time.perf_counter()
            run(args.requests)
            elapsed = (time.perf_counter() - started) / args.requests * 1000
            profiler = cProfile.Profile(time.process_time) if args.cpu else cProfile.Profile()
            profiler.enable()
            run(args.requests)
            profiler.disable()
        if args.stats:
            profiler.dump_stats(args.stats)
        with app.app_context():
            from myapp.extensions import db

            db.engine.dispose()

    shares: collections.Counter[str] = collections.Counter()
    for (filename, line, name), (_, _, own, _, callers) in pstats.Stats(profiler).stats.items():
        if filename == "~":  # a built-in (str.join, isinstance, ...): counted where it was called from
            for (caller_file, caller_line, caller_name), (_, _, caller_own, _) in callers.items():
                shares[component(f"{caller_file}:{caller_line}({caller_name})")] += caller_own
        else:
            shares[component(f"{filename}:{line}({name})")] += own
    total = sum(shares.values())
    print(f"{endpoint.name} ({args.tasks}): {elapsed:.2f} ms per request, in one thread, without the profiler")
    print("share of the time under the profiler (which slows small Python calls most):")
    for label, seconds in shares.most_common():
        print(f"  {seconds / total * 100:5.1f}%  {label}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
