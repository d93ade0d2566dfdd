"""Accounts in the browser: sign up, sign in (with "remember me"), sign out."""
from flask import Blueprint

bp = Blueprint("auth", __name__)

from . import views  # noqa: E402,F401 - the routes register themselves on bp
