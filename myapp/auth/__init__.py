"""Accounts in the browser: sign up, sign in (with "remember me"), sign out."""
from . import views  # noqa: F401 - the routes register themselves on the blueprint
from .blueprint import bp

__all__ = ["bp"]
