"""Quick add through the API: parse writes nothing, quick creates what parse says (for every
line of the table), another user's project names are never matched, Idempotency-Key."""
from __future__ import annotations

import pytest
from test_quickadd import LINES

from myapp.services import projects

pytestmark = pytest.mark.pooled

FIELDS = ("title", "project_id", "tags", "priority", "due_date", "due_time", "recurrence")


@pytest.fixture
def alices_projects(alice, bob):
    made = {name: projects.create_project(alice.id, {"name": name}) for name in ("Home", "Work", "Side project")}
    projects.create_project(bob.id, {"name": "Secret"})
    return made


def test_quick_creates_what_parse_says_for_every_line_and_parse_writes_nothing(client, as_alice, alices_projects,
                                                                              sql):
    for text in (row[0] for row in LINES):
        before = sql("SELECT count(*) FROM tasks")[0][0]
        parsed = client.post("/api/v1/tasks/parse", headers=as_alice, json={"text": text})
        assert parsed.status_code == 200, (text, parsed.json)
        assert sql("SELECT count(*) FROM tasks")[0][0] == before, text
        created = client.post("/api/v1/tasks/quick", headers=as_alice, json={"text": text})
        assert created.status_code == 201, (text, created.json)
        task = created.json
        expected = {name: parsed.json[name] for name in FIELDS}
        if expected["project_id"] is None:  # the Inbox
            expected["project_id"] = task["project_id"]
        assert {name: task[name] for name in FIELDS} == expected, text
        assert created.headers["Location"] == f"/api/v1/tasks/{task['id']}"


def test_parse_answers_the_parts_and_the_projects_it_does_not_know(client, as_alice, alices_projects):
    text = 'Pay rent every month on the 1st #home @bills p1 #"Side project" #Secret'
    answer = client.post("/api/v1/tasks/parse", headers=as_alice, json={"text": text}).json
    assert answer["project_id"] == str(alices_projects["Home"].id)
    assert answer["recurrence"]["rule"] == "FREQ=MONTHLY;BYMONTHDAY=1"
    assert answer["recurrence"]["text"] == "every 1st"
    assert answer["due_date"] is not None and answer["due_date"].endswith("-01")  # its first date from today
    assert [(text[p["start"]:p["end"]], p["kind"]) for p in answer["parts"]] == [
        ("every month on the 1st", "recurrence"), ("#home", "project"), ("@bills", "tag"), ("p1", "priority")]
    assert answer["unknown_projects"] == ["Secret"]  # Bob's project is not a name Alice has
    assert answer["title"] == 'Pay rent #"Side project" #Secret'  # one project: the second stays text


def test_another_users_project_name_is_never_matched(client, as_bob, alices_projects, sql):
    created = client.post("/api/v1/tasks/quick", headers=as_bob, json={"text": "Peek #Home"})
    assert created.status_code == 201
    assert created.json["title"] == "Peek #Home"
    inbox = sql("SELECT p.is_inbox FROM tasks t JOIN projects p ON p.id = t.project_id")
    assert inbox == [(True,)]


def test_quick_honours_an_idempotency_key_on_the_text(client, as_alice, sql):
    headers = {**as_alice, "Idempotency-Key": "quick-1"}
    first = client.post("/api/v1/tasks/quick", headers=headers, json={"text": "Call Ana tomorrow at 17:30"})
    again = client.post("/api/v1/tasks/quick", headers=headers, json={"text": "Call Ana tomorrow at 17:30"})
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.headers["Idempotent-Replayed"] == "true" and again.json == first.json
    other = client.post("/api/v1/tasks/quick", headers=headers, json={"text": "Something else"})
    assert other.status_code == 409
    assert sql("SELECT count(*) FROM tasks")[0][0] == 1


@pytest.mark.parametrize("body", [{}, {"text": ""}, {"text": "   "}, {"text": 5}, {"text": "x" * 1001},
                                  {"text": "ok", "extra": 1}, ["text"], {"text": "a\u0000b"}])
def test_a_line_that_is_not_one_is_a_422_naming_text(client, as_alice, sql, body):
    for path in ("/api/v1/tasks/parse", "/api/v1/tasks/quick"):
        response = client.post(path, headers=as_alice, json=body)
        assert response.status_code == 422, (path, body)
    assert sql("SELECT count(*) FROM tasks")[0][0] == 0


def test_a_title_left_too_long_is_a_422_and_nothing_is_made(client, as_alice, sql):
    response = client.post("/api/v1/tasks/quick", headers=as_alice, json={"text": "x" * 300 + " tomorrow"})
    assert response.status_code == 422 and "title" in response.json["details"]
    assert sql("SELECT count(*) FROM tasks")[0][0] == 0
