"""Who is calling: an API token, or the browser session (which must also send its CSRF token).

Without valid credentials the answer is 401 JSON with `WWW-Authenticate: Bearer`, never
a redirect to the sign-in page. Read-only tokens may only use safe methods. Every call
spends one unit of its user's API budget (RATELIMIT_API), or of its client address's
when the credentials are not valid, so that made-up tokens cannot dodge the limit.
"""
from __future__ import annotations

from flask import g, request
from flask_login import current_user

from .. import ratelimits
from ..errors import Forbidden, InvalidCredentials
from ..extensions import csrf
from ..services import tokens
from .blueprint import bp

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
        ratelimits.spend("RATELIMIT_API", "api-address", ratelimits.client_address())
        raise
    g.api_user = user  # for the views, and the user_id of this request's log line
    ratelimits.spend("RATELIMIT_API", "api-user", str(user.id))
    if scope is None:
        csrf.protect()  # a session call: unsafe methods need the page's CSRF token, else 403 CSRF_FAILED
    elif scope != "write" and request.method not in SAFE_METHODS:
        raise Forbidden("This token may only read.")
