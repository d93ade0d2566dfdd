"""Accounts and API tokens on a real PostgreSQL."""
from __future__ import annotations

import hashlib
import json
import uuid

import pytest

from myapp import exports
from myapp.errors import InvalidCredentials, NotFound, ValidationError
from myapp.extensions import db
from myapp.services import export, signins, tasks, tokens, users

from conftest import PASSWORD
from support.wire import round_trips

pytestmark = pytest.mark.pooled


# --- sign-up ---------------------------------------------------------------------------------


def test_create_user_stores_the_email_normalised_and_only_a_slow_hash_of_the_password(sql):
    user = users.create_user("  Carol@Example.COM ", "a long password")
    assert user.email == "carol@example.com"
    (row,) = sql("SELECT email, password_hash, timezone FROM users WHERE id = :id", id=user.id)
    assert row.email == "carol@example.com"
    assert row.password_hash.startswith("$argon2id$") and "a long password" not in row.password_hash
    assert row.timezone == "UTC"
    assert not hasattr(user, "password_hash")  # what callers get holds no hash


@pytest.mark.parametrize("email", ["alice@example.com", "ALICE@example.com", " Alice@Example.com "])
def test_an_email_already_taken_in_any_letter_case_is_a_validation_error_on_email(alice, sql, email):
    with pytest.raises(ValidationError) as caught:
        users.create_user(email, "another password")
    assert set(caught.value.details) == {"email"}
    assert sql("SELECT count(*) FROM users")[0][0] == 1


@pytest.mark.parametrize(("email", "password", "timezone", "field"), [
    ("", PASSWORD, "UTC", "email"),
    ("no-at-sign", PASSWORD, "UTC", "email"),
    ("two@@example.com", PASSWORD, "UTC", "email"),
    (None, PASSWORD, "UTC", "email"),
    ("x" * 250 + "@example.com", PASSWORD, "UTC", "email"),
    ("dave@example.com", "short", "UTC", "password"),
    ("dave@example.com", None, "UTC", "password"),
    ("dave@example.com", "x" * 1025, "UTC", "password"),
    ("dave@example.com", "nul\x00password", "UTC", "password"),
    ("dave@example.com", PASSWORD, "Mars/Olympus_Mons", "timezone"),
    ("dave@example.com", PASSWORD, "", "timezone"),
])
def test_create_user_rejects_bad_input_and_writes_nothing(sql, email, password, timezone, field):
    with pytest.raises(ValidationError) as caught:
        users.create_user(email, password, timezone)
    assert field in caught.value.details
    assert sql("SELECT count(*) FROM users")[0][0] == 0


def test_create_user_keeps_a_chosen_time_zone(app):
    assert users.create_user("eve@example.com", PASSWORD, "Europe/Paris").timezone == "Europe/Paris"


# --- account changes -------------------------------------------------------------------------


def test_change_password_swaps_the_password(alice):
    users.change_password(alice.id, PASSWORD, "a brand new password")
    with pytest.raises(InvalidCredentials):
        signins.sign_in("alice@example.com", PASSWORD)
    assert signins.sign_in("alice@example.com", "a brand new password").id == alice.id


@pytest.mark.parametrize(("current", "new", "field"), [
    ("wrong password", "a brand new password", "current_password"),
    (None, "a brand new password", "current_password"),
    (PASSWORD, "short", "new_password"),
])
def test_change_password_with_a_wrong_current_or_bad_new_password_changes_nothing(alice, sql, current, new, field):
    signins.start(alice.id)
    tokens.create_token(alice.id, "script")
    before = sql("SELECT password_hash, (SELECT count(*) FROM sign_ins), (SELECT count(*) FROM api_tokens) "
                 "FROM users WHERE id = :id", id=alice.id)
    with pytest.raises(ValidationError) as caught:
        users.change_password(alice.id, current, new, revoke_tokens=True)
    assert field in caught.value.details
    assert sql("SELECT password_hash, (SELECT count(*) FROM sign_ins), (SELECT count(*) FROM api_tokens) "
               "FROM users WHERE id = :id", id=alice.id) == before


def test_change_password_of_a_missing_account_is_not_found(app):
    with pytest.raises(NotFound):
        users.change_password(uuid.uuid4(), PASSWORD, "a brand new password")


def test_set_timezone_stores_a_valid_zone(alice, sql):
    assert users.set_timezone(alice.id, "America/New_York").timezone == "America/New_York"
    assert sql("SELECT timezone FROM users WHERE id = :id", id=alice.id)[0][0] == "America/New_York"


@pytest.mark.parametrize("zone", ["Mars/Olympus_Mons", "", None, "utc ", 5, "../../etc/passwd", "localtime",
                                  "posixrules", "Factory", "posix/Europe/Paris", "right/UTC", "zone.tab"])
