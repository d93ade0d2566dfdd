"""Two app instances, one database: nothing lives in one process that the other needs.

Two gunicorn processes on different ports share the test database through a real
PgBouncer (transaction mode, as Neon's pooler) and keep rate-limit counts in Redis
(127.0.0.1:6379). A browser session made on one is valid on the other, a sign-in rate
limit counted on one holds on the other, a write through one is read through the other
at once, and concurrent PATCHes with one ETag through the two give exactly one winner.
"""
from __future__ import annotations

import os
import re
import secrets
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path

import pytest
import requests
from sqlalchemy.engine import make_url

from support.processes import REDIS_URL, Gunicorn, PgBouncer, require_redis

ROOT = Path(__file__).resolve().parent.parent
@pytest.fixture(scope="module")
def instances(databases, server_url):
    require_redis()
    database_url = databases.create("tm_two")
    upstream = make_url(server_url)
    workdir = Path(tempfile.mkdtemp(prefix="tm-two-"))
    bouncer = PgBouncer(workdir, upstream.host or upstream.query["host"], upstream.port or 5432).start()
    env = {
        # development: cookies without Secure, so plain-HTTP test clients send them back.
        "APP_ENV": "development", "SECRET_KEY": secrets.token_urlsafe(48),
        "DATABASE_URL": bouncer.url(make_url(database_url).database), "DATABASE_URL_UNPOOLED": database_url,
        "RATELIMIT_STORAGE_URI": REDIS_URL, "RATELIMIT_KEY_PREFIX": f"tm-two-{secrets.token_hex(4)}",
        "RATELIMIT_SIGNIN_PER_ACCOUNT": "5 per minute", "RATELIMIT_SIGNIN_PER_ADDRESS": "100 per minute",
        "RATELIMIT_API": "10000 per minute", "LOG_LEVEL": "WARNING",
    }
    subprocess.run([str(ROOT / ".venv/bin/flask"), "--app", "app", "db", "upgrade"], cwd=ROOT,
                   env={**os.environ, **env}, check=True, capture_output=True)
    first, second = Gunicorn(env, workers=1).start(), Gunicorn(env, workers=1).start()
    try:
        yield first.url, second.url
    finally:
        first.stop()
        second.stop()
        bouncer.stop()
        shutil.rmtree(workdir, ignore_errors=True)


def csrf_token(http: requests.Session, url: str) -> str:
    page = http.get(url, timeout=10)
    assert page.status_code == 200, page.status_code
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text).group(1)


def sign_up(http: requests.Session, base: str, email: str, password: str) -> None:
    token = csrf_token(http, f"{base}/sign-up")
    response = http.post(f"{base}/sign-up", data={"csrf_token": token, "email": email, "password": password,
                                                  "timezone": "UTC"}, timeout=10, allow_redirects=False)
    assert response.status_code == 302, response.text[:300]


def sign_in_status(base: str, email: str, password: str) -> int:
    with requests.Session() as http:
        token = csrf_token(http, f"{base}/sign-in")
        return http.post(f"{base}/sign-in", data={"csrf_token": token, "email": email, "password": password},
                         timeout=10, allow_redirects=False).status_code


def api_session(http: requests.Session, base: str) -> dict:
    """Headers for session-authenticated API writes: the CSRF token of a page of this site."""
    return {"X-CSRFToken": csrf_token(http, f"{base}/")}


def test_a_session_made_on_one_instance_is_valid_on_the_other(instances):
    first, second = instances
    with requests.Session() as http:
        sign_up(http, first, "shared@example.com", "a long password")
        page = http.get(f"{second}/", timeout=10, allow_redirects=False)
        assert page.status_code == 200
        assert "shared@example.com" in page.text


def test_a_sign_in_limit_counted_on_one_instance_holds_on_the_other(instances):
    first, second = instances
    with requests.Session() as http:
        sign_up(http, first, "limited@example.com", "a long password")
    statuses = [sign_in_status(first, "limited@example.com", "wrong password") for _ in range(5)]
    assert 429 not in statuses and 302 not in statuses
    assert sign_in_status(second, "limited@example.com", "wrong password") == 429


def test_a_write_through_one_instance_is_read_through_the_other_at_once(instances):
    first, second = instances
    with requests.Session() as http:
        sign_up(http, first, "writer@example.com", "a long password")
        created = http.post(f"{first}/api/v1/tasks", json={"title": "written on one"},
                            headers=api_session(http, first), timeout=10)
        assert created.status_code == 201, created.text
        task_id = created.json()["id"]
        read = http.get(f"{second}/api/v1/tasks/{task_id}", timeout=10)
        assert read.status_code == 200
        assert read.json()["title"] == "written on one"


def test_concurrent_patches_with_one_etag_through_two_instances_have_one_winner(instances):
    first, second = instances
    with requests.Session() as http:
        sign_up(http, first, "racer@example.com", "a long password")
        headers = api_session(http, first)
        task_id = http.post(f"{first}/api/v1/tasks", json={"title": "original"}, headers=headers,
                            timeout=10).json()["id"]
        etag = http.get(f"{first}/api/v1/tasks/{task_id}", timeout=10).headers["ETag"]
        cookies = http.cookies.get_dict()

    barrier = threading.Barrier(2)
    answers: dict[str, int] = {}

    def patch(base: str, title: str) -> None:
        barrier.wait()
        response = requests.patch(f"{base}/api/v1/tasks/{task_id}", json={"title": title},
                                  headers={**headers, "If-Match": etag}, cookies=cookies, timeout=15)
        answers[title] = response.status_code

    threads = [threading.Thread(target=patch, args=(first, "from first")),
               threading.Thread(target=patch, args=(second, "from second"))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)

    assert sorted(answers.values()) == [200, 412], answers
    winner = next(title for title, status in answers.items() if status == 200)
    with requests.Session() as http:
        http.cookies.update(cookies)
        final = http.get(f"{second}/api/v1/tasks/{task_id}", timeout=10).json()
    assert final["title"] == winner
    assert final["version"] == 2
