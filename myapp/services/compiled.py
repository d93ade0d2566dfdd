"""Statements compiled once and run by the driver itself: what every request runs.

They are ordinary SQLAlchemy statements (select(), insert(), update() over the models'
tables, with bindparam() for the values). What SQLAlchemy does at each execution
(looking up its compiled cache, processing parameters and results, building Row
objects) costs about as much Python as PostgreSQL takes to run them, so the few
statements every request runs (who is calling, the list, one task, the counts) are
compiled to SQL once, at import, and sent with psycopg on a connection of the engine's
pool (the session's own inside a transaction), with any error raised as SQLAlchemy's
own, so that callers, and operations.operation, see no difference.
"""
from __future__ import annotations

from collections import namedtuple
from typing import Any

import psycopg
from flask import g, has_app_context
from sqlalchemy import Connection, event, exc
from sqlalchemy.dialects.postgresql import psycopg as psycopg_dialect
from sqlalchemy.sql import Executable

from ..extensions import db

DIALECT = psycopg_dialect.dialect()
_BORROWED = "_compiled_connection"  # on flask.g: the pool connection this app context borrowed


def release_connection(*_args) -> None:
    """Give back the connection the statements of this app context borrowed: when the
    context ends (a request's), and as the session begins a transaction, which takes a
    connection of its own, so that no request holds two at once (a pool no larger than
    the threads using it must not run dry)."""
    pooled = g.pop(_BORROWED, None) if has_app_context() else None
    if pooled is not None:
        pooled.close()


event.listen(db.session, "after_transaction_create", release_connection)


def own_connection(isolation_level: str) -> Connection:
    """A connection of the caller's own, for work that outlives the request's statements (a
    streamed export or import): the one the request borrowed goes back first, here too."""
    release_connection()
    return db.engine.connect().execution_options(isolation_level=isolation_level)


def _lose_borrowed() -> None:
    """As SQLAlchemy does with a connection that died: the pool drops it and makes a new one."""
    pooled = g.pop(_BORROWED)
    pooled.invalidate()
    pooled.close()


class Compiled:
    """One statement as SQL text, with the values it binds itself (e.g. intervals)."""

    def __init__(self, statement: Executable):
        compiled = statement.compile(dialect=DIALECT)
        self.sql = str(compiled)
        if "POSTCOMPILE" in self.sql:  # expanding IN lists are rendered per execution: not for here
            raise ValueError("a statement with values rendered at execution cannot be compiled once")
        self.defaults = {name: value for name, value in compiled.params.items() if value is not None}
        self._make_row = None  # the named tuple of its result's columns, made at its first run

    def _row_factory(self, cursor: psycopg.Cursor):
        """psycopg's namedtuple_row looks the column names up again for every execution;
        a statement's columns never change, so its row type is made once."""
        if self._make_row is None:
            self._make_row = namedtuple("Row", [column.name for column in cursor.description or ()])._make
        return self._make_row

    def rows(self, **params: Any) -> list:
        """Run it; the rows as named tuples (row.title, row[0]).

        Within the session's transaction (transaction(), or ORM statements earlier in the
        request) it runs on the session's connection. Otherwise, as for most requests, it
        runs on the connection the request borrowed from the pool at its first such
        statement (autocommit: nothing is left open on it), without making a Session at
        all, which costs more Python than the statement: the pool's checkout checks
        apply to it all the same.
        """
        session = db.session
        if session.registry.has() and session().in_transaction():
            connection = session.connection()
            return self._run(connection.connection.driver_connection, connection.invalidate, params)
        pooled = g.get(_BORROWED)
        if pooled is None:
            try:
                pooled = db.engine.raw_connection()
            except psycopg.Error as error:  # no connection to be had: raised as SQLAlchemy's own, as above
                raise self._error(error, lost=True) from error
            setattr(g, _BORROWED, pooled)
        return self._run(pooled.driver_connection, _lose_borrowed, params)

    def _run(self, driver: psycopg.Connection, invalidate, params: dict) -> list:
        try:
            with driver.cursor(row_factory=self._row_factory) as cursor:
                cursor.execute(self.sql, {**self.defaults, **params})
                return cursor.fetchall() if cursor.pgresult.nfields else []
        except psycopg.Error as error:
            lost = driver.broken or driver.closed
            if lost:  # as SQLAlchemy does: this connection goes, the pool makes a new one
                invalidate()
            raise self._error(error, lost) from error

    def _error(self, error: psycopg.Error, lost: bool) -> exc.DBAPIError:
        return exc.DBAPIError.instance(self.sql, None, error, psycopg.Error, hide_parameters=True,
                                       connection_invalidated=lost, dialect=DIALECT)

    def first(self, **params: Any):
        rows = self.rows(**params)
        return rows[0] if rows else None