def test_set_timezone_rejects_an_unknown_zone_and_changes_nothing(alice, sql, zone):
    with pytest.raises(ValidationError) as caught:
        users.set_timezone(alice.id, zone)
    assert set(caught.value.details) == {"timezone"}
    assert sql("SELECT timezone FROM users WHERE id = :id", id=alice.id)[0][0] == "UTC"


@pytest.mark.parametrize(("given", "stored"), [("Asia/Calcutta", "Asia/Kolkata"), ("US/Eastern", "America/New_York"),
                                               ("Etc/UTC", "UTC"), ("Zulu", "UTC"), ("UTC", "UTC"),
                                               ("Europe/Kyiv", "Europe/Kyiv")])
def test_a_time_zone_is_stored_by_its_canonical_name(alice, sql, given, stored):
    assert users.set_timezone(alice.id, given).timezone == stored
    assert sql("SELECT timezone FROM users WHERE id = :id", id=alice.id)[0][0] == stored


def test_a_users_time_zone_changes_their_updated_at(alice, sql):
    (before,) = sql("SELECT updated_at FROM users WHERE id = :id", id=alice.id)[0]
    users.set_timezone(alice.id, "Asia/Tokyo")
    (after_zone,) = sql("SELECT updated_at FROM users WHERE id = :id", id=alice.id)[0]
    users.change_password(alice.id, PASSWORD, "a brand new password")
    (after_password,) = sql("SELECT updated_at FROM users WHERE id = :id", id=alice.id)[0]
    assert before < after_zone < after_password


def test_set_timezone_for_a_missing_account_is_not_found(app):
    with pytest.raises(NotFound):
        users.set_timezone(uuid.uuid4(), "UTC")


# --- deletion and export ---------------------------------------------------------------------

OWNED_TABLES = ("tasks", "projects", "tag_counts", "api_tokens", "idempotency_keys", "sign_ins")


def give_everything(user_id, sql):
    task = tasks.create_task(user_id, {"title": "a task", "tags": ["home"]})
    tasks.create_task(user_id, {"title": "done", "completed": True})
    tokens.create_token(user_id, "laptop")
    signins.start(user_id, "Firefox")
    sql("INSERT INTO idempotency_keys (user_id, key, request_hash, task_id) VALUES (:u, 'k1', :h, :t)",
        u=user_id, h="0" * 64, t=task.id)


def counts(sql, user_id) -> dict[str, int]:
    return {table: sql(f"SELECT count(*) FROM {table} WHERE user_id = :u", u=user_id)[0][0]
            for table in OWNED_TABLES}


def test_delete_account_needs_the_password_and_then_removes_everything(alice, bob, sql):
    give_everything(alice.id, sql)
    give_everything(bob.id, sql)
    bobs = counts(sql, bob.id)
    with pytest.raises(ValidationError) as caught:
        users.delete_account(alice.id, "not the password")
    assert "password" in caught.value.details
    assert all(counts(sql, alice.id).values())
    users.delete_account(alice.id, PASSWORD)
    assert sql("SELECT count(*) FROM users WHERE id = :u", u=alice.id)[0][0] == 0
    assert counts(sql, alice.id) == dict.fromkeys(OWNED_TABLES, 0)
    assert counts(sql, bob.id) == bobs  # nobody else's data went with it
    with pytest.raises(InvalidCredentials):
        signins.sign_in("alice@example.com", PASSWORD)


def test_delete_account_of_a_missing_account_is_not_found(app):
    with pytest.raises(NotFound):
        users.delete_account(uuid.uuid4(), PASSWORD)


def test_export_contains_this_users_data_and_nobody_elses(alice, bob, sql):
    give_everything(alice.id, sql)
    tasks.create_task(bob.id, {"title": "bob's secret plan"})
    tokens.create_token(bob.id, "bob's token")
    text = b"".join(exports.json_chunks(export.export_records(alice.id))).decode()
    data = json.loads(text)
    assert data["user"]["email"] == "alice@example.com"
    assert sorted(task["title"] for task in data["tasks"]) == ["a task", "done"]
    assert [token["name"] for token in data["tokens"]] == ["laptop"]
    assert "bob" not in text and str(bob.id) not in text
    assert "password_hash" not in text and "$argon2" not in text
    assert "token_hash" not in text


def test_export_for_a_missing_account_is_not_found(app):
    with pytest.raises(NotFound):
        list(export.export_records(uuid.uuid4()))


# --- API tokens ------------------------------------------------------------------------------


def test_a_new_token_authenticates_its_owner(alice):
    token, secret = tokens.create_token(alice.id, "script", scope="read", expires_in_days=30)
    caller = tokens.authenticate_token(secret)
    assert (caller.account.id, caller.account.email, caller.token_id, caller.scope) == \
        (alice.id, "alice@example.com", token.id, "read")
    assert token.expires_at is not None


