"""The browser session: Flask's signed cookie, the same cookie, for less work per request."""
from __future__ import annotations

from flask import Flask, Request, Response
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from itsdangerous import URLSafeTimedSerializer


class SessionCookies(SecureCookieSessionInterface):
    """Flask's own session interface, except that it builds the cookie's signing
    serializer once per secret key rather than on every request, that a request
    without any cookie (an API call with a token) gets its empty session without the
    Cookie header being looked for and parsed, and that a response whose session did
    not change skips working out the seven cookie settings it then does not use: all
    three showed in the profile of a request (bench/profile_request.py)."""

    def __init__(self) -> None:
        self._serializers: dict[tuple, URLSafeTimedSerializer | None] = {}

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        keys = (app.secret_key, tuple(app.config["SECRET_KEY_FALLBACKS"] or ()))
        if keys not in self._serializers:
            self._serializers[keys] = super().get_signing_serializer(app)
        return self._serializers[keys]

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if "HTTP_COOKIE" not in request.environ and self.get_signing_serializer(app) is not None:
            return self.session_class()
        return super().open_session(app, request)

    def save_session(self, app: Flask, session: SecureCookieSession, response: Response) -> None:
        if not self.should_set_cookie(app, session):  # nothing to write or delete (as Flask decides)
            if session.accessed:
                response.vary.add("Cookie")
            return
        super().save_session(app, session, response)
