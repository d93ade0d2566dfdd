"""Engine settings for PostgreSQL behind Neon's pooler, and the embedded server.

A round trip to the database is what a request pays most for (in production each one
crosses a network to Neon), so a request sends only the statements it needs:

- Statements run in autocommit: a read, or a write of one statement, is sent alone,
  without BEGIN or ROLLBACK. Operations of several statements that must land together
  ask for a transaction (services.operations.transaction).
- The statement timeout is a default of the app's role in its database, set by every
  `flask db upgrade` (apply_role_settings): nothing is sent per request for it, and it
  holds through PgBouncer in transaction mode, which rejects start-up options. The app
  checks it once at start.
- A pooled connection is pinged only when it sat idle long enough to have been dropped
  (DB_IDLE_PING_SECONDS), or when its socket shows that the server spoke while it was
  idle, which is how a closed connection looks (a terminated backend, a restarted
  pooler). A dead one is replaced before the request's first statement is sent; a
  statement already sent is never sent again.
"""
from __future__ import annotations

import contextlib
import logging
import os
import re
import select
import socket
import threading
import time
from collections.abc import Mapping
from pathlib import Path

import psycopg
from sqlalchemy import event, exc, text
from sqlalchemy.engine import URL, Connection, Engine

log = logging.getLogger("myapp.database")

APPLICATION_NAME = "taskmanager"


def engine_options(config: Mapping) -> dict:
    return {
        "isolation_level": "AUTOCOMMIT",
        "pool_size": config["DB_POOL_SIZE"],
        "max_overflow": config["DB_MAX_OVERFLOW"],
        "pool_timeout": config["DB_POOL_TIMEOUT"],
        # Neon suspends idle computes; do not keep connections past its idle window.
        "pool_recycle": config["DB_POOL_RECYCLE"],
        # SQL errors in logs must not carry statement parameters (they hold user data).
        "hide_parameters": True,
        "connect_args": {
            "connect_timeout": config["DB_CONNECT_TIMEOUT"],
            "application_name": APPLICATION_NAME,
            # PgBouncer in transaction mode cannot keep server-side prepared statements.
            "prepare_threshold": None,
            # A network that stops forwarding must not hold a request (README: "Faults"):
            # keepalives notice a silent peer while waiting for an answer, and
            # tcp_user_timeout bounds how long sent data may stay unacknowledged.
            "keepalives": 1,
            "keepalives_idle": config["DB_KEEPALIVE_SECONDS"],
            "keepalives_interval": 1,
            "keepalives_count": 3,
            "tcp_user_timeout": config["DB_KEEPALIVE_SECONDS"] * 1000 + 3000,
        },
    }


def embedded_database_url(pgdata: Path) -> URL:
    """Start (or reuse) the embedded PostgreSQL under instance/ and return its URL.

    The server is left running when the process exits so the next run reuses it.
    """
    import pgserver  # imported here: only needed where no DATABASE_URL is set

    pgdata.parent.mkdir(parents=True, exist_ok=True)
    info = pgserver.get_server(pgdata, cleanup_mode=None).get_postmaster_info()
    return URL.create("postgresql+psycopg", username="postgres", database="postgres",
                      query={"host": str(info.socket_dir)})


class StallGuard:
    """Gives up on a connection that has waited for the database longer than any answer can take.

    The statement timeout stops slow work on the server, and TCP keepalives notice a
    peer that went silent; but a network that swallows packets while acknowledging them
    (a stalled proxy, a wedged load balancer) would leave a request waiting forever.
    Every wait for the server is registered here with a deadline (the statement timeout
    plus DB_KEEPALIVE_SECONDS of grace); a watcher thread shuts down the socket of a wait
    past it, which turns into a lost connection, so the request gets its 503 and the pool
    a fresh connection next time.
    """

    TICK = 0.25  # seconds between the watcher's looks

    def __init__(self, limit_seconds: float):
        self.limit = limit_seconds
        self._waiting: dict[int, tuple[int, float]] = {}
        self._lock = threading.Lock()
        self._watcher_pid: int | None = None

    def begin(self, fileno: int) -> int:
        self._ensure_watcher()
        key = threading.get_ident()
        with self._lock:
            self._waiting[key] = (fileno, time.monotonic() + self.limit)
        return key

    def end(self, key: int) -> None:
        with self._lock:
            self._waiting.pop(key, None)

    def _ensure_watcher(self) -> None:
        if self._watcher_pid != os.getpid():  # first use in this process (gunicorn forks workers)
            with self._lock:
                if self._watcher_pid != os.getpid():
                    self._watcher_pid = os.getpid()
                    threading.Thread(target=self._watch, name="db-stall-guard", daemon=True).start()

    def _watch(self) -> None:
        while True:
            time.sleep(self.TICK)
            now = time.monotonic()
            with self._lock:  # held while shutting down, so that no wait ends (and frees its socket) meanwhile
                for key, (fileno, deadline) in list(self._waiting.items()):
                    if now > deadline:
                        del self._waiting[key]
                        _shut_down(fileno)
                        log.warning(f"no answer from the database for {self.limit:g}s: connection given up",
                                    extra={"event": "database_stalled"})


