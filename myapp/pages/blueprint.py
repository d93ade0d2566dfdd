"""The blueprint of the browser pages (routes: pages/task_views.py and pages/account.py)."""
from flask import Blueprint

from . import display
from .rows import task_rows
from .sidebar import sidebar_nav

bp = Blueprint("pages", __name__)
display.register(bp)
bp.add_app_template_global(task_rows)
bp.add_app_template_global(sidebar_nav)
