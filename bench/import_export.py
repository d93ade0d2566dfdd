"""Benchmark: importing and exporting 50,000 tasks through the API, as production runs it.

Makes a CSV of 50,000 tasks (10 projects, a fifth of them subtasks, tags, due dates and
times, descriptions, priorities, a tenth recurring, a third done), serves the app under
gunicorn (production settings, as bench/run.py does), and times, over real HTTP:
  - POST /api/v1/import of that CSV (NDJSON progress: the time to the first progress line
    and to the report);
  - GET /api/v1/export, /export.csv and /export.ics of the account (the time to the first
    byte and to the last: the exports stream);
  - POST /api/v1/import of the JSON export into a second account (the round trip);
and, as the baseline measured in the same run, a bare psycopg COPY of the same 50,000 rows
into the tasks table (what PostgreSQL alone takes to store them). Imports and exports
have a time bound of 120 s (PRODUCT.md); the script exits non-zero if one passes it.

    bash bench/run.sh --import-export      (or: .venv/bin/python bench/import_export.py)
"""
from __future__ import annotations

import argparse
import csv
import io
import json
import secrets
import subprocess
import sys
import time
import urllib.request
import uuid
from datetime import date, timedelta
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run import ROOT, VENV_BIN, app_env, bench_database, gunicorn, libpq, redis_url, server_url  # noqa: E402

TASKS = 50_000
BOUND_SECONDS = 120


