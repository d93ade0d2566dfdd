"""The blueprint of the browser pages (routes: pages/task_views.py and pages/account.py)."""
from flask import Blueprint

from . import display
from .rows import task_node, task_row

bp = Blueprint("pages", __name__)
display.register(bp)
bp.add_app_template_global(task_row)
bp.add_app_template_global(task_node)
