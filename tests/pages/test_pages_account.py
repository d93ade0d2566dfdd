"""The account page: time zone, password, signed-in devices, API tokens, export, deletion."""
from __future__ import annotations

import json
import re
from html import unescape

import pytest

from myapp.services import tokens

from support.pages import PASSWORD, post, sign_in

NEW_PASSWORD = "a brand new passphrase"


def test_the_account_page_shows_every_section(signed_in):
    html = signed_in.get("/account").get_data(as_text=True)
    for heading in ("Time zone", "Password", "Signed-in devices", "API tokens", "Export your data",
                    "Delete account"):
        assert f">{heading}</h2>" in html
    assert '<option selected value="UTC">UTC</option>' in html
    assert '<optgroup label="Europe">' in html


def test_signed_out_visitors_are_sent_to_sign_in(client):
    for path in ("/account", "/account/export"):
        response = client.get(path)
        assert response.status_code == 302 and response.headers["Location"].startswith("/sign-in?next=")


# Password -----------------------------------------------------------------------------

def test_changing_the_password_keeps_this_session_and_signs_out_every_other(signed_in, new_client, user):
    other = new_client()
    sign_in(other, user.email)
    assert other.get("/account").status_code == 200
    response = post(signed_in, "/account/password", {"current_password": PASSWORD, "new_password": NEW_PASSWORD})
    assert response.status_code == 302 and response.headers["Location"] == "/account"
    assert "Every other device was signed out." in signed_in.get("/account").get_data(as_text=True)
    assert other.get("/account").status_code == 302
    assert sign_in(new_client(), user.email, NEW_PASSWORD).status_code == 302
    assert sign_in(new_client(), user.email, PASSWORD).status_code == 422


def test_changing_the_password_ends_other_remember_me_cookies_and_keeps_this_ones(new_client, user):
    remembered, here = new_client(), new_client()
    post(remembered, "/sign-in", {"email": user.email, "password": PASSWORD, "remember": "y"})
    post(here, "/sign-in", {"email": user.email, "password": PASSWORD, "remember": "y"})
    post(here, "/account/password", {"current_password": PASSWORD, "new_password": NEW_PASSWORD})
    for client in (remembered, here):
        client.delete_cookie("session")  # the browser was closed: only the remember-me cookie is left
    assert remembered.get("/account").status_code == 302
    assert here.get("/account").status_code == 200


def test_changing_the_password_revokes_every_token_when_asked_as_the_form_does_by_default(signed_in, user, sql):
    tokens.create_token(user.id, "script", "write")
    html = signed_in.get("/account").get_data(as_text=True)
    assert re.search(r'<input [^>]*checked[^>]*id="revoke_tokens"', html), "offered, and checked by default"
    post(signed_in, "/account/password", {"current_password": PASSWORD, "new_password": NEW_PASSWORD,
                                          "revoke_tokens": "y"})
    assert sql("SELECT count(*) FROM api_tokens") == [(0,)]
    assert "every API token revoked" in signed_in.get("/account").get_data(as_text=True)


def test_changing_the_password_keeps_the_tokens_when_unticked(signed_in, user, sql):
    tokens.create_token(user.id, "script", "write")
    post(signed_in, "/account/password", {"current_password": PASSWORD, "new_password": NEW_PASSWORD})
    assert sql("SELECT count(*) FROM api_tokens") == [(1,)]


@pytest.mark.parametrize("current, new, field, message", [
    ("wrong password", NEW_PASSWORD, "current_password", "This is not your current password."),
    (PASSWORD, "short", "new_password", "Use at least 8 characters."),
])
def test_a_refused_password_change_is_explained_next_to_the_field(signed_in, user, current, new, field, message):
    response = post(signed_in, "/account/password", {"current_password": current, "new_password": new})
    assert response.status_code == 422
    html = unescape(response.get_data(as_text=True))
    assert f'id="{field}-error">{message}' in html
    assert sign_in(signed_in, user.email, PASSWORD).status_code == 302  # the old password still works


# Time zone ----------------------------------------------------------------------------

def test_setting_the_time_zone(signed_in, sql):
    response = post(signed_in, "/account/timezone", {"timezone": "America/Argentina/Buenos_Aires"})
    assert response.status_code == 302
    assert sql("SELECT timezone FROM users") == [("America/Argentina/Buenos_Aires",)]
    html = signed_in.get("/account").get_data(as_text=True)
    assert "Time zone set to America/Argentina/Buenos Aires." in html
    assert '<option selected value="America/Argentina/Buenos_Aires">America / Argentina / Buenos Aires</option>' in html


def test_an_unknown_time_zone_is_refused_next_to_the_field(signed_in, sql):
    response = post(signed_in, "/account/timezone", {"timezone": "Mars/Olympus_Mons"})
    assert response.status_code == 422
    assert 'id="timezone-error">Choose a time zone from the list.' in response.get_data(as_text=True)
    assert sql("SELECT timezone FROM users") == [("UTC",)]