def csv_file(count: int) -> bytes:
    """A generic CSV of `count` tasks with every column the importer reads."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(("id", "parent_id", "title", "description", "project", "due_date", "due_time", "recurrence_rule",
                     "priority", "tags", "completed"))
    start = date.today()
    for n in range(1, count + 1):
        due = (start + timedelta(days=n % 90 - 30)).isoformat() if n % 4 else ""
        writer.writerow((
            n, n - 1 if n % 5 == 0 else "", f"Task {n} {('report', 'groceries', 'call', 'review', 'plan')[n % 5]}",
            f"Some notes for task {n}" if n % 3 == 0 else "", f"Project {(n - 1) // 5 % 10}", due,
            f"{8 + n % 12:02}:00" if due and n % 7 == 0 else "",
            ("FREQ=DAILY", "FREQ=WEEKLY;BYDAY=MO,WE,FR", "FREQ=MONTHLY;BYMONTHDAY=15")[n % 3] if due and n % 10 == 1
            else "", ("none", "low", "medium", "high")[n % 4], ("work", "home errand", "")[n % 3],
            "yes" if n % 3 == 0 and n % 5 else "no"))
    return out.getvalue().encode()


def multipart(data: bytes, filename: str) -> tuple[bytes, str]:
    boundary = secrets.token_hex(16)
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{filename}\"\r\n"
            f"Content-Type: application/octet-stream\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


def timed_import(base: str, token: str, data: bytes, filename: str) -> dict:
    body, content_type = multipart(data, filename)
    request = urllib.request.Request(f"{base}/api/v1/import", data=body, method="POST", headers={
        "Authorization": f"Bearer {token}", "Content-Type": content_type, "Accept": "application/x-ndjson"})
    started = time.perf_counter()
    first = None
    with urllib.request.urlopen(request, timeout=BOUND_SECONDS + 30) as response:
        lines = []
        for line in response:
            first = first or time.perf_counter() - started
            lines.append(json.loads(line))
    total = time.perf_counter() - started
    report = lines[-1]
    if "tasks_created" not in report:
        raise SystemExit(f"the import failed: {report}")
    return {"seconds": total, "first_progress_seconds": first, "progress_lines": len(lines) - 1,
            "tasks_created": report["tasks_created"], "skipped": len(report["tasks_skipped"]), "bytes": len(data)}


def timed_export(base: str, token: str, path: str) -> tuple[dict, bytes]:
    request = urllib.request.Request(f"{base}{path}", headers={"Authorization": f"Bearer {token}"})
    started = time.perf_counter()
    chunks, first = [], None
    with urllib.request.urlopen(request, timeout=BOUND_SECONDS + 30) as response:
        while chunk := response.read(65536):
            first = first or time.perf_counter() - started
            chunks.append(chunk)
    data = b"".join(chunks)
    return {"seconds": time.perf_counter() - started, "first_byte_seconds": first, "bytes": len(data)}, data


def baseline_copy(database_url: str, user_id: str, count: int) -> float:
    """The bare stack: COPY the same number of rows into tasks with psycopg, in one transaction."""
    with psycopg.connect(libpq(database_url)) as conn:
        conn.execute("SET statement_timeout = 0")
        inbox = conn.execute("SELECT id FROM projects WHERE user_id = %s AND is_inbox", (user_id,)).fetchone()[0]
        started = time.perf_counter()
        with conn.cursor() as cursor, cursor.copy(
                "COPY tasks (id, user_id, project_id, title, priority, tags) FROM STDIN") as copy:
            for n in range(count):
                copy.write_row((uuid.uuid4(), user_id, inbox, f"Task {n}", "none", ["work"]))
        conn.commit()
        return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=TASKS, help=f"tasks in the file (default {TASKS:,})")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--gunicorn-threads", type=int, default=4)
    args = parser.parse_args()

    from myapp import create_app
    from myapp.services import tokens, users

    data = csv_file(args.tasks)
    results = {}
    with bench_database(server_url()) as database_url, redis_url() as redis:
        env = app_env(database_url, secrets.token_urlsafe(48), redis)
        subprocess.run([str(VENV_BIN / "flask"), "--app", "app", "db", "upgrade"], env=env, cwd=ROOT,
                       check=True, capture_output=True)
        app = create_app({**env, "LOG_LEVEL": "ERROR"})
        with app.app_context():
            people = {}
            for name in ("importer", "round-trip", "baseline"):
                user = users.create_user(f"bench-{name}@example.com", secrets.token_urlsafe(12))
                people[name] = (str(user.id), tokens.create_token(user.id, "bench")[1])
        with gunicorn("app:app", env, args) as server:
            base = server.url
            print(f"importing a CSV of {args.tasks:,} tasks ({len(data) / 1e6:.1f} MB) ...", flush=True)
            results["import CSV"] = timed_import(base, people["importer"][1], data, "bench.csv")
            exported = {}
            for path in ("/api/v1/export", "/api/v1/export.csv", "/api/v1/export.ics"):
                print(f"GET {path} ...", flush=True)
                results[f"GET {path}"], exported[path] = timed_export(base, people["importer"][1], path)
            print("importing the JSON export into a second account ...", flush=True)
            results["import JSON export"] = timed_import(base, people["round-trip"][1], exported["/api/v1/export"],
                                                         "export.json")
        baseline = baseline_copy(database_url, people["baseline"][0], args.tasks)

    print(f"\n{'step':<24} {'seconds':>8} {'first':>8} {'MB':>6} {'tasks/s':>9}")
    for step, figures in results.items():
        first = figures.get("first_progress_seconds") or figures.get("first_byte_seconds")
        print(f"{step:<24} {figures['seconds']:8.2f} {first:8.2f} {figures['bytes'] / 1e6:6.1f} "
              f"{args.tasks / figures['seconds']:9,.0f}")
    print(f"{'baseline: bare COPY':<24} {baseline:8.2f} {'':>8} {'':>6} {args.tasks / baseline:9,.0f}")
    print(f"\nimport CSV / bare COPY: {results['import CSV']['seconds'] / baseline:.1f}x the time; "
          f"created {results['import CSV']['tasks_created']:,}, skipped {results['import CSV']['skipped']}")
    over = [step for step, figures in results.items() if figures["seconds"] > BOUND_SECONDS]
    if results["import CSV"]["tasks_created"] != args.tasks or \
            results["import JSON export"]["tasks_created"] != args.tasks:
        print("not every task was imported")
        return 1
    print(f"over the {BOUND_SECONDS} s bound: {', '.join(over)}" if over else
          f"every import and export within the {BOUND_SECONDS} s bound")
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
