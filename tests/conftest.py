"""Fixtures: a real PostgreSQL for every test that touches data.

The server is the one named by TEST_DATABASE_URL (CI: the machine's PostgreSQL), or
else an embedded one (pgserver) under instance/. Each test run makes its own
database on it, builds the schema with the real migrations, and drops it at the end;
every test starts from empty tables.
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
import uuid
from pathlib import Path

import psycopg
import pytest
from flask import has_app_context
from flask.testing import FlaskClient
from sqlalchemy import text
from sqlalchemy.engine import make_url

from myapp import create_app
from myapp.extensions import db
from myapp.services import users

from support.processes import PgBouncer

ROOT = Path(__file__).resolve().parent.parent
# The PgBouncer lane (TEST_PGBOUNCER=1): the tests marked `pooled` run again with the
# app connected through a real PgBouncer in transaction mode, as Neon's pooler carries it.
POOLED = os.environ.get("TEST_PGBOUNCER") == "1"
TABLES = "users, projects, tasks, tag_counts, api_tokens, idempotency_keys"
PASSWORD = "correct horse battery"


def libpq(url) -> str:
    """A libpq connection string from a SQLAlchemy URL (psycopg does not take +psycopg)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def server_url() -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        return url
    import pgserver

    pgdata = ROOT / "instance" / "test-pgdata"
    pgdata.parent.mkdir(exist_ok=True)
    server = pgserver.get_server(pgdata, cleanup_mode="stop")
    return f"postgresql://postgres@/postgres?host={server.get_postmaster_info().socket_dir}"


class DatabaseFactory:
    """Makes empty databases on the test server, and drops them at the end."""

    def __init__(self, server_url: str):
        self.server_url = server_url
        self.made: list[str] = []

    def create(self, prefix: str = "tm_test") -> str:
        name = f"{prefix}_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(libpq(self.server_url), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        self.made.append(name)
        return make_url(self.server_url).set(drivername="postgresql+psycopg", database=name) \
            .render_as_string(hide_password=False)

    def drop_all(self) -> None:
        with psycopg.connect(libpq(self.server_url), autocommit=True) as conn:
            for name in self.made:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def databases(server_url):
    factory = DatabaseFactory(server_url)
    yield factory
    factory.drop_all()


class RequestScopedClient(FlaskClient):
    """A test client whose every request runs in its own app context, as in production.

    pytest-flask keeps an app context pushed for the whole test, and Flask reuses it
    for each request: `g` (where Flask-Login caches the signed-in user) and the
    database session would otherwise carry over from one request, or one client, to
    the next and hide bugs such as a session that should have been signed out.
    """

    def open(self, *args, **kwargs):
        with self.application.app_context():
            return super().open(*args, **kwargs)


@pytest.fixture
def new_client(app):
    """Make another browser: its own cookies, its own session."""
    return lambda: RequestScopedClient(app, app.response_class, use_cookies=True)


@pytest.fixture
def client(new_client):
    return new_client()


def make_app(database_url: str, **overrides):
    env = {"APP_ENV": "testing", "DATABASE_URL": database_url, "LOG_LEVEL": "INFO",
           "RATELIMIT_ENABLED": "false"}
    env.update({key: str(value) for key, value in overrides.pop("env", {}).items()})
    return create_app(env, **overrides)


@pytest.fixture(scope="session")
def database_url(databases) -> str:
    """The test run's database, with the schema built by the real migrations."""
    from flask_migrate import upgrade

    url = databases.create()
    app = make_app(url)
    with app.app_context():
        upgrade()
        db.engine.dispose()
    return url


def pytest_collection_modifyitems(config, items):
    if POOLED:
        selected = [item for item in items if item.get_closest_marker("pooled")]
        config.hook.pytest_deselected(items=[item for item in items if item not in selected])
        items[:] = selected


def pytest_report_header(config):
    return "lane: through PgBouncer (transaction mode)" if POOLED else "lane: direct to PostgreSQL"


@pytest.fixture(scope="session")
def app_database_url(database_url, server_url):
    """What the app under test connects to: the test database, or PgBouncer in front of it."""
    if not POOLED:
        yield database_url
        return
    upstream = make_url(server_url)
    workdir = Path(tempfile.mkdtemp(prefix="tm-pgbouncer-"))
    bouncer = PgBouncer(workdir, upstream.host or upstream.query["host"], upstream.port or 5432).start()
    yield bouncer.url(make_url(database_url).database)
    bouncer.stop()
    shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture(scope="session")
def app(app_database_url):
    app = make_app(app_database_url)
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture(autouse=True)
def _empty_tables(request):
    """Every test that uses the database starts from empty tables."""
    if "app" not in request.fixturenames:
        yield
        return
    app = request.getfixturevalue("app")
    yield
    # pytest-flask's context is still pushed here: end the test's own session first, or
    # a transaction left open by a read holds a lock that TRUNCATE waits on.
    if has_app_context():
        db.session.remove()
    with app.app_context():
        db.session.remove()
        with db.engine.begin() as conn:
            conn.execute(text(f"TRUNCATE {TABLES} CASCADE"))


@pytest.fixture
def sql(app):
    """Run raw SQL on the test database (its own connection, committed)."""

    def run(statement: str, **params):
        with db.engine.begin() as conn:
            result = conn.execute(text(statement), params)
            return result.all() if result.returns_rows else result.rowcount

    return run


@pytest.fixture
def make_user(app):
    def make(email: str | None = None, password: str = PASSWORD):
        return users.create_user(email or f"user-{uuid.uuid4().hex[:8]}@example.com", password)

    return make


@pytest.fixture
def alice(make_user):
    return make_user("alice@example.com")


@pytest.fixture
def bob(make_user):
    return make_user("bob@example.com")


@pytest.fixture
def json_logs(capsys):
    """The JSON log lines written to stdout since the last call, parsed."""

    def read() -> list[dict]:
        return [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]

    return read