def test_a_token_is_stored_only_as_its_sha256_hash(alice, sql):
    token, secret = tokens.create_token(alice.id, "script")
    (row,) = sql("SELECT * FROM api_tokens WHERE id = :id", id=token.id)
    assert row.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert not any(isinstance(value, str) and secret in value for value in row)
    assert secret.startswith(row.prefix) and len(row.prefix) < len(secret) // 4


def test_each_token_is_different(alice):
    secrets = {tokens.create_token(alice.id, f"t{n}")[1] for n in range(5)}
    assert len(secrets) == 5


def test_an_expired_token_does_not_authenticate(alice, sql):
    token, secret = tokens.create_token(alice.id, "short-lived", expires_in_days=1)
    tokens.authenticate_token(secret)
    sql("UPDATE api_tokens SET expires_at = now() - interval '1 second' WHERE id = :id", id=token.id)
    db.session.remove()
    with pytest.raises(InvalidCredentials):
        tokens.authenticate_token(secret)


@pytest.mark.parametrize("secret", ["", "tm_", "tm_unknown", "no-prefix", "tm_" + "x" * 300])
def test_an_unknown_token_does_not_authenticate(alice, secret):
    tokens.create_token(alice.id, "real")
    with pytest.raises(InvalidCredentials):
        tokens.authenticate_token(secret)


def test_a_revoked_token_no_longer_authenticates(alice):
    token, secret = tokens.create_token(alice.id, "old")
    tokens.revoke_token(alice.id, token.id)
    with pytest.raises(InvalidCredentials):
        tokens.authenticate_token(secret)
    assert tokens.list_tokens(alice.id) == []


def test_another_user_cannot_revoke_a_token(alice, bob, sql):
    token, secret = tokens.create_token(alice.id, "mine")
    with pytest.raises(NotFound):
        tokens.revoke_token(bob.id, token.id)
    assert sql("SELECT count(*) FROM api_tokens WHERE id = :id", id=token.id)[0][0] == 1
    assert tokens.authenticate_token(secret).account.id == alice.id


@pytest.mark.parametrize("token_id", ["not-a-uuid", "", None, 42])
def test_revoking_a_malformed_token_id_is_not_found(alice, token_id):
    tokens.create_token(alice.id, "mine")
    with pytest.raises(NotFound):
        tokens.revoke_token(alice.id, token_id)
    assert len(tokens.list_tokens(alice.id)) == 1


def test_list_tokens_shows_only_the_users_own(alice, bob):
    tokens.create_token(alice.id, "a1")
    tokens.create_token(bob.id, "b1")
    assert [token.name for token in tokens.list_tokens(alice.id)] == ["a1"]


@pytest.mark.parametrize(("name", "scope", "days", "field"), [
    ("", "write", None, "name"),
    ("   ", "write", None, "name"),
    ("x" * 101, "write", None, "name"),
    (None, "write", None, "name"),
    ("t", "admin", None, "scope"),
    ("t", "write", 0, "expires_in_days"),
    ("t", "write", 3651, "expires_in_days"),
    ("t", "write", True, "expires_in_days"),
    ("t", "write", "30", "expires_in_days"),
])
def test_create_token_rejects_bad_input_and_writes_nothing(alice, sql, name, scope, days, field):
    with pytest.raises(ValidationError) as caught:
        tokens.create_token(alice.id, name, scope, days)
    assert field in caught.value.details
    assert sql("SELECT count(*) FROM api_tokens")[0][0] == 0


def test_last_use_is_written_at_most_once_a_minute_and_a_lookup_alone_is_one_round_trip(app, alice, sql):
    token, secret = tokens.create_token(alice.id, "busy")
    db.session.remove()
    seen, trips_per_lookup = [], []
    for _ in range(3):  # three requests in a row
        with round_trips(db.engine) as trips:
            tokens.authenticate_token(secret)
            db.session.remove()
        trips_per_lookup.append(trips.count)
        seen.append(sql("SELECT last_used_at FROM api_tokens WHERE id = :id", id=token.id)[0][0])
    assert trips_per_lookup == [2, 1, 1]  # the first records the use; the others only read
    assert seen[0] is not None and seen[0] == seen[1] == seen[2]


def test_last_use_is_written_again_once_a_minute_has_passed(alice, sql):
    token, secret = tokens.create_token(alice.id, "busy")
    tokens.authenticate_token(secret)
    sql("UPDATE api_tokens SET last_used_at = now() - interval '2 minutes' WHERE id = :id", id=token.id)
    (old,) = sql("SELECT last_used_at FROM api_tokens WHERE id = :id", id=token.id)[0]
    db.session.remove()
    tokens.authenticate_token(secret)
    (new,) = sql("SELECT last_used_at FROM api_tokens WHERE id = :id", id=token.id)[0]
    assert new > old
