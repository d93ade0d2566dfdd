"""API tests: the test client with a bearer token or a browser session, and a real server.

State is built through the services; each request runs in its own app context (as in
production), so nothing cached in `g` by one request is seen by the next.
"""
from __future__ import annotations

import pytest

from myapp.extensions import db
from myapp.services import tasks, tokens

from conftest import make_app
from support.processes import served_in_thread


@pytest.fixture
def make_token(app):
    """Headers that authenticate as `user` with a new token."""

    def make(user, scope: str = "write", expires_in_days: int | None = None) -> dict[str, str]:
        _, secret = tokens.create_token(user.id, "tests", scope, expires_in_days)
        db.session.remove()
        return {"Authorization": f"Bearer {secret}"}

    return make


@pytest.fixture
def as_alice(alice, make_token):
    return make_token(alice)


@pytest.fixture
def as_bob(bob, make_token):
    return make_token(bob)


@pytest.fixture
def make_task(app):
    def make(user, **fields):
        task = tasks.create_task(user.id, {"title": "a task", **fields})
        db.session.remove()
        return task

    return make


@pytest.fixture(scope="module")
def server(app, app_database_url):
    """The app over real HTTP: werkzeug's threaded server on a loopback port, API rate limits on."""
    served = make_app(app_database_url, env={"RATELIMIT_ENABLED": "true", "RATELIMIT_API": "100000 per minute"})
    with served_in_thread(served) as url:
        yield url
    with served.app_context():
        db.engine.dispose()