def _shut_down(fileno: int) -> None:
    """Shut the socket down under the driver's feet: its wait ends with a lost connection."""
    # Closing the duplicate leaves libpq's own descriptor as it is.
    with contextlib.suppress(OSError), socket.socket(fileno=os.dup(fileno)) as duplicate:
        duplicate.shutdown(socket.SHUT_RDWR)


class GuardedConnection(psycopg.Connection):
    """A psycopg connection whose every wait for the server is watched by a StallGuard."""

    stall_guard: StallGuard | None = None

    def wait(self, gen, *args, **kwargs):
        if self.stall_guard is None:
            return super().wait(gen, *args, **kwargs)
        key = self.stall_guard.begin(self.pgconn.socket)
        try:
            return super().wait(gen, *args, **kwargs)
        finally:
            self.stall_guard.end(key)


def install_stall_guard(engine: Engine, limit_seconds: float) -> None:
    """New connections of `engine` are GuardedConnections watched by one StallGuard."""
    guard = StallGuard(limit_seconds)

    @event.listens_for(engine, "do_connect")
    def _connect(_dialect, _record, cargs, cparams):
        connection = GuardedConnection.connect(*cargs, **cparams)
        connection.stall_guard = guard
        return connection


def _spoke_while_idle(dbapi_connection) -> bool:
    """True when the server sent something to a connection nobody was using.

    The protocol has the server speak only when asked, so that is almost always its
    goodbye (a FATAL error, then end of file). A poll with no wait: no round trip.
    """
    poller = select.poll()
    poller.register(dbapi_connection.fileno(), select.POLLIN | select.POLLERR | select.POLLHUP)
    return bool(poller.poll(0))


def install_connection_checks(engine: Engine, idle_ping_seconds: float) -> None:
    """Check a pooled connection at checkout only when it may have died; replace it if it did.

    Raising DisconnectionError makes the pool discard the connection and hand out a
    fresh one, before anything was sent on it.
    """

    @event.listens_for(engine, "checkin")
    def _idle_from(_dbapi_connection, record):
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _check(dbapi_connection, record, _proxy):
        idle_since = record.info.pop("idle_since", None)
        if idle_since is None:  # just connected
            return
        if time.monotonic() - idle_since < idle_ping_seconds and not _spoke_while_idle(dbapi_connection):
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as error:  # noqa: BLE001 - any failure means: do not use it
            raise exc.DisconnectionError("a pooled connection was found closed") from error


ROLE_SETTINGS = ("statement_timeout", "TimeZone")


def _alter_role(connection: Connection, role: str | None, action: str) -> None:
    preparer = connection.dialect.identifier_preparer
    role_sql = preparer.quote_identifier(role) if role else "CURRENT_USER"
    database = connection.execute(text("SELECT current_database()")).scalar_one()
    connection.exec_driver_sql(f"ALTER ROLE {role_sql} IN DATABASE {preparer.quote_identifier(database)} {action}")


def apply_role_settings(connection: Connection, role: str | None, statement_timeout_ms: int) -> None:
    """Make the statement timeout, and UTC as the session time zone, defaults of the app's
    role in this database.

    Every new server session of that role starts with them, also behind PgBouncer in
    transaction mode, so no request sends a SET. Run by `flask db upgrade`
    (migrations/env.py) with the configured value, so a changed DB_STATEMENT_TIMEOUT_MS
    takes effect at the next upgrade. UTC makes timestamps come back in UTC, as the
    API writes them.
    """
    _alter_role(connection, role, f"SET statement_timeout = {int(statement_timeout_ms)}")
    _alter_role(connection, role, "SET TimeZone = 'UTC'")


