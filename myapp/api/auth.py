"""Who is calling: an API token, or the browser session (which must also send its CSRF token).

Without valid credentials the answer is 401 JSON with `WWW-Authenticate: Bearer`, never
a redirect to the sign-in page. Read-only tokens may only use safe methods.
"""
from __future__ import annotations

import hashlib

from flask import current_app, g, request
from flask_limiter.util import get_remote_address
from flask_login import current_user

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


@bp.before_request
def authenticate() -> None:
    if request.endpoint in PUBLIC_ENDPOINTS:
        return
    secret = _bearer_secret()
    if secret is not None:
        g.api_user, token = tokens.authenticate_token(secret)
        if token.scope != "write" and request.method not in SAFE_METHODS:
            raise Forbidden("This token may only read.")
    elif current_user.is_authenticated:
        g.api_user = current_user._get_current_object()
        csrf.protect()  # unsafe methods only; CSRFError -> 403 CSRF_FAILED
    else:
        raise InvalidCredentials("Sign in, or send Authorization: Bearer <token>.")


def rate_limit_key() -> str:
    """Whose budget a call spends: its credentials' (token or session user), else its address's.

    Runs before authenticate(), so it reads the credentials without checking them; the
    Authorization header is hashed so that no token reaches the rate-limit storage.
    """
    header = request.headers.get("Authorization")
    if header:
        return "api-token:" + hashlib.sha256(header.encode()).hexdigest()
    if current_user.is_authenticated:
        return f"api-user:{current_user.id}"
    return f"api-address:{get_remote_address()}"


# One budget per caller across the whole API (RATELIMIT_API, read per request so that
# tests and benchmarks can set it).
limiter.shared_limit(lambda: current_app.config["RATELIMIT_API"], scope="api", key_func=rate_limit_key)(bp)
