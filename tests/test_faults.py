"""The database goes away and comes back while gunicorn serves real clients.

A PostgreSQL cluster of this test's own (never the shared one) behind a real
PgBouncer in transaction mode; the app under gunicorn through the PgBouncer, as on
Neon. First the PgBouncer is killed and restarted, then the cluster is stopped and
started. While it is down every request still gets a prompt answer: the 503 page,
DATABASE_UNAVAILABLE with Retry-After, /readyz 503. Afterwards requests succeed
again without restarting the app, no worker died, every acknowledged write is in
the database and nothing is half-applied.
"""
from __future__ import annotations

import itertools
import os
import secrets
import shutil
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
import requests
from sqlalchemy.engine import make_url

from support.processes import Gunicorn, PgBouncer, PostgresCluster, StallingProxy, require_redis, shared_dir

ROOT = Path(__file__).resolve().parent.parent
# Every request must be answered within this (README: "Faults"): generous, to catch a hang.
ANSWER_BOUND_SECONDS = 20
OUTAGE_SECONDS = 3


@dataclass
class Outcome:
    kind: str
    started: float
    finished: float
    status: int | None
    body: str
    headers: dict
    title: str | None = None

    @property
    def duration(self) -> float:
        return self.finished - self.started


class Traffic:
    """Clients sending a mix of writes and reads until told to stop."""

    def __init__(self, base: str, token: str, session_cookie: str, clients: int = 4):
        self.base, self.token, self.cookie = base, token, session_cookie
        self.outcomes: list[Outcome] = []
        self.errors: list[str] = []
        self._stop = threading.Event()
        self._counter = itertools.count()
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._client, daemon=True) for _ in range(clients)]

    def __enter__(self):
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        for thread in self._threads:
            thread.join(ANSWER_BOUND_SECONDS + 5)

    def _request(self, http: requests.Session, kind: str) -> None:
        title = None
        started = time.monotonic()
        try:
            if kind == "create":
                title = f"fault-{next(self._counter)}"
                response = http.post(f"{self.base}/api/v1/tasks", json={"title": title, "tags": ["fault"]},
                                     headers={"Authorization": f"Bearer {self.token}"},
                                     timeout=ANSWER_BOUND_SECONDS + 10)
            elif kind == "list":
                response = http.get(f"{self.base}/api/v1/tasks?limit=5",
                                    headers={"Authorization": f"Bearer {self.token}"},
                                    timeout=ANSWER_BOUND_SECONDS + 10)
            elif kind == "page":
                response = http.get(f"{self.base}/", cookies={"session": self.cookie},
                                    timeout=ANSWER_BOUND_SECONDS + 10, allow_redirects=False)
            else:
                response = http.get(f"{self.base}/readyz", timeout=ANSWER_BOUND_SECONDS + 10)
        except requests.RequestException as error:
            with self._lock:
                self.errors.append(f"{kind}: no answer ({type(error).__name__})")
            return
        outcome = Outcome(kind, started, time.monotonic(), response.status_code, response.text,
                          dict(response.headers), title)
        with self._lock:
            self.outcomes.append(outcome)

    def _client(self) -> None:
        kinds = itertools.cycle(["create", "list", "page", "ready", "create"])
        with requests.Session() as http:
            while not self._stop.is_set():
                self._request(http, next(kinds))
                time.sleep(0.02)

    def between(self, start: float, end: float) -> list[Outcome]:
        with self._lock:
            return [o for o in self.outcomes if o.started >= start and o.finished <= end]


def wait_until_ready(base: str, timeout: float = 30) -> float:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{base}/readyz", timeout=5).status_code == 200:
                return time.monotonic()
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise AssertionError(f"/readyz did not come back within {timeout}s")


