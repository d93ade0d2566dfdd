"""No N+1: the SQL statements per list request do not grow with tasks or tags."""
from __future__ import annotations

import pytest
from support.sql import recorded_statements

from myapp.extensions import db
from myapp.services import tasks, tokens

pytestmark = pytest.mark.pooled


def add_tasks(user_id, count: int, tags_each: int) -> None:
    for n in range(count):
        tasks.create_task(user_id, {"title": f"task {n}", "tags": [f"tag{t}" for t in range(tags_each)],
                                    "due_date": "2026-01-01" if n % 2 else None, "priority": "high"})


def signed_in(client, user) -> None:
    with client.session_transaction() as session:
        session["_user_id"] = user.get_id()
        session["_fresh"] = True


def statements_for(client, path: str, **kwargs) -> int:
    db.session.remove()  # a new request starts with an empty session, as in production
    with recorded_statements(db.engine) as statements:
        response = client.get(path, **kwargs)
    assert response.status_code == 200, response.status_code
    return len(statements)


@pytest.mark.parametrize("path", ["/", "/?status=active&sort=priority", "/?tag=tag1&sort=due"])
def test_the_task_list_page_runs_the_same_few_statements_for_2_or_60_tasks(app, client, make_user, path):
    few, many = make_user(), make_user()
    add_tasks(few.id, 2, tags_each=1)
    add_tasks(many.id, 60, tags_each=10)
    signed_in(client, few)
    small = statements_for(client, path)
    client.delete_cookie("session")
    signed_in(client, many)
    large = statements_for(client, path)
    assert small == large, (small, large)
    assert large <= 8


@pytest.mark.parametrize("query", ["", "?sort=title&limit=200", "?status=overdue&sort=due", "?tag=tag3"])
def test_the_list_api_runs_the_same_few_statements_for_2_or_60_tasks(app, client, make_user, query):
    few, many = make_user(), make_user()
    add_tasks(few.id, 2, tags_each=1)
    add_tasks(many.id, 60, tags_each=10)
    counts = []
    for user in (few, many):
        _, secret = tokens.create_token(user.id, "counting")
        counts.append(statements_for(client, f"/api/v1/tasks{query}",
                                     headers={"Authorization": f"Bearer {secret}"}))
    assert counts[0] == counts[1]
    assert counts[1] <= 6
