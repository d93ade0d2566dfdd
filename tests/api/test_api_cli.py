"""`flask users create` and `flask tokens create`: in-process and as a real subprocess."""
from __future__ import annotations

import os
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from myapp.services import signins

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def test_users_create_reads_the_password_from_stdin_when_piped(runner, sql):
    result = runner.invoke(args=["users", "create", "  Carol@Example.COM "], input="a long password\n")
    assert result.exit_code == 0, result.output
    assert "carol@example.com" in result.stdout
    assert sql("SELECT email, timezone FROM users") == [("carol@example.com", "UTC")]
    assert signins.sign_in("carol@example.com", "a long password").email == "carol@example.com"


def test_users_create_takes_a_time_zone(runner, sql):
    result = runner.invoke(args=["users", "create", "dan@example.com", "--timezone", "Europe/Paris"],
                           input="a long password\n")
    assert result.exit_code == 0, result.output
    assert sql("SELECT timezone FROM users") == [("Europe/Paris",)]


@pytest.mark.parametrize(("args", "password", "message"), [
    (["users", "create", "alice@example.com"], "a long password", "already exists"),
    (["users", "create", "erin@example.com"], "short", "at least 8"),
    (["users", "create", "not-an-email"], "a long password", "valid email"),
    (["users", "create", "fay@example.com", "--timezone", "Mars/Olympus"], "a long password", "time zone"),
])
def test_users_create_refuses_what_sign_up_refuses(runner, alice, sql, args, password, message):
    result = runner.invoke(args=args, input=password + "\n")
    assert result.exit_code == 1
    assert message in result.output
    assert sql("SELECT count(*) FROM users") == [(1,)]


def test_tokens_create_prints_only_a_working_token_on_stdout(runner, client, alice, sql):
    result = runner.invoke(args=["tokens", "create", "ALICE@example.com", "laptop"])
    assert result.exit_code == 0, result.output
    secret = result.stdout.strip()
    assert secret.startswith("tm_") and "\n" not in secret
    assert "shown" in result.stderr
    assert sql("SELECT name, scope, expires_at FROM api_tokens") == [("laptop", "write", None)]
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"}).json["id"] == str(alice.id)
    assert secret not in str(sql("SELECT * FROM api_tokens"))  # only its hash is stored


def test_tokens_create_read_only_with_an_expiry(runner, client, alice, sql):
    result = runner.invoke(args=["tokens", "create", "alice@example.com", "ci", "--read-only",
                                 "--expires-in-days", "7"])
    assert result.exit_code == 0, result.output
    ((scope, expires_at),) = sql("SELECT scope, expires_at FROM api_tokens")
    assert scope == "read"
    assert abs(expires_at - (datetime.now(UTC) + timedelta(days=7))) < timedelta(minutes=1)
    headers = {"Authorization": f"Bearer {result.stdout.strip()}"}
    assert client.get("/api/v1/tasks", headers=headers).status_code == 200
    assert client.post("/api/v1/tasks", json={"title": "t"}, headers=headers).status_code == 403


@pytest.mark.parametrize(("args", "message"), [
    (["tokens", "create", "nobody@example.com", "x"], "No account"),
    (["tokens", "create", "alice@example.com", "   "], "name"),
    (["tokens", "create", "alice@example.com", "x", "--expires-in-days", "0"], "expires-in-days"),
    (["tokens", "create", "alice@example.com", "x", "--expires-in-days", "soon"], "expires-in-days"),
])
def test_tokens_create_refuses_bad_input(runner, alice, sql, args, message):
    result = runner.invoke(args=args)
    assert result.exit_code != 0
    assert message in result.output
    assert sql("SELECT count(*) FROM api_tokens") == [(0,)]


def test_the_commands_work_as_a_real_subprocess(client, app_database_url, sql):
    env = {**os.environ, "APP_ENV": "testing", "DATABASE_URL": app_database_url}

    def flask(*args: str, stdin: str = "") -> subprocess.CompletedProcess:
        return subprocess.run([str(ROOT / ".venv/bin/flask"), "--app", "app", *args], cwd=ROOT, env=env,
                              input=stdin, capture_output=True, text=True, timeout=60)

    created = flask("users", "create", "gus@example.com", stdin="a long password\n")
    assert created.returncode == 0, created.stderr
    token = flask("tokens", "create", "gus@example.com", "shell script")
    assert token.returncode == 0, token.stderr
    secret = token.stdout.strip()
    assert secret.startswith("tm_") and "\n" not in secret  # the JSON logs went to stderr
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"}).json["email"] == "gus@example.com"
    duplicate = flask("users", "create", "gus@example.com", stdin="a long password\n")
    assert duplicate.returncode == 1 and "already exists" in duplicate.stderr
    assert sql("SELECT count(*) FROM users") == [(1,)]
