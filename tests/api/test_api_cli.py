"""The CLI (`flask users create|set-password`, `flask tokens create`, `flask maintenance purge`):
in-process and as a real subprocess."""
from __future__ import annotations

import os
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from myapp.services import signins, tokens

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


def test_users_set_password_replaces_it_and_signs_every_device_out(runner, alice, sql):
    browser = signins.start(alice.id, "laptop")
    tokens.create_token(alice.id, "script")
    result = runner.invoke(args=["users", "set-password", "ALICE@example.com"], input="a fresh password\n")
    assert result.exit_code == 0, result.output
    assert "every device signed out" in result.stdout
    assert signins.load(browser.sign_in_id) is None
    assert sql("SELECT count(*) FROM api_tokens") == [(1,)]  # kept unless asked
    assert signins.sign_in("alice@example.com", "a fresh password").id == alice.id


def test_users_set_password_revokes_the_tokens_when_asked(runner, alice, sql):
    tokens.create_token(alice.id, "script")
    result = runner.invoke(args=["users", "set-password", "alice@example.com", "--revoke-tokens"],
                           input="a fresh password\n")
    assert result.exit_code == 0, result.output
    assert sql("SELECT count(*) FROM api_tokens") == [(0,)]


@pytest.mark.parametrize(("email", "password", "message"), [
    ("nobody@example.com", "a fresh password", "No account"),
    ("alice@example.com", "short", "at least 8"),
])
def test_users_set_password_refuses_and_changes_nothing(runner, alice, sql, email, password, message):
    before = sql("SELECT password_hash FROM users")
    result = runner.invoke(args=["users", "set-password", email], input=f"{password}\n")
    assert result.exit_code == 1 and message in result.output
    assert sql("SELECT password_hash FROM users") == before


def test_maintenance_purge_deletes_expired_keys_and_ended_sign_ins_of_every_user(runner, alice, bob, sql):
    for user in (alice, bob):
        sql("INSERT INTO idempotency_keys (user_id, key, request_hash, created_at) "
            "SELECT :u, 'k' || n, repeat('0', 64), now() - interval '2 days' FROM generate_series(1, 1500) n",
            u=user.id)
        sql("INSERT INTO idempotency_keys (user_id, key, request_hash) VALUES (:u, 'fresh', repeat('0', 64))",
            u=user.id)
        signins.start(user.id, "kept")
        old = signins.start(user.id, "old")
        sql("UPDATE sign_ins SET last_seen_at = now() - interval '31 days' WHERE id = :id", id=old.sign_in_id)
    result = runner.invoke(args=["maintenance", "purge"])
    assert result.exit_code == 0, result.output
    assert "Purged 3000 expired idempotency keys and 2 ended sign-ins." in result.stdout
    assert sql("SELECT key FROM idempotency_keys ORDER BY key") == [("fresh",), ("fresh",)]
    assert sql("SELECT user_agent FROM sign_ins") == [("kept",), ("kept",)]
