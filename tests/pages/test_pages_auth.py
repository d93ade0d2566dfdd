"""Sign-up, sign-in and sign-out pages."""
from __future__ import annotations

import pytest

from myapp.services import tokens

from conftest import make_app
from support.pages import PASSWORD, csrf_token, post, sign_in


def test_the_sign_up_and_sign_in_pages_render_their_forms(client):
    for path in ("/sign-up", "/sign-in"):
        html = client.get(path).get_data(as_text=True)
        assert 'name="email"' in html and 'name="password"' in html
        assert 'for="email"' in html and 'for="password"' in html


def test_signing_up_creates_the_account_signs_in_and_lands_on_the_empty_list(client, sql):
    response = post(client, "/sign-up", {"email": " New@Example.com ", "password": PASSWORD,
                                         "timezone": "Europe/Berlin"})
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert sql("SELECT email, timezone FROM users") == [("new@example.com", "Europe/Berlin")]
    html = client.get("/").get_data(as_text=True)
    assert "new@example.com" in html
    assert "No tasks yet" in html
    assert "Your account is ready" in html


def test_a_short_password_is_shown_next_to_the_field_and_the_email_is_kept(client, sql):
    response = post(client, "/sign-up", {"email": "new@example.com", "password": "short", "timezone": "UTC"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="password-error"' in html and "Use at least 8 characters." in html
    assert 'value="new@example.com"' in html
    assert 'aria-invalid="true"' in html
    assert sql("SELECT count(*) FROM users") == [(0,)]


def test_an_invalid_email_is_shown_next_to_the_email_field(client):
    response = post(client, "/sign-up", {"email": "not-an-email", "password": PASSWORD, "timezone": "UTC"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="email-error"' in html and "Enter a valid email address" in html
    assert 'value="not-an-email"' in html


def test_an_email_already_taken_in_other_letter_case_is_refused(client, user, sql):
    response = post(client, "/sign-up", {"email": "ALICE@example.com", "password": PASSWORD, "timezone": "UTC"})
    assert response.status_code == 422
    assert "An account with this email already exists." in response.get_data(as_text=True)
    assert sql("SELECT count(*) FROM users") == [(1,)]


def test_signing_in_goes_to_the_task_list(client, user):
    response = sign_in(client, "  Alice@Example.com")
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert "All tasks" in client.get("/").get_data(as_text=True)


@pytest.mark.parametrize("email, password", [("alice@example.com", "wrong password"),
                                             ("nobody@example.com", PASSWORD)])
def test_a_wrong_password_and_an_unknown_email_get_the_same_message(client, user, email, password):
    response = sign_in(client, email, password)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Email or password is incorrect." in html
    assert f'value="{email}"' in html
    assert 'value="' + password + '"' not in html


def test_remember_me_sets_a_long_lived_http_only_cookie(client, user):
    response = post(client, "/sign-in", {"email": user.email, "password": PASSWORD, "remember": "y"})
    cookie = next(value for value in response.headers.getlist("Set-Cookie") if value.startswith("remember_token="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Expires=" in cookie


def test_without_remember_me_no_remember_cookie_is_set(client, user):
    response = sign_in(client, user.email)
    assert not any(value.startswith("remember_token=") for value in response.headers.getlist("Set-Cookie"))


def test_signing_out_by_post_ends_the_session(signed_in):
    response = post(signed_in, "/sign-out")
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert signed_in.get("/account").status_code == 302
    assert "You are signed out." in signed_in.get("/").get_data(as_text=True)


def test_a_session_cookie_copied_before_signing_out_no_longer_works_after(signed_in, new_client, sql):
    copied = new_client()
    copied.set_cookie("session", signed_in.get_cookie("session").value)
    assert copied.get("/account").status_code == 200
    post(signed_in, "/sign-out")
    assert copied.get("/account").status_code == 302  # the sign-in ended on the server
    assert sql("SELECT count(*) FROM sign_ins") == [(0,)]


def test_a_remember_me_cookie_copied_before_signing_out_no_longer_works_after(client, new_client, user):
    post(client, "/sign-in", {"email": user.email, "password": PASSWORD, "remember": "y"})
    copied = new_client()
    copied.set_cookie("remember_token", client.get_cookie("remember_token").value)
    assert copied.get("/account").status_code == 200
    post(client, "/sign-out")
    thief = new_client()
    thief.set_cookie("remember_token", copied.get_cookie("remember_token").value)
    assert thief.get("/account").status_code == 302


def test_signing_out_ends_only_this_devices_sign_in(signed_in, new_client, user):
    elsewhere = new_client()
    sign_in(elsewhere, user.email)
    post(signed_in, "/sign-out")
    assert elsewhere.get("/account").status_code == 200


def test_the_csrf_token_changes_at_sign_in(client, user):
    before = csrf_token(client)
    assert sign_in(client, user.email).status_code == 302
    response = client.post("/sign-out", data={"csrf_token": before})
    assert response.status_code == 400  # a token read before signing in is worthless after
    assert client.get("/account").status_code == 200
    assert csrf_token(client) != before


def test_signing_out_by_get_is_not_allowed(signed_in):
    response = signed_in.get("/sign-out")
    assert response.status_code == 405
    assert signed_in.get("/account").status_code == 200


def test_a_signed_in_user_visiting_sign_in_goes_to_the_list(signed_in):
    response = signed_in.get("/sign-in")
    assert response.status_code == 302 and response.headers["Location"] == "/"


def test_a_signed_out_visitor_is_sent_to_sign_in_and_back_after(client, user):
    response = client.get("/account")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/sign-in?next=")
    response = sign_in(client, user.email, query_string={"next": "/account"})
    assert response.headers["Location"] == "/account"


@pytest.mark.parametrize("target", [
    "//evil.example", "////evil.example", "/\\evil.example", "https://evil.example", "http:evil.example",
    "javascript:alert(1)", "/\t/evil.example", " //evil.example", "evil.example", "\\\\evil.example",
])
def test_next_is_followed_only_to_paths_of_this_site(client, user, target):
    response = sign_in(client, user.email, query_string={"next": target})
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_next_keeps_a_local_path_with_its_query(client, user):
    response = sign_in(client, user.email, query_string={"next": "/?status=active&tag=work"})
    assert response.headers["Location"] == "/?status=active&tag=work"


def test_the_sign_in_form_posts_back_with_its_next_parameter(client):
    html = client.get("/sign-in?next=/account").get_data(as_text=True)
    assert 'action="/sign-in?next=/account"' in html
    html = client.get("/sign-in?next=//evil.example").get_data(as_text=True)
    assert "evil.example" not in html


@pytest.mark.parametrize("url, data", [
    ("/sign-up", {"email": "new@example.com", "password": PASSWORD, "timezone": "UTC"}),
    ("/sign-in", {"email": "alice@example.com", "password": PASSWORD}),
])
def test_sign_up_and_sign_in_without_a_csrf_token_are_refused(client, user, sql, url, data):
    response = client.post(url, data=data)
    assert response.status_code == 400
    assert "This form has expired" in response.get_data(as_text=True)
    assert sql("SELECT email FROM users") == [("alice@example.com",)]
    assert client.get("/account").status_code == 302


def test_sign_out_without_a_csrf_token_is_refused_and_the_session_stays(signed_in):
    assert signed_in.post("/sign-out").status_code == 400
    assert signed_in.get("/account").status_code == 200


def test_a_form_posted_with_another_sessions_token_is_refused(client, app, user):
    other = app.test_client()
    response = client.post("/sign-in", data={"csrf_token": csrf_token(other), "email": user.email,
                                             "password": PASSWORD})
    assert response.status_code == 400


@pytest.mark.parametrize("email", ["alice\x00@example.com", "\x00"])
def test_a_nul_character_in_the_sign_in_email_is_just_a_wrong_email(client, user, email):
    response = sign_in(client, email)
    assert response.status_code == 422
    assert "Email or password is incorrect" in response.get_data(as_text=True)


def test_the_session_cookie_is_written_only_when_the_session_changes(client, user):
    """myapp/sessions.py: Flask's cookie, written at sign-in and sign-out, not on every page."""
    signed = sign_in(client, user.email)
    assert "session=" in signed.headers["Set-Cookie"]
    assert "Set-Cookie" in client.get("/").headers  # it shows the flash "signed in", and so drops it
    page = client.get("/")
    assert page.status_code == 200 and "Set-Cookie" not in page.headers
    assert "Cookie" in page.headers["Vary"]  # an answer that depends on who asks: no shared cache
    assert "Set-Cookie" in post(client, "/sign-out").headers  # the session, without its sign-in
    assert user.email not in client.get("/").get_data(as_text=True)


def test_an_api_call_without_cookies_is_answered_without_one(client, user):
    _, secret = tokens.create_token(user.id, "script")
    response = client.get("/api/v1/tasks", headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 200 and "Set-Cookie" not in response.headers


def test_a_session_signed_with_a_previous_secret_key_still_opens_and_a_forged_one_does_not(user, database_url):
    old = make_app(database_url, SECRET_KEY="the key before the rotation", WTF_CSRF_ENABLED=False)
    new = make_app(database_url, SECRET_KEY="the key now", SECRET_KEY_FALLBACKS=["the key before the rotation"],
                   WTF_CSRF_ENABLED=False)
    other = make_app(database_url, SECRET_KEY="somebody else's key", WTF_CSRF_ENABLED=False)
    browser = old.test_client()
    assert sign_in(browser, user.email).status_code == 302
    cookie = browser.get_cookie("session").value
    for app, opens in ((new, True), (other, False)):
        visitor = app.test_client()
        visitor.set_cookie("session", cookie)
        assert (f'class="nav-email">{user.email}<' in visitor.get("/").get_data(as_text=True)) is opens
