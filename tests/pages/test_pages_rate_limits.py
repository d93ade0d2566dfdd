"""Sign-in and sign-up attempts are rate-limited without letting anyone lock another person out."""
from __future__ import annotations

import io

import pytest
from sqlalchemy import text

from myapp.extensions import db
from myapp.services import calendar_feed, tokens, users

from conftest import make_app
from support.pages import PASSWORD, post, sign_in

HOME, AWAY = {"REMOTE_ADDR": "203.0.113.7"}, {"REMOTE_ADDR": "198.51.100.9"}


@pytest.fixture
def limited_app(app, database_url):
    """An app with rate limits on (memory storage, fresh counters), built like the real one."""
    limited = make_app(database_url, env={"RATELIMIT_ENABLED": "true", "RATELIMIT_SIGNIN_PER_ACCOUNT": "5 per minute",
                                          "RATELIMIT_SIGNIN_PER_ADDRESS": "8 per minute"})
    with limited.app_context():
        users.create_user("carol@example.com", PASSWORD)
    yield limited
    with limited.app_context():
        db.engine.dispose()


def test_the_sixth_quick_wrong_password_for_one_account_from_one_address_gets_429(limited_app):
    client = limited_app.test_client()
    for _ in range(5):
        assert sign_in(client, "carol@example.com", "wrong password", environ_base=HOME).status_code == 422
    response = sign_in(client, "carol@example.com", "wrong password", environ_base=HOME)
    assert response.status_code == 429
    retry = int(response.headers["Retry-After"])
    assert 1 <= retry <= 60
    html = response.get_data(as_text=True)
    assert "Too many attempts" in html and f"Wait {retry} second" in html
    assert '<link rel="stylesheet"' in html  # the site's own error page


def test_the_locked_account_still_signs_in_from_another_address(limited_app):
    attacker, owner = limited_app.test_client(), limited_app.test_client()
    for _ in range(6):
        sign_in(attacker, "carol@example.com", "wrong password", environ_base=HOME)
    response = sign_in(owner, "carol@example.com", environ_base=AWAY)
    assert response.status_code == 302 and response.headers["Location"] == "/"


def test_other_accounts_still_sign_in_from_the_same_address(limited_app):
    client = limited_app.test_client()
    with limited_app.app_context():
        users.create_user("dave@example.com", PASSWORD)
    for _ in range(6):
        sign_in(client, "carol@example.com", "wrong password", environ_base=HOME)
    assert sign_in(client, "dave@example.com", environ_base=HOME).status_code == 302


def test_the_account_limit_ignores_letter_case_and_spaces_in_the_email(limited_app):
    client = limited_app.test_client()
    for email in ("carol@example.com", "CAROL@example.com", " Carol@Example.com", "carol@EXAMPLE.com",
                  "carol@example.com "):
        sign_in(client, email, "wrong password", environ_base=HOME)
    assert sign_in(client, "Carol@example.com", "wrong password", environ_base=HOME).status_code == 429


def test_one_address_trying_many_accounts_is_stopped_by_the_address_limit(limited_app):
    client = limited_app.test_client()
    statuses = [sign_in(client, f"guess{n}@example.com", "wrong password", environ_base=HOME).status_code
                for n in range(9)]
    assert statuses == [422] * 8 + [429]


def test_sign_up_attempts_count_against_the_address_limit(limited_app):
    client = limited_app.test_client()
    statuses = [post(client, "/sign-up", {"email": f"new{n}@example.com", "password": "short", "timezone": "UTC"},
                     environ_base=HOME).status_code for n in range(9)]
    assert statuses == [422] * 8 + [429]
    assert post(client, "/sign-up", {"email": "new@example.com", "password": PASSWORD, "timezone": "UTC"},
                environ_base=AWAY).status_code == 302


def test_showing_the_forms_is_not_limited(limited_app):
    client = limited_app.test_client()
    for _ in range(12):
        assert client.get("/sign-in", environ_base=HOME).status_code == 200


@pytest.mark.parametrize(("path", "field"), [
    ("/account/password", "current_password"),
    ("/account/delete", "password"),
])
def test_password_checks_on_account_forms_share_the_sign_in_limit_of_the_account(limited_app, path, field):
    client = limited_app.test_client()
    assert sign_in(client, "carol@example.com", environ_base=HOME).status_code == 302  # 1 of 5
    statuses = [post(client, path, {field: "a wrong guess", "new_password": "another new one"},
                     environ_base=HOME).status_code for _ in range(5)]
    assert statuses == [422] * 4 + [429]
    # The owner elsewhere is not locked out, and nothing was changed or deleted meanwhile.
    assert sign_in(limited_app.test_client(), "carol@example.com", environ_base=AWAY).status_code == 302


def test_a_token_that_asks_for_the_password_is_limited_too(limited_app):
    client = limited_app.test_client()
    assert sign_in(client, "carol@example.com", environ_base=HOME).status_code == 302
    with limited_app.app_context():
        db.session.execute(text("UPDATE sign_ins SET authenticated_at = now() - interval '1 hour'"))
        db.session.remove()
    statuses = [post(client, "/account/tokens", {"name": "t", "scope": "write", "password": "guess"},
                     environ_base=HOME).status_code for _ in range(5)]
    assert statuses == [422] * 4 + [429]


def test_answers_below_the_limit_carry_no_rate_limit_headers(limited_app):
    client = limited_app.test_client()
    for response in (client.get("/sign-in", environ_base=HOME), sign_in(client, "carol@example.com",
                                                                          environ_base=HOME),
                     client.get("/no-such-page", environ_base=HOME)):
        assert "Retry-After" not in response.headers
        assert not [name for name, _ in response.headers if name.lower().startswith("x-ratelimit")]


@pytest.fixture
def busy_app(app, database_url):
    """Rate limits on, with small budgets for imports and calendar feed reads."""
    limited = make_app(database_url, env={"RATELIMIT_ENABLED": "true", "RATELIMIT_IMPORT": "2 per hour",
                                          "RATELIMIT_FEED": "3 per minute"})
    yield limited
    with limited.app_context():
        db.engine.dispose()


def test_imports_have_a_budget_of_their_own_per_user(busy_app):
    with busy_app.app_context():
        user = users.create_user("importer@example.com", PASSWORD)
        headers = {"Authorization": f"Bearer {tokens.create_token(user.id, 'cli')[1]}"}
    client = busy_app.test_client()

    def send():
        return client.post("/api/v1/import?dry_run=true", data={"file": (io.BytesIO(b"title\nA\n"), "t.csv")},
                           headers=headers, content_type="multipart/form-data")

    assert [send().status_code for _ in range(2)] == [200, 200]
    response = send()
    assert response.status_code == 429 and int(response.headers["Retry-After"]) >= 1
    assert client.get("/api/v1/tasks", headers=headers).status_code == 200  # the rest of the API goes on


def test_calendar_feed_reads_are_limited_per_client_address(busy_app):
    with busy_app.app_context():
        user = users.create_user("feed@example.com", PASSWORD)
        calendar_feed.regenerate(user.id)
        secret = calendar_feed.feed_secret(users.get_user(user.id))
    client = busy_app.test_client()
    assert [client.get(f"/calendar/{secret}.ics", environ_base=HOME).status_code for _ in range(3)] == [200] * 3
    assert client.get(f"/calendar/{secret}.ics", environ_base=HOME).status_code == 429
    assert client.get(f"/calendar/{secret}.ics", environ_base=AWAY).status_code == 200
