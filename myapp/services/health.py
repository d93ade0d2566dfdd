"""Readiness: can the database answer?"""
from sqlalchemy import text

from ..extensions import db
from .operations import operation


@operation("health.database")
def check_database() -> None:
    db.session.execute(text("SELECT 1"))
