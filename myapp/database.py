"""Engine settings for PostgreSQL behind Neon's pooler, and the embedded server.

Neon's pooled endpoint is PgBouncer in transaction mode: it rejects startup options
and cannot carry session state, so the statement timeout is set per transaction
(SET LOCAL) and psycopg's automatic server-side prepared statements are off.
"""
from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from pathlib import Path

from sqlalchemy import event, exc, text
from sqlalchemy.engine import URL, Engine

log = logging.getLogger("myapp.database")

APPLICATION_NAME = "taskmanager"


def engine_options(config: Mapping) -> dict:
    return {
        "pool_pre_ping": True,
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
            "prepare_threshold": None,
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


def install_statement_timeout(engine: Engine, timeout_ms: int) -> None:
    """SET LOCAL at the start of every transaction: works through PgBouncer."""

    @event.listens_for(engine, "begin")
    def _set_timeout(conn):
        conn.exec_driver_sql(f"SET LOCAL statement_timeout = {int(timeout_ms)}")


def end_session_quietly(_error=None) -> None:
    """Close the request's session; a connection that died meanwhile is not an error.

    A read-only request leaves its transaction open until here; if the database went
    away after the response was made, the closing ROLLBACK fails, and that must not
    turn an answered request into a server error.
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
# up: they are ordinary errors, not "unavailable".
NOT_OUTAGES = ("40001", "40P01")


def is_unavailable(error: BaseException) -> bool:
    """True for a lost, refused or timed-out database connection."""
    if getattr(getattr(error, "orig", None), "sqlstate", None) in NOT_OUTAGES:
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


def check_database_at_start(engine: Engine) -> None:
    """Log one clear line if the database cannot be reached; serve anyway.

    Neon computes wake up on demand and a restart loop helps no one; /readyz says
    503 until the database answers.
    """
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as error:  # noqa: BLE001 - reported, never raised
        if not is_unavailable(error):
            raise
        log.error(describe_unavailable(error, engine.url), extra={"event": "database_unavailable"})