def reset_role_settings(connection: Connection, role: str | None) -> None:
    """Undo apply_role_settings (`flask db downgrade base`)."""
    for setting in ROLE_SETTINGS:
        _alter_role(connection, role, f"RESET {setting}")


def rollback() -> None:
    """End the session's transaction, keeping every object already returned usable as it is.

    A plain rollback expires every object in the session, so the next attribute read
    (a template showing the user, a log line naming them, a conflict showing the
    current task) would query the database again, and fail if it is down. Detaching
    them first keeps their loaded values.
    """
    from .extensions import db

    db.session.expunge_all()
    try:
        db.session.rollback()
    except Exception:  # noqa: BLE001 - the connection may already be gone; the pool discards it
        log.debug("rollback failed", exc_info=True)


def end_session_quietly(_error=None) -> None:
    """Close the request's session; a connection that died meanwhile is not an error.

    If the database went away after the response was made, returning the connection
    to the pool fails, and that must not turn an answered request into a server error.
    """
    from .extensions import db

    try:
        db.session.remove()
    except Exception as error:  # noqa: BLE001
        if not is_unavailable(error):
            raise
        db.session.registry.clear()
        log.debug("session closed on a lost connection", exc_info=True)


CONNECTION_ERRORS = (exc.OperationalError, exc.InterfaceError, exc.TimeoutError)


# Deadlock and serialization failures are OperationalErrors too, but the database is
# up: they are ordinary errors, not "unavailable". A statement timeout is a slow query
# on a live database (errors.QueryTimeout).
NOT_OUTAGES = ("40001", "40P01", "57014")


def sqlstate(error: BaseException) -> str | None:
    return getattr(getattr(error, "orig", None), "sqlstate", None)


def is_statement_timeout(error: BaseException) -> bool:
    return sqlstate(error) == "57014"


def is_unavailable(error: BaseException) -> bool:
    """True for a lost, refused or timed-out database connection."""
    if sqlstate(error) in NOT_OUTAGES:
        return False
    if isinstance(error, CONNECTION_ERRORS):
        return True
    return isinstance(error, exc.DBAPIError) and error.connection_invalidated


def describe_unavailable(error: BaseException, url: URL) -> str:
    """One line: where the database is and the driver's reason. Never the password."""
    reason = str(getattr(error, "orig", None) or error)
    reason = re.sub(r"\s+", " ", reason).strip()
    if url.password:
        reason = reason.replace(url.password, "***")
    where = url.host or url.query.get("host") or "local socket"
    return f"database unavailable at {where}:{url.port or 5432} ({reason})"


def check_database_at_start(engine: Engine, statement_timeout_ms: int) -> None:
    """Log one clear line if the database cannot be reached; serve anyway.

    Neon computes wake up on demand and a restart loop helps no one; /readyz says
    503 until the database answers. When it answers, also say so if the role settings
    in force are not the configured ones (`flask db upgrade` applies them).
    """
    try:
        with engine.connect() as conn:
            timeout_ms, zone, migrated = conn.execute(text(
                "SELECT setting::int, current_setting('TimeZone'), to_regclass('alembic_version') IS NOT NULL "
                "FROM pg_settings WHERE name = 'statement_timeout'")).one()
    except Exception as error:  # noqa: BLE001 - reported, never raised
        if not is_unavailable(error):
            raise
        log.error(describe_unavailable(error, engine.url), extra={"event": "database_unavailable"})
        return
    # A database without the schema yet gets the settings with it (the first `flask db upgrade`).
    if migrated and (timeout_ms != statement_timeout_ms or zone != "UTC"):
        log.error(f"the database session has statement_timeout={timeout_ms}ms and TimeZone={zone}, not "
                  f"DB_STATEMENT_TIMEOUT_MS={statement_timeout_ms} and UTC: run `flask db upgrade` to apply them",
                  extra={"event": "role_settings_mismatch"})
