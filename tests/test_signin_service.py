"""Sign-ins kept on the server, on a real PostgreSQL: made at sign-in, checked by the
statement that loads the user, ended by signing out or a password change."""
from __future__ import annotations

import uuid

import pytest

from myapp.errors import InvalidCredentials, NotFound, ValidationError
from myapp.extensions import db
from myapp.services import signins, users

from conftest import PASSWORD
from support.wire import round_trips

pytestmark = pytest.mark.pooled


def test_sign_in_checks_the_password_and_records_the_device(alice, sql):
    account = signins.sign_in("  ALICE@example.com", PASSWORD, "Firefox/128.0 (X11; Linux)", remember=True)
    assert (account.id, account.email) == (alice.id, "alice@example.com")
    (row,) = sql("SELECT id, user_id, user_agent, remember FROM sign_ins")
    assert (row.id, row.user_id, row.user_agent, row.remember) == \
        (account.sign_in_id, alice.id, "Firefox/128.0 (X11; Linux)", True)
    assert account.get_id() == str(row.id)  # what the session and remember-me cookies hold


def test_an_unknown_email_and_a_wrong_password_fail_the_same_way_and_record_nothing(alice, sql):
    with pytest.raises(InvalidCredentials) as unknown:
        signins.sign_in("nobody@example.com", PASSWORD)
    with pytest.raises(InvalidCredentials) as wrong:
        signins.sign_in("alice@example.com", "not the password")
    assert (unknown.value.code, unknown.value.message, unknown.value.details) == \
        (wrong.value.code, wrong.value.message, wrong.value.details)
    assert sql("SELECT count(*) FROM sign_ins") == [(0,)]


@pytest.mark.parametrize(("email", "password"), [(None, None), ("alice@example.com", None), (5, PASSWORD),
                                                 ("alice@example.com", ""), ("alice\x00@example.com", PASSWORD)])
def test_sign_in_with_missing_or_odd_values_is_invalid_credentials(alice, email, password):
    with pytest.raises(InvalidCredentials):
        signins.sign_in(email, password)


def test_a_very_long_user_agent_is_cut_not_refused(alice, sql):
    signins.sign_in("alice@example.com", PASSWORD, "x" * 5000)
    assert sql("SELECT length(user_agent) FROM sign_ins") == [(signins.USER_AGENT_MAX,)]


def test_load_finds_the_user_of_a_live_sign_in_in_one_round_trip(app, alice):
    started = signins.start(alice.id, "curl/8")
    db.session.remove()
    with round_trips(db.engine) as trips:
        loaded = signins.load(str(started.sign_in_id))
        db.session.remove()
    assert (loaded.id, loaded.email, loaded.timezone, loaded.sign_in_id) == \
        (alice.id, alice.email, "UTC", started.sign_in_id)
    assert trips.count == 1


@pytest.mark.parametrize("sign_in_id", ["not-a-uuid", "", None, str(uuid.uuid4()), "1:0"])
def test_load_of_a_malformed_or_unknown_sign_in_is_none(app, sign_in_id):
    assert signins.load(sign_in_id) is None


def test_last_seen_moves_at_most_once_a_minute(app, alice, sql):
    started = signins.start(alice.id)
    sql("UPDATE sign_ins SET last_seen_at = now() - interval '5 minutes'")
    seen = []
    for _ in range(3):
        signins.load(started.sign_in_id)
        db.session.remove()
        seen.append(sql("SELECT last_seen_at FROM sign_ins")[0][0])
    assert seen[0] == seen[1] == seen[2]
    assert sql("SELECT last_seen_at > now() - interval '1 minute' FROM sign_ins") == [(True,)]


def test_a_sign_in_unused_for_thirty_days_has_ended(app, alice, sql):
    started = signins.start(alice.id)
    sql("UPDATE sign_ins SET last_seen_at = now() - interval '31 days'")
    assert signins.load(started.sign_in_id) is None
    assert signins.list_sign_ins(alice.id) == []
    assert sql("SELECT last_seen_at < now() - interval '30 days' FROM sign_ins") == [(True,)]  # not revived


