"""Liveness and readiness probes."""
from flask import Blueprint

from .errors import DatabaseUnavailable, json_error
from .services import health

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    """Alive: answers without touching the database."""
    return {"status": "ok"}


@bp.get("/readyz")
def readyz():
    """Ready: the database answers SELECT 1."""
    try:
        health.check_database()
    except DatabaseUnavailable as error:
        return json_error(error.status, error.code, error.message)
    return {"status": "ok", "database": "ok"}
