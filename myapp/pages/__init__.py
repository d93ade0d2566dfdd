"""The browser pages: the task list (home page), task editing, the account page."""
from . import account, calendar, project_views, task_views  # noqa: F401 - the routes register themselves on the blueprint
from .blueprint import bp

__all__ = ["bp"]
