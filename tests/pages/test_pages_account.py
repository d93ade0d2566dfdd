"""The account page: password, time zone, API tokens, export, deletion."""
from __future__ import annotations

import json
import re
from html import unescape

import pytest
from support.pages import PASSWORD, post, sign_in

from myapp.services import tokens

NEW_PASSWORD = "a brand new passphrase"


def test_the_account_page_shows_every_section(signed_in):
    html = signed_in.get("/account").get_data(as_text=True)
    for heading in ("Time zone", "Password", "API tokens", "Export your data", "Delete account"):
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
    assert "Every other session was signed out." in signed_in.get("/account").get_data(as_text=True)
    assert other.get("/account").status_code == 302
    assert sign_in(new_client(), user.email, NEW_PASSWORD).status_code == 302
    assert sign_in(new_client(), user.email, PASSWORD).status_code == 422


def test_changing_the_password_ends_other_remember_me_cookies_but_renews_this_ones(new_client, user):
    remembered, here = new_client(), new_client()
    post(remembered, "/sign-in", {"email": user.email, "password": PASSWORD, "remember": "y"})
    post(here, "/sign-in", {"email": user.email, "password": PASSWORD, "remember": "y"})
    response = post(here, "/account/password", {"current_password": PASSWORD, "new_password": NEW_PASSWORD})
    assert any(value.startswith("remember_token=") for value in response.headers.getlist("Set-Cookie"))
    for client in (remembered, here):
        client.delete_cookie("session")  # the browser was closed: only the remember-me cookie is left
    assert remembered.get("/account").status_code == 302
    assert here.get("/account").status_code == 200


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


# API tokens ---------------------------------------------------------------------------

def test_a_new_token_is_shown_once_and_then_listed_without_its_secret(signed_in, user, sql):
    response = post(signed_in, "/account/tokens", {"name": "backup script", "scope": "read", "expires_in_days": "30"})
    assert response.status_code == 201
    assert "no-store" in response.headers["Cache-Control"]
    html = response.get_data(as_text=True)
    secret = re.search(r'<code id="new-token-secret">(tm_[^<]+)</code>', html).group(1)
    found_user, token = tokens.authenticate_token(secret)
    assert found_user.id == user.id and token.scope == "read" and token.expires_at is not None
    later = signed_in.get("/account").get_data(as_text=True)
    assert secret not in later
    assert "backup script" in later and f"{secret[:9]}…" in later
    assert "Read only" in later and "Expires " in later
    assert secret not in "".join(signed_in.get_cookie("session").value)
    assert sql("SELECT count(*) FROM api_tokens") == [(1,)]


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
    assert [token["name"] for token in data["api_tokens"]] == ["cli"]
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
])
def test_account_forms_without_a_csrf_token_are_refused_and_change_nothing(signed_in, user, sql, path, data):
    token, _ = tokens.create_token(user.id, "existing", "write")
    before = sql("SELECT email, password_hash, timezone, session_epoch FROM users")
    response = signed_in.post(path.format(token_id=token.id), data=data)
    assert response.status_code == 400
    assert sql("SELECT email, password_hash, timezone, session_epoch FROM users") == before
    assert sql("SELECT name FROM api_tokens") == [("existing",)]