def assert_unavailable_answers(outcomes: list[Outcome]) -> None:
    kinds = {o.kind for o in outcomes}
    assert {"create", "list", "page", "ready"} <= kinds, f"not every kind was tried while down: {kinds}"
    for outcome in outcomes:
        assert outcome.status == 503, (outcome.kind, outcome.status, outcome.body[:200])
        assert outcome.headers.get("Retry-After"), outcome.kind
        if outcome.kind == "page":
            assert "text/html" in outcome.headers["Content-Type"]
            assert "Temporarily unavailable" in outcome.body
        elif outcome.kind in ("create", "list"):
            assert '"DATABASE_UNAVAILABLE"' in outcome.body


@pytest.fixture
def stack():
    """A private cluster, a PgBouncer in front of it, the app under gunicorn through it."""
    workdir = shared_dir(Path(tempfile.mkdtemp(prefix="tm-faults-")))
    cluster = PostgresCluster(workdir / "pg").start()
    bouncer = PgBouncer(workdir / "pgbouncer", "127.0.0.1", cluster.port).start()
    secret_key = secrets.token_urlsafe(48)
    env = {"APP_ENV": "production", "SECRET_KEY": secret_key, "DATABASE_URL": bouncer.url("postgres"),
           "DATABASE_URL_UNPOOLED": cluster.url("postgres"), "DB_CONNECT_TIMEOUT": "2",
           "DB_STATEMENT_TIMEOUT_MS": "2000", "DB_POOL_TIMEOUT": "2", "LOG_LEVEL": "WARNING",
           "RATELIMIT_API": "100000 per minute", "RATELIMIT_STORAGE_URI": require_redis(),
           "RATELIMIT_KEY_PREFIX": f"tm-faults-{secrets.token_hex(4)}"}
    subprocess.run([str(ROOT / ".venv/bin/flask"), "--app", "app", "db", "upgrade"], cwd=ROOT,
                   env={**os.environ, **env}, check=True, capture_output=True)
    server = Gunicorn(env, workers=2, threads=4).start()
    try:
        yield cluster, bouncer, server, credentials(env)
    finally:
        server.stop()
        bouncer.stop()
        cluster.stop("immediate")
        shutil.rmtree(workdir, ignore_errors=True)


def credentials(env: dict) -> tuple[str, str]:
    """A user's API token and a signed session cookie, made in-process with the same secret key."""
    from myapp import create_app
    from myapp.services import signins, tokens, users

    # LOG_LEVEL as the test run's own app: the root logger is shared by the process.
    app = create_app({**env, "DATABASE_URL": env["DATABASE_URL_UNPOOLED"], "LOG_LEVEL": "INFO"})
    with app.app_context():
        user = users.create_user("faults@example.com", "a long password")
        _, token = tokens.create_token(user.id, "faults")
        browser = signins.start(user.id, "faults")
        with app.test_request_context():
            cookie = app.session_interface.get_signing_serializer(app).dumps(
                {"_user_id": browser.get_id(), "_fresh": True})
    return token, cookie


