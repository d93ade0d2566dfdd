"""Security headers, no inline script or style anywhere, and the site's own error pages."""
from __future__ import annotations

import re

import pytest

from myapp.errors import DatabaseUnavailable
from myapp.extensions import db

from conftest import make_app
from support.pages import PASSWORD, csrf_token, post, sign_in

INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I)
INLINE_HANDLER = re.compile(r"<[^>]+\son[a-z]+\s*=", re.I)
STYLE_ATTRIBUTE = re.compile(r"<[^>]+\sstyle\s*=", re.I)
JS_URL = re.compile(r"""(href|src|action)\s*=\s*["']?\s*javascript:""", re.I)


@pytest.fixture
def every_page(signed_in, client, user, make_task, new_client):
    """(name, response) for every page a user can reach, signed in or out."""
    task = make_task(user, "Écrire <le> rapport", description="x\ny", tags=["work"], priority="high",
                     due_date="2020-01-01")
    make_task(user, "Done", completed=True)
    token_page = post(signed_in, "/account/tokens", {"name": "ci", "scope": "write"})
    signed_in_pages = {path: signed_in.get(path) for path in (
        "/", "/?status=completed", "/?q=nothing-matches", "/account", f"/tasks/{task.id}/edit",
        f"/tasks/{task.id}/delete", "/tasks/clear-completed", "/no-such-page")}
    anonymous = new_client()
    anonymous_pages = {path: anonymous.get(path) for path in ("/", "/sign-in", "/sign-up")}
    pages = {**signed_in_pages, "account with new token": token_page,
             **{f"signed out {path}": response for path, response in anonymous_pages.items()}}
    # Each is the page it should be: a 500 page would otherwise pass every check on headers.
    expected = {"/no-such-page": 404, "account with new token": 201}
    assert {name: response.status_code for name, response in pages.items()} == \
        {name: expected.get(name, 200) for name in pages}
    return pages


def test_every_page_sends_the_security_headers(every_page):
    for name, response in every_page.items():
        headers = response.headers
        csp = headers["Content-Security-Policy"]
        for directive in ("default-src 'self'", "script-src 'self'", "style-src 'self'", "frame-ancestors 'none'",
                          "form-action 'self'", "base-uri 'none'", "object-src 'none'"):
            assert directive in csp, (name, directive)
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["X-Frame-Options"] == "DENY"
        assert headers["Referrer-Policy"] == "same-origin"
        assert "no-store" in headers["Cache-Control"], name


def test_no_page_needs_inline_script_inline_style_or_handlers(every_page):
    for name, response in every_page.items():
        html = response.get_data(as_text=True)
        assert not INLINE_SCRIPT.search(html), name
        assert not INLINE_HANDLER.search(html), name
        assert not STYLE_ATTRIBUTE.search(html), name
        assert not JS_URL.search(html), name
        assert '<script src="/static/js/app.js" defer></script>' in html


def test_every_input_has_a_label(every_page):
    for name, response in every_page.items():
        html = response.get_data(as_text=True)
        for tag in re.findall(r"<(?:input|select|textarea)\b[^>]*>", html):
            if 'type="hidden"' in tag:
                continue
            field_id = re.search(r'\bid="([^"]+)"', tag)
            assert field_id and f'for="{field_id.group(1)}"' in html, (name, tag)


def test_every_page_has_a_skip_link_and_a_live_region_for_messages(every_page):
    for name, response in every_page.items():
        html = response.get_data(as_text=True)
        assert '<a class="skip-link" href="#main">' in html and 'id="main"' in html, name
        assert 'id="flashes" role="status" aria-live="polite"' in html, name


