"""Who is calling: an API token, or the browser session (which must also send its CSRF token).

Without valid credentials the answer is 401 JSON with `WWW-Authenticate: Bearer`, never
a redirect to the sign-in page. Read-only tokens may only use safe methods. Every call
spends one unit of its user's API budget (RATELIMIT_API), or of its client address's
when the credentials are not valid, so that made-up tokens cannot dodge the limit.
"""
from __future__ import annotations

import math
import time
from functools import cache

from flask import current_app, g, request
from flask_limiter.util import get_remote_address
from flask_login import current_user
from limits import RateLimitItem, parse
from werkzeug.exceptions import TooManyRequests

from ..errors import Forbidden, InvalidCredentials
from ..extensions import csrf, limiter
from ..services import tokens
from . import bp

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
PUBLIC_ENDPOINTS = frozenset({"api.openapi"})


def _bearer_secret() -> str | None:
    """The token of `Authorization: Bearer <token>`, or None when there is no such header."""
    header = request.headers.get("Authorization")
    if header is None:
        return None
    scheme, _, secret = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise InvalidCredentials("Send Authorization: Bearer <token>.")
    return secret.strip()


@cache
def _budget(limit: str) -> RateLimitItem:
    return parse(limit)


def _spend(key: str) -> None:
    """One call against the budget of `key`; 429 (with Retry-After) when it is used up.

    The limit's storage (RATELIMIT_STORAGE_URI) is Flask-Limiter's, asked directly:
    one increment per call, and the window's reset only when refusing.
    """
    if not (current_app.config["RATELIMIT_ENABLED"] and limiter.enabled):
        return
    item = _budget(current_app.config["RATELIMIT_API"])
    identity = (current_app.config["RATELIMIT_KEY_PREFIX"], key, "api")
    if not limiter.limiter.hit(item, *identity):
        reset_at = limiter.limiter.get_window_stats(item, *identity).reset_time
        raise TooManyRequests(retry_after=max(1, math.ceil(reset_at - time.time())))


@bp.before_request
def authenticate() -> None:
    if request.endpoint in PUBLIC_ENDPOINTS:
        return
    try:
        secret = _bearer_secret()
        if secret is not None:
            caller = tokens.authenticate_token(secret)
            user, scope = caller.account, caller.scope
        elif current_user.is_authenticated:
            user, scope = current_user._get_current_object(), None
        else:
            raise InvalidCredentials("Sign in, or send Authorization: Bearer <token>.")
    except InvalidCredentials:
        _spend(f"api-address:{get_remote_address()}")
        raise
    g.api_user = user  # for the views, and the user_id of this request's log line
    _spend(f"api-user:{user.id}")
    if scope is None:
        csrf.protect()  # a session call: unsafe methods need the page's CSRF token, else 403 CSRF_FAILED
    elif scope != "write" and request.method not in SAFE_METHODS:
        raise Forbidden("This token may only read.")
