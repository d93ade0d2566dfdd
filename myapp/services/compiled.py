"""Statements compiled once and run by the driver itself: what every request runs.

They are ordinary SQLAlchemy statements (select(), insert(), update() over the models'
tables, with bindparam() for the values). What SQLAlchemy does at each execution
(looking up its compiled cache, processing parameters and results, building Row
objects) costs about as much Python as PostgreSQL takes to run them, so the few
statements every request runs (who is calling, the list, one task, the counts) are
compiled to SQL once, at import, and sent with psycopg on the session's own connection:
the same transaction, the same pool, and any error raised as SQLAlchemy's own, so that
callers, and operations.operation, see no difference.
"""
from __future__ import annotations

from typing import Any

import psycopg
from psycopg.rows import namedtuple_row
from sqlalchemy import exc
from sqlalchemy.dialects.postgresql import psycopg as psycopg_dialect
from sqlalchemy.sql import Executable

from ..extensions import db

DIALECT = psycopg_dialect.dialect()


class Compiled:
    """One statement as SQL text, with the values it binds itself (e.g. intervals)."""

    def __init__(self, statement: Executable):
        compiled = statement.compile(dialect=DIALECT)
        self.sql = str(compiled)
        if "POSTCOMPILE" in self.sql:  # expanding IN lists are rendered per execution: not for here
            raise ValueError("a statement with values rendered at execution cannot be compiled once")
        self.defaults = {name: value for name, value in compiled.params.items() if value is not None}

    def rows(self, **params: Any) -> list:
        """Run it on the session's connection; the rows as named tuples (row.title, row[0])."""
        connection = db.session.connection()
        driver = connection.connection.driver_connection
        try:
            with driver.cursor(row_factory=namedtuple_row) as cursor:
                cursor.execute(self.sql, {**self.defaults, **params})
                return cursor.fetchall() if cursor.description else []
        except psycopg.Error as error:
            lost = driver.broken or driver.closed
            if lost:  # as SQLAlchemy does: this connection goes, the pool makes a new one
                connection.invalidate()
            raise exc.DBAPIError.instance(self.sql, None, error, psycopg.Error, hide_parameters=True,
                                          connection_invalidated=lost, dialect=DIALECT) from error

    def first(self, **params: Any):
        rows = self.rows(**params)
        return rows[0] if rows else None
