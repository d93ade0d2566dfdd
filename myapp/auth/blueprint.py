"""The blueprint of the sign-up, sign-in and sign-out pages (routes: auth/views.py)."""
from flask import Blueprint

bp = Blueprint("auth", __name__)
