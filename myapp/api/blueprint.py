"""The blueprint of API v1 (hooks: api/auth.py; routes: api/views.py)."""
from flask import Blueprint
from werkzeug.routing import BaseConverter

from ..extensions import csrf

bp = Blueprint("api", __name__, url_prefix="/api/v1")


class TaskIdConverter(BaseConverter):
    """A path segment that names a task: anything but the names of the routes beside it
    (/tasks/parse, /tasks/quick), so that another method on those is a 405, not a task
    named "parse" that is not found. A malformed id still reaches the view (404)."""

    regex = r"(?!(?:parse|quick)(?:/|$))[^/]+"


@bp.record_once
def _register_converter(state) -> None:
    state.app.url_map.converters["task_id"] = TaskIdConverter

# Bearer calls carry no cookie a forged page could ride on, so they need no CSRF token;
# session calls are checked in auth.authenticate instead of by the site-wide hook.
csrf.exempt(bp)
