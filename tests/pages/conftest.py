"""Page tests: a browser's view of the app through the test client.

Forms are posted with the CSRF token a browser would have read from the page, so
every test also proves the form works with CSRF protection on.
"""
from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from support.pages import PASSWORD, sign_in

from myapp.extensions import db
from myapp.services import tasks


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


@pytest.fixture
def user(make_user):
    return make_user("alice@example.com", PASSWORD)


@pytest.fixture
def other_user(make_user):
    return make_user("bob@example.com", PASSWORD)


@pytest.fixture
def signed_in(client, user):
    """The test client, signed in as `user`."""
    assert sign_in(client, user.email).status_code == 302
    return client


@pytest.fixture
def make_task():
    """Create a task through the service, then drop the test's session (see STYLE.md)."""

    def make(owner, title: str = "A task", **fields):
        task = tasks.create_task(owner.id, {"title": title, **fields})
        db.session.remove()
        return task

    return make


@pytest.fixture
def task(user, make_task):
    return make_task(user, "Write the report", tags=["work"], priority="high")
