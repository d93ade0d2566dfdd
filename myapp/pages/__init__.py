"""The browser pages: the task list (home page), task editing, the account page."""
from flask import Blueprint

from . import display

bp = Blueprint("pages", __name__)
display.register(bp)

from . import account, task_views  # noqa: E402,F401 - the routes register themselves on bp
