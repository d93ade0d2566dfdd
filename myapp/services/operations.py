"""What every service operation shares: one log event, errors mapped, rollback on failure."""
from __future__ import annotations

import functools
import inspect
import logging
import time

from ..errors import AppError, DatabaseUnavailable
from ..extensions import db
from ..database import describe_unavailable, is_unavailable

log = logging.getLogger("myapp.service")


def rollback() -> None:
    """End the transaction, keeping every object already returned usable as it is.

    A plain rollback expires every object in the session, so the next attribute read
    (a template showing the user, a log line naming them, a conflict showing the
    current task) would query the database again, and fail if it is down. Detaching
    them first keeps their loaded values.
    """
    db.session.expunge_all()
    try:
        db.session.rollback()
    except Exception:  # the connection may already be gone; the pool discards it
        log.debug("rollback failed", exc_info=True)


def operation(name: str):
    """Wrap a service function: log {operation, user_id, task_id, outcome, duration_ms}.

    A lost, refused or timed-out connection becomes DatabaseUnavailable; the
    session is rolled back on any failure, so nothing is half-applied.
    """

    def decorate(fn):
        signature = inspect.signature(fn)

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            bound = signature.bind_partial(*args, **kwargs).arguments
            started = time.perf_counter()
            outcome = "ok"
            try:
                return fn(*args, **kwargs)
            except AppError as error:
                outcome = error.code.lower()
                rollback()
                raise
            except Exception as error:
                rollback()
                if is_unavailable(error):
                    outcome = "database_unavailable"
                    log.warning(describe_unavailable(error, db.engine.url))
                    raise DatabaseUnavailable() from error
                outcome = "error"
                raise
            finally:
                user_id = bound.get("user_id")
                task_id = bound.get("task_id")
                log.info(name, extra={
                    "operation": name,
                    "user_id": str(user_id) if user_id else None,
                    "task_id": str(task_id) if task_id else None,
                    "outcome": outcome,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                })

        return wrapper

    return decorate
