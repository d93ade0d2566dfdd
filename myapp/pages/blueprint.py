"""The blueprint of the browser pages (routes: pages/task_views.py and pages/account.py)."""
from flask import Blueprint

from . import display

bp = Blueprint("pages", __name__)
display.register(bp)