def test_pages_still_answer_for_a_stored_zone_that_cannot_be_loaded(signed_in, make_task, user, sql):
    make_task(user, "Due one day", due_date="2030-01-01")
    sql("UPDATE users SET timezone = 'Mars/Olympus_Mons'")  # from before zones were checked, or by hand
    for path in ("/", "/account", "/?status=overdue"):
        assert signed_in.get(path).status_code == 200


# API tokens ---------------------------------------------------------------------------

def test_a_new_token_is_shown_once_and_then_listed_without_its_secret(signed_in, user, sql):
    response = post(signed_in, "/account/tokens", {"name": "backup script", "scope": "read", "expires_in_days": "30"})
    assert response.status_code == 201
    assert "no-store" in response.headers["Cache-Control"]
    html = response.get_data(as_text=True)
    secret = re.search(r'<code id="new-token-secret">(tm_[^<]+)</code>', html).group(1)
    caller = tokens.authenticate_token(secret)
    assert caller.account.id == user.id and caller.scope == "read"
    later = signed_in.get("/account").get_data(as_text=True)
    assert secret not in later
    assert "backup script" in later and f"{secret[:9]}…" in later
    assert "Read only" in later and "Expires " in later
    assert secret not in "".join(signed_in.get_cookie("session").value)
    assert sql("SELECT count(*) FROM api_tokens") == [(1,)]


def test_a_token_asks_for_the_password_when_it_was_not_typed_here_in_the_last_ten_minutes(signed_in, sql):
    sql("UPDATE sign_ins SET authenticated_at = now() - interval '11 minutes'")
    assert 'id="token-password"' in signed_in.get("/account").get_data(as_text=True)
    refused = post(signed_in, "/account/tokens", {"name": "stolen", "scope": "write"})
    assert refused.status_code == 422
    assert 'id="token-password-error">This is not your password.' in refused.get_data(as_text=True)
    wrong = post(signed_in, "/account/tokens", {"name": "stolen", "scope": "write", "password": "guess"})
    assert wrong.status_code == 422 and sql("SELECT count(*) FROM api_tokens") == [(0,)]
    made = post(signed_in, "/account/tokens", {"name": "mine", "scope": "write", "password": PASSWORD})
    assert made.status_code == 201 and sql("SELECT name FROM api_tokens") == [("mine",)]
    # Typed just now: the next token does not ask again.
    assert 'id="token-password"' not in signed_in.get("/account").get_data(as_text=True)
    assert post(signed_in, "/account/tokens", {"name": "second", "scope": "read"}).status_code == 201


def test_a_recent_sign_in_makes_a_token_without_asking_again(signed_in):
    assert 'id="token-password"' not in signed_in.get("/account").get_data(as_text=True)


def test_a_used_token_shows_when_it_was_last_used(signed_in, user):
    _, secret = tokens.create_token(user.id, "cron", "write")
    tokens.authenticate_token(secret)
    html = signed_in.get("/account").get_data(as_text=True)
    assert "Last used " in html and "Never expires" in html and "Read and write" in html


@pytest.mark.parametrize("data, field, message", [
    ({"name": "  ", "scope": "write"}, "name", "Give the token a name."),
    ({"name": "ok", "scope": "admin"}, "scope", "Choose read or write."),
    ({"name": "ok", "scope": "write", "expires_in_days": "0"}, "expires_in_days", "Use a number of days"),
    ({"name": "ok", "scope": "write", "expires_in_days": "soon"}, "expires_in_days", "Use a number of days"),
    ({"name": "ok", "scope": "write", "expires_in_days": "9" * 5000}, "expires_in_days", "Use a number of days"),
])
def test_an_invalid_token_request_is_explained_next_to_the_field(signed_in, sql, data, field, message):
    response = post(signed_in, "/account/tokens", data)
    assert response.status_code == 422
    assert f'id="{field}-error">{message}' in response.get_data(as_text=True)
    assert sql("SELECT count(*) FROM api_tokens") == [(0,)]


def test_revoking_a_token_stops_it_working(signed_in, user, sql):
    token, secret = tokens.create_token(user.id, "old", "write")
    response = post(signed_in, f"/account/tokens/{token.id}/revoke")
    assert response.status_code == 302 and response.headers["Location"] == "/account"
    assert sql("SELECT count(*) FROM api_tokens") == [(0,)]
    assert "Token revoked." in signed_in.get("/account").get_data(as_text=True)


def test_another_users_token_cannot_be_revoked(signed_in, other_user, sql):
    token, _ = tokens.create_token(other_user.id, "bob's", "write")
    response = post(signed_in, f"/account/tokens/{token.id}/revoke")
    assert response.status_code == 404 and "Page not found" in response.get_data(as_text=True)
    assert sql("SELECT count(*) FROM api_tokens") == [(1,)]


# Export -------------------------------------------------------------------------------

