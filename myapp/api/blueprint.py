"""The blueprint of API v1 (hooks: api/auth.py; routes: api/views.py)."""
from flask import Blueprint

from ..extensions import csrf

bp = Blueprint("api", __name__, url_prefix="/api/v1")

# Bearer calls carry no cookie a forged page could ride on, so they need no CSRF token;
# session calls are checked in auth.authenticate instead of by the site-wide hook.
csrf.exempt(bp)