def test_the_app_answers_through_database_outages_and_recovers_without_a_restart(stack):
    cluster, bouncer, server, (token, cookie) = stack
    workers = server.worker_pids()
    assert len(workers) == 2

    def outage(stop, start) -> tuple[list[Outcome], list[Outcome]]:
        """Stop, wait, start: the answers while down, and those once ready again."""
        stop()
        down = time.monotonic()
        time.sleep(OUTAGE_SECONDS)
        back = time.monotonic()
        start()
        ready = wait_until_ready(server.url)
        time.sleep(1.5)
        return traffic.between(down + 0.5, back), traffic.between(ready, time.monotonic())

    with Traffic(server.url, token, cookie) as traffic:
        time.sleep(1)
        # 1. The pooler crashes and comes back on the same port; 2. the database stops and starts.
        pooler_down, pooler_back = outage(bouncer.kill, bouncer.start)
        cluster_down, cluster_back = outage(lambda: cluster.stop("fast"), cluster.start)

    assert not traffic.errors, traffic.errors[:5]
    slowest = max(traffic.outcomes, key=lambda o: o.duration)
    assert slowest.duration < ANSWER_BOUND_SECONDS, (slowest.kind, slowest.duration)

    assert_unavailable_answers(pooler_down)
    assert_unavailable_answers(cluster_down)
    for recovered in (pooler_back, cluster_back):
        assert {o.kind for o in recovered if o.status in (200, 201)} >= {"create", "list", "page", "ready"}

    unexpected = [(o.kind, o.status, o.body[:300]) for o in traffic.outcomes if o.status not in (200, 201, 503)]
    if unexpected:
        Path("/tmp/gunicorn_fault.log").write_text(server.output())
    assert not unexpected, unexpected[:3]
    assert server.worker_pids() == workers, "a gunicorn worker died or was replaced"
    assert "WORKER TIMEOUT" not in server.output()
    assert "Error handling request" not in server.output(), "an exception escaped the app"

    with psycopg.connect(f"host=127.0.0.1 port={cluster.port} user=postgres dbname=postgres") as conn:
        stored = dict(conn.execute("SELECT title, count(*) FROM tasks GROUP BY title").fetchall())
        counts = conn.execute("SELECT sum(active_count), sum(completed_count) FROM projects").fetchone()
        total = conn.execute("SELECT count(*) FROM tasks").fetchone()[0]
        tag_count = conn.execute("SELECT count FROM tag_counts WHERE tag = 'fault'").fetchone()
    acknowledged = [o.title for o in traffic.outcomes if o.kind == "create" and o.status == 201]
    assert acknowledged and all(stored.get(title) == 1 for title in acknowledged)
    assert all(count == 1 for count in stored.values()), "a write was applied twice"
    # Counters are kept in the same transaction as the rows: never half-applied.
    assert counts == (total, 0)
    assert tag_count == (total,)


# A stall, not a refusal: the network stops forwarding but closes nothing.

STALL_BOUND_SECONDS = 10  # generous: the README's bound with these settings is about 6 s


def test_a_database_that_stops_answering_mid_connection_still_gets_every_request_answered(databases, server_url):
    upstream = make_url(server_url)
    database_url = databases.create("tm_stall")
    settings = {"DB_STATEMENT_TIMEOUT_MS": "1000", "DB_KEEPALIVE_SECONDS": "1", "DB_CONNECT_TIMEOUT": "2",
                "DB_POOL_TIMEOUT": "2", "LOG_LEVEL": "WARNING", "APP_ENV": "development",
                "SECRET_KEY": secrets.token_urlsafe(48)}
    subprocess.run([str(ROOT / ".venv/bin/flask"), "--app", "app", "db", "upgrade"], cwd=ROOT,
                   env={**os.environ, **settings, "DATABASE_URL": database_url}, check=True, capture_output=True)
    token = token_for(database_url, settings)
    proxy = StallingProxy(upstream.host, upstream.port or 5432)
    server = Gunicorn({**settings, "DATABASE_URL": proxy.url(make_url(database_url).database)}, workers=1,
                      threads=2).start()
    headers = {"Authorization": f"Bearer {token}"}
    try:
        assert requests.get(f"{server.url}/api/v1/me", headers=headers, timeout=30).status_code == 200
        proxy.stall()
        for _ in range(2):  # the pooled connection, then a new one that never gets through
            started = time.monotonic()
            response = requests.get(f"{server.url}/api/v1/me", headers=headers, timeout=30)
            assert time.monotonic() - started < STALL_BOUND_SECONDS
            assert response.status_code == 503 and response.json()["code"] == "DATABASE_UNAVAILABLE"
        proxy.resume()
        wait_until_ready(server.url)
        assert requests.get(f"{server.url}/api/v1/me", headers=headers, timeout=30).status_code == 200
        assert "WORKER TIMEOUT" not in server.output()
        assert "database_stalled" in server.output()
    finally:
        server.stop()
        proxy.close()


def token_for(database_url: str, settings: dict) -> str:
    from myapp import create_app
    from myapp.services import tokens, users

    app = create_app({**settings, "DATABASE_URL": database_url, "LOG_LEVEL": "INFO"})
    with app.app_context():
        user = users.create_user("stall@example.com", "a long password")
        _, token = tokens.create_token(user.id, "stall")
    return token
