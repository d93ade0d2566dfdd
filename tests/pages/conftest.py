"""Page tests: a browser's view of the app through the test client.

Forms are posted with the CSRF token a browser would have read from the page, so
every test also proves the form works with CSRF protection on.
"""
from __future__ import annotations

import pytest

from myapp.extensions import db
from myapp.services import tasks

from support.pages import PASSWORD, sign_in


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
