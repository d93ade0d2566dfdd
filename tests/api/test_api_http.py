"""The API over real HTTP: races between concurrent clients, and the OpenAPI contract.

The contract test runs Schemathesis (its CLI, every check it applies by default) against
the served app, with two users' tokens so that its object-level authorization check
can try one user's tasks with the other's token.
"""
from __future__ import annotations

import json
import subprocess
import threading
from functools import partial
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
SCHEMATHESIS_SETTINGS = Path(__file__).with_name("schemathesis.toml")
ROUNDS = 5


def at_once(*calls) -> list:
    """Run the calls in threads released together; their results in order."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(index: int) -> None:
        barrier.wait()
        results[index] = calls[index]()

    threads = [threading.Thread(target=run, args=(index,)) for index in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return results


@pytest.mark.pooled
def test_two_patches_with_the_same_etag_at_once_have_exactly_one_winner(server, alice, as_alice, make_task, sql):
    for _ in range(ROUNDS):
        task = make_task(alice)
        url = f"{server}/api/v1/tasks/{task.id}"
        etag = requests.get(url, headers=as_alice, timeout=10).headers["ETag"]
        titles = ["first client", "second client"]
        responses = at_once(*(partial(requests.patch, url, json={"title": title},
                                      headers={**as_alice, "If-Match": etag}, timeout=15) for title in titles))
        statuses = [response.status_code for response in responses]
        assert sorted(statuses) == [200, 412], statuses
        winner = titles[statuses.index(200)]
        assert sql("SELECT title, version FROM tasks WHERE id = :id", id=task.id) == [(winner, 2)]
        loser = responses[statuses.index(412)].json()
        assert loser["code"] == "PRECONDITION_FAILED"


@pytest.mark.pooled
def test_concurrent_posts_with_one_idempotency_key_create_one_task(server, as_alice, sql):
    for round_ in range(ROUNDS):
        headers = {**as_alice, "Idempotency-Key": f"race-{round_}"}
        post = partial(requests.post, f"{server}/api/v1/tasks", json={"title": f"once {round_}"}, headers=headers,
                       timeout=15)
        responses = at_once(post, post, post, post)
        assert [response.status_code for response in responses] == [201] * 4
        assert len({response.json()["id"] for response in responses}) == 1
        assert sorted(response.headers["Idempotent-Replayed"] for response in responses) == \
            ["false", "true", "true", "true"]
        assert sql("SELECT count(*) FROM tasks WHERE title = :t", t=f"once {round_}") == [(1,)]
        assert sql("SELECT count(*) FROM idempotency_keys WHERE key = :k", k=f"race-{round_}") == [(1,)]


def test_a_10_mb_body_over_http_is_a_413_json_answer(server, as_alice, sql):
    body = json.dumps({"title": "big", "description": "x" * (10 * 1024 * 1024)})
    response = requests.post(f"{server}/api/v1/tasks", data=body, timeout=30,
                             headers={**as_alice, "Content-Type": "application/json"})
    assert response.status_code == 413
    assert response.json()["code"] == "PAYLOAD_TOO_LARGE"
    assert sql("SELECT count(*) FROM tasks") == [(0,)]


# The project ids Schemathesis finds by following links are mostly the Inbox's (every user
# has one, made first), whose deletion is a 422 by rule, which it reports as "mostly
# rejected". Likewise the tasks it makes mostly do not repeat, and skipping one that does
# not is a 422 by rule; and the lines it makes for quick add are mostly long, and what
# remains of one for a title must fit a title (255 characters): a 422 by rule. The files it
# uploads to import are random bytes, which no format reads (422 saying why). These are the
# warnings expected; any other fails.
EXPECTED_WARNINGS = {("Schema validation mismatch", "DELETE /projects/{project_id}"),
                     ("Schema validation mismatch", "POST /import"),
                     ("Schema validation mismatch", "POST /tasks/{task_id}/skip"),
                     ("Schema validation mismatch", "POST /tasks/quick")}


def unexpected_warnings(output: str) -> list[tuple[str, str]]:
    if "No issues found" in output:
        return []
    section = output.split("=== WARNINGS ===", 1)[-1].split("=== SUMMARY ===", 1)[0]
    found, title = [], None
    for line in section.splitlines():
        if line.strip().startswith("- ") and title:
            found.append((title, line.strip()[2:]))
        elif line.strip() and not line.startswith(" ") and ":" in line:
            title = line.split(":", 1)[0].strip()
    return [warning for warning in found if warning not in EXPECTED_WARNINGS] or \
        ([] if found else [("unparsed", section.strip()[:200])])


def test_the_running_api_conforms_to_its_openapi_document(server, alice, bob, make_token, tmp_path):
    identities = [{"name": name, "fixedHeaders": [{"name": "Authorization", "value": token["Authorization"]}]}
                  for name, token in (("alice", make_token(alice)), ("bob", make_token(bob)))]
    (tmp_path / "auth.json").write_text(json.dumps({"auth": identities}))
    settings = tmp_path / "schemathesis.toml"
    settings.write_text(SCHEMATHESIS_SETTINGS.read_text() + f"""
[auth.wfc]
path = "{tmp_path / 'auth.json'}"
peers = ["alice", "bob"]
""")
    command = [str(ROOT / ".venv/bin/schemathesis"), "--config-file", str(settings), "run",
               f"{server}/api/v1/openapi.json", "--seed", "1", "--max-examples", "50", "--workers", "1",
               "--generation-database", "none", "--no-color"]
    result = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-20_000:] + result.stderr[-5_000:]
    assert "22 selected / 22 total" in result.stdout
    assert unexpected_warnings(result.stdout) == [], result.stdout[-6_000:]
