"""Helpers for tests that use the pages as a browser would (test client or HTTP)."""
from __future__ import annotations

import re

PASSWORD = "page tests password"
_CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)">')


def csrf_token(client, **request_options) -> str:
    """The CSRF token of this client's session, read from a page as a browser would."""
    match = _CSRF_META.search(client.get("/", **request_options).get_data(as_text=True))
    assert match, "every page carries the CSRF token in a meta tag"
    return match.group(1)


def post(client, url: str, data: dict | None = None, **kwargs):
    """POST a form the way the page would: with this session's CSRF token."""
    return client.post(url, data={"csrf_token": csrf_token(client), **(data or {})}, **kwargs)


def sign_in(client, email: str, password: str = PASSWORD, **kwargs):
    return post(client, "/sign-in", {"email": email, "password": password}, **kwargs)