def test_ending_a_sign_in_stops_it_loading(app, alice):
    started = signins.start(alice.id)
    signins.end(alice.id, started.sign_in_id)
    assert signins.load(started.sign_in_id) is None
    with pytest.raises(NotFound):
        signins.end(alice.id, started.sign_in_id)


@pytest.mark.parametrize("sign_in_id", ["nope", None, 42])
def test_ending_a_malformed_sign_in_is_not_found(app, alice, sign_in_id):
    with pytest.raises(NotFound):
        signins.end(alice.id, sign_in_id)


def test_another_user_can_neither_see_nor_end_a_sign_in(app, alice, bob):
    alices = signins.start(alice.id, "Alice's laptop")
    signins.start(bob.id, "Bob's phone")
    with pytest.raises(NotFound):
        signins.end(bob.id, alices.sign_in_id)
    assert [row.user_agent for row in signins.list_sign_ins(bob.id)] == ["Bob's phone"]
    assert signins.load(alices.sign_in_id).id == alice.id


def test_list_shows_the_users_sign_ins_most_recently_seen_first(app, alice, sql):
    older = signins.start(alice.id, "old")
    newer = signins.start(alice.id, "new")
    sql("UPDATE sign_ins SET last_seen_at = now() - interval '1 hour' WHERE id = :id", id=older.sign_in_id)
    assert [row.id for row in signins.list_sign_ins(alice.id)] == [newer.sign_in_id, older.sign_in_id]


def test_a_password_change_ends_every_other_sign_in_and_keeps_this_one(app, alice):
    here, elsewhere = signins.start(alice.id), signins.start(alice.id)
    users.change_password(alice.id, PASSWORD, "a brand new password", keep_sign_in=here.sign_in_id)
    assert signins.load(elsewhere.sign_in_id) is None
    assert signins.load(here.sign_in_id).id == alice.id


def test_a_password_change_without_a_device_to_keep_ends_them_all(app, alice):
    started = signins.start(alice.id)
    users.change_password(alice.id, PASSWORD, "a brand new password")
    assert signins.load(started.sign_in_id) is None


def test_confirming_the_password_makes_the_sign_in_recent(app, alice, sql):
    started = signins.start(alice.id)
    sql("UPDATE sign_ins SET authenticated_at = now() - interval '1 hour'")
    with pytest.raises(ValidationError) as wrong:
        signins.confirm_password(alice.id, started.sign_in_id, "guess")
    assert set(wrong.value.details) == {"password"}
    assert sql("SELECT authenticated_at < now() - interval '59 minutes' FROM sign_ins") == [(True,)]
    confirmed = signins.confirm_password(alice.id, started.sign_in_id, PASSWORD)
    assert sql("SELECT authenticated_at > now() - interval '1 minute' FROM sign_ins") == [(True,)]
    assert confirmed.authenticated_at is not None


def test_nobody_can_confirm_a_password_on_another_users_sign_in(app, alice, bob, sql):
    alices = signins.start(alice.id)
    sql("UPDATE sign_ins SET authenticated_at = now() - interval '1 hour'")
    with pytest.raises(NotFound):
        signins.confirm_password(bob.id, alices.sign_in_id, PASSWORD)
    assert sql("SELECT authenticated_at < now() - interval '59 minutes' FROM sign_ins") == [(True,)]


@pytest.mark.parametrize(("user_agent", "device"), [
    ("Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0", "Firefox on Linux"),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36",
     "Chrome on Windows"),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36 "
     "Edg/126.0", "Edge on Windows"),
    ("Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 "
     "Safari/605.1.15", "Safari on macOS"),
    ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Mobile "
     "Safari/537.36", "Chrome on Android"),
    ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
     "CriOS/126.0 Mobile/15E148 Safari/604.1", "Chrome on iPhone"),
    ("curl/8.5.0", "curl"),
    ("", "Unknown device"),
])
def test_a_device_is_described_by_its_browser_and_system(user_agent, device):
    assert signins.describe_device(user_agent) == device