def test_export_downloads_all_my_data_as_json(signed_in, user, other_user, make_task):
    make_task(user, "Mine", tags=["x"])
    make_task(other_user, "Not mine")
    tokens.create_token(user.id, "cli", "read")
    response = signed_in.get("/account/export")
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert response.headers["Content-Disposition"].startswith('attachment; filename="tasks-export-')
    data = json.loads(response.get_data(as_text=True))
    assert data["user"]["email"] == user.email
    assert [task["title"] for task in data["tasks"]] == ["Mine"]
    assert [token["name"] for token in data["tokens"]] == ["cli"]
    assert "token_hash" not in response.get_data(as_text=True)


# Deleting the account -----------------------------------------------------------------

def test_deleting_the_account_needs_the_password(signed_in, user, make_task, sql):
    make_task(user, "Keep me")
    response = post(signed_in, "/account/delete", {"password": "wrong password"})
    assert response.status_code == 422
    assert 'id="password-error">This is not your password.' in response.get_data(as_text=True)
    assert sql("SELECT count(*) FROM users") == [(1,)] and sql("SELECT count(*) FROM tasks") == [(1,)]


def test_deleting_the_account_removes_everything_and_signs_out(signed_in, user, other_user, make_task, sql):
    make_task(user, "Mine")
    make_task(other_user, "Bob's")
    tokens.create_token(user.id, "cli", "read")
    response = post(signed_in, "/account/delete", {"password": PASSWORD})
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert sql("SELECT email FROM users") == [("bob@example.com",)]
    assert sql("SELECT title FROM tasks") == [("Bob's",)]
    assert sql("SELECT count(*) FROM api_tokens") == [(0,)]
    assert "were deleted" in signed_in.get("/").get_data(as_text=True)
    assert signed_in.get("/account").status_code == 302


# CSRF ---------------------------------------------------------------------------------

@pytest.mark.parametrize("path, data", [
    ("/account/password", {"current_password": PASSWORD, "new_password": NEW_PASSWORD}),
    ("/account/timezone", {"timezone": "Asia/Tokyo"}),
    ("/account/tokens", {"name": "sneaky", "scope": "write"}),
    ("/account/tokens/{token_id}/revoke", {}),
    ("/account/delete", {"password": PASSWORD}),
    ("/account/sign-ins/{sign_in_id}/end", {}),
])
def test_account_forms_without_a_csrf_token_are_refused_and_change_nothing(signed_in, user, sql, path, data):
    token, _ = tokens.create_token(user.id, "existing", "write")
    before = sql("SELECT email, password_hash, timezone FROM users")
    (sign_in_id,) = sql("SELECT id FROM sign_ins")[0]
    response = signed_in.post(path.format(token_id=token.id, sign_in_id=sign_in_id), data=data)
    assert response.status_code == 400
    assert sql("SELECT email, password_hash, timezone FROM users") == before
    assert sql("SELECT name FROM api_tokens") == [("existing",)]
    assert sql("SELECT count(*) FROM sign_ins") == [(1,)]


# Signed-in devices --------------------------------------------------------------------

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
IPHONE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
          "Version/17.5 Mobile/15E148 Safari/604.1")


def test_the_account_page_lists_each_signed_in_device(new_client, user):
    laptop, phone = new_client(), new_client()
    sign_in(laptop, user.email, headers={"User-Agent": FIREFOX})
    sign_in(phone, user.email, headers={"User-Agent": IPHONE})
    html = laptop.get("/account", headers={"User-Agent": FIREFOX}).get_data(as_text=True)
    assert "Firefox on Linux" in html and "Safari on iPhone" in html
    assert html.count("This device") == 1


def test_signing_out_another_device_ends_its_session_at_once(new_client, user, sql):
    laptop, phone = new_client(), new_client()
    sign_in(laptop, user.email)
    sign_in(phone, user.email)
    (phone_id,) = sql("SELECT id FROM sign_ins ORDER BY created_at DESC LIMIT 1")[0]
    response = post(laptop, f"/account/sign-ins/{phone_id}/end")
    assert response.status_code == 302 and response.headers["Location"] == "/account"
    assert phone.get("/account").status_code == 302
    assert laptop.get("/account").status_code == 200


def test_signing_out_this_device_from_the_list_signs_it_out(signed_in, sql):
    (this_id,) = sql("SELECT id FROM sign_ins")[0]
    response = post(signed_in, f"/account/sign-ins/{this_id}/end")
    assert response.status_code == 302 and response.headers["Location"] == "/sign-in"
    assert signed_in.get("/account").status_code == 302


def test_another_users_device_cannot_be_signed_out(signed_in, new_client, other_user, sql):
    theirs = new_client()
    sign_in(theirs, other_user.email)
    (their_id,) = sql("SELECT id FROM sign_ins WHERE user_id = :u", u=other_user.id)[0]
    response = post(signed_in, f"/account/sign-ins/{their_id}/end")
    assert response.status_code == 404
    assert theirs.get("/account").status_code == 200
