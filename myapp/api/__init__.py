"""JSON API v1 at /api/v1: thin routes (parse -> service -> serialise), one error shape.

Callers authenticate with `Authorization: Bearer <token>` or the browser session; see
auth.py. Every failure is {"code", "message", "details"} (myapp.errors).
"""
from . import auth, views  # noqa: F401 - the hooks and routes register themselves on the blueprint
from .blueprint import bp

__all__ = ["bp"]