def test_static_files_are_served_with_the_headers_too(client):
    for path in ("/static/css/app.css", "/static/js/app.js", "/static/favicon.svg"):
        with client.get(path) as response:
            assert response.status_code == 200
            assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_session_cookies_are_http_only_and_same_site_lax(client, user):
    response = sign_in(client, user.email)
    cookie = next(value for value in response.headers.getlist("Set-Cookie") if value.startswith("session="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie


def test_in_production_cookies_are_secure_and_https_is_pinned(database_url):
    production = make_app(database_url, env={"APP_ENV": "production", "SECRET_KEY": "x" * 40, "WEB_CONCURRENCY": 1})
    try:
        with production.app_context():
            from myapp.services import users

            users.create_user("prod@example.com", PASSWORD)
        client, https = production.test_client(), {"base_url": "https://localhost"}
        form = {"csrf_token": csrf_token(client, **https), "email": "prod@example.com", "password": PASSWORD,
                "remember": "y"}
        # Over HTTPS, Flask-WTF also checks that the form came from this site (browsers send Referer).
        response = client.post("/sign-in", data=form, headers={"Referer": "https://localhost/sign-in"}, **https)
        cookies = response.headers.getlist("Set-Cookie")
        assert response.status_code == 302
        assert all("Secure" in cookie and "HttpOnly" in cookie for cookie in cookies) and len(cookies) == 2
        assert response.headers["Strict-Transport-Security"].startswith("max-age=")
    finally:
        with production.app_context():
            db.engine.dispose()


# Error pages in the site's look ------------------------------------------------------------

def assert_site_error_page(response, status: int, text: str):
    assert response.status_code == status
    html = response.get_data(as_text=True)
    assert '<link rel="stylesheet" href="/static/css/app.css">' in html
    assert f'<p class="error-status">{status}</p>' in html
    assert text in html
    assert "Traceback" not in html


def test_an_unknown_page_is_the_404_page(client):
    assert_site_error_page(client.get("/no/such/page"), 404, "There is nothing here.")


def test_a_wrong_method_is_the_405_page(client):
    response = client.delete("/")
    assert_site_error_page(response, 405, "Method not allowed")
    assert "GET" in response.headers["Allow"]


def test_a_missing_csrf_token_is_the_400_page(client):
    assert_site_error_page(client.post("/sign-in", data={}), 400, "Reload the page and try again.")


def test_an_unexpected_failure_is_the_500_page_without_details(signed_in, monkeypatch):
    def broken(*_args, **_kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr("myapp.services.tasks.sidebar", broken)
    response = signed_in.get("/")
    assert_site_error_page(response, 500, "This is on our side")
    assert "secret internals" not in response.get_data(as_text=True)


def test_a_database_outage_is_the_503_page_with_retry_after(signed_in, monkeypatch):
    def unavailable(*_args, **_kwargs):
        raise DatabaseUnavailable()

    monkeypatch.setattr("myapp.services.tasks.list_tasks", unavailable)
    response = signed_in.get("/")
    assert_site_error_page(response, 503, "The database is unavailable.")
    assert response.headers["Retry-After"].isdigit()


@pytest.mark.parametrize("body", ["[1]", '"ab"', "5", "{}", '{"email": "x"}'])
@pytest.mark.parametrize("path", ["/sign-in", "/sign-up", "/tasks", "/account/password", "/account/delete"])
def test_a_page_form_posted_as_json_is_415_and_changes_nothing(signed_in, sql, path, body):
    before = sql("SELECT email, password_hash FROM users"), sql("SELECT count(*) FROM tasks")
    response = signed_in.post(path, data=body, content_type="application/json",
                              headers={"X-CSRFToken": csrf_token(signed_in)})
    assert_site_error_page(response, 415, "Pages take forms")
    assert (sql("SELECT email, password_hash FROM users"), sql("SELECT count(*) FROM tasks")) == before


def test_hsts_is_sent_only_behind_tls_as_told_by_a_trusted_proxy(database_url):
    proxied = make_app(database_url, env={"TRUSTED_PROXIES": "1"})
    client = proxied.test_client()
    plain = client.get("/healthz")
    assert "Strict-Transport-Security" not in plain.headers
    behind_tls = client.get("/healthz", headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"})
    assert behind_tls.headers["Strict-Transport-Security"].startswith("max-age=")
    direct = make_app(database_url).test_client().get("/healthz", headers={"X-Forwarded-Proto": "https"})
    assert "Strict-Transport-Security" not in direct.headers, "an untrusted X-Forwarded-Proto is ignored"
