"""JSON API v1 at /api/v1: thin routes (parse -> service -> serialise), one error shape.

Callers authenticate with `Authorization: Bearer <token>` or the browser session; see
auth.py. Every failure is {"code", "message", "details"} (myapp.errors).
"""
from flask import Blueprint

from ..extensions import csrf

bp = Blueprint("api", __name__, url_prefix="/api/v1")

# Bearer calls carry no cookie a forged page could ride on, so they need no CSRF token;
# session calls are checked in auth.authenticate instead of by the site-wide hook.
csrf.exempt(bp)

from . import auth, views  # noqa: E402,F401 - the hooks and routes register themselves on bp
