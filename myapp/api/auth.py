"""Who is calling: an API token, or the browser session (which must also send its CSRF token).

Without valid credentials the answer is 401 JSON with `WWW-Authenticate: Bearer`, never
a redirect to the sign-in page. Read-only tokens may only use safe methods.
"""
from __future__ import annotations

from flask import current_app, g, request
from flask_limiter.util import get_remote_address
from flask_login import current_user

from ..errors import Forbidden, InvalidCredentials
from ..extensions import csrf, limiter
from ..models import ApiToken, User
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


# Per-request cache of the caller, in the WSGI environ: the rate limiter asks who is
# calling before authenticate() runs. (Not in g, which tests reuse across requests.)
CALLER = "myapp.api.caller"


def _identify() -> tuple[User, ApiToken | None]:
    secret = _bearer_secret()
    if secret is not None:
        return tokens.authenticate_token(secret)
    if current_user.is_authenticated:
        return current_user._get_current_object(), None
    raise InvalidCredentials("Sign in, or send Authorization: Bearer <token>.")


def _caller() -> tuple[User, ApiToken | None]:
    """(user, token) for a bearer call, (user, None) for the browser session; else InvalidCredentials.

    Worked out once per request, failures included: a bad token is looked up once.
    """
    if CALLER not in request.environ:
        try:
            request.environ[CALLER] = _identify()
        except InvalidCredentials as error:
            request.environ[CALLER] = error
    if isinstance(request.environ[CALLER], InvalidCredentials):
        raise request.environ[CALLER]
    user, token = request.environ[CALLER]
    g.api_user = user  # for the views, and the user_id of this request's log line (429s too)
    return user, token


@bp.before_request
def authenticate() -> None:
    if request.endpoint in PUBLIC_ENDPOINTS:
        return
    _, token = _caller()
    if token is None:
        csrf.protect()  # a session call: unsafe methods need the page's CSRF token, else 403 CSRF_FAILED
    elif token.scope != "write" and request.method not in SAFE_METHODS:
        raise Forbidden("This token may only read.")


def rate_limit_key() -> str:
    """Whose budget a call spends: its user's (all their tokens and sessions share one), or,
    without valid credentials, its client address's (so made-up tokens cannot dodge it)."""
    try:
        user, _ = _caller()
    except InvalidCredentials:
        return f"api-address:{get_remote_address()}"
    return f"api-user:{user.id}"


# One budget per user across the whole API (RATELIMIT_API, read per request so that
# tests and benchmarks can set it).
limiter.shared_limit(lambda: current_app.config["RATELIMIT_API"], scope="api", key_func=rate_limit_key)(bp)
