"""What every service operation shares: one log event, errors mapped, rollback on failure,
and the explicit transaction for operations of several statements."""
from __future__ import annotations

import functools
import inspect
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import NoReturn

from flask import g, has_request_context

from ..database import describe_unavailable, is_statement_timeout, is_unavailable, rollback
from ..errors import AppError, DatabaseUnavailable, QueryTimeout
from ..extensions import db

log = logging.getLogger("myapp.service")


def _record(event: dict) -> None:
    """Within a request, the event goes into the request's one log line (myapp.logs);
    elsewhere (CLI, tests of the services) it is a line of its own."""
    if has_request_context() and "request_started" in g:
        g.operations.append(event)
    else:
        log.info(event["operation"], extra=event)


def operation(name: str):
    """Wrap a service function: log {operation, user_id, task_id, outcome, duration_ms}.

    A lost, refused or timed-out connection becomes DatabaseUnavailable, a statement
    over the timeout QueryTimeout; the session is rolled back on any failure, so
    nothing is half-applied.
    """

    def decorate(fn):
        # Where the ids the log line names sit among the arguments, worked out once.
        parameters = list(inspect.signature(fn).parameters)
        positions = {name: parameters.index(name) for name in ("user_id", "task_id") if name in parameters}

        def argument(name: str, args: tuple, kwargs: dict):
            if name in kwargs:
                return kwargs[name]
            position = positions.get(name)
            return args[position] if position is not None and position < len(args) else None

        def record(args: tuple, kwargs: dict, outcome: str, started: float) -> None:
            user_id, task_id = argument("user_id", args, kwargs), argument("task_id", args, kwargs)
            _record({
                "operation": name,
                "user_id": str(user_id) if user_id else None,
                "task_id": str(task_id) if task_id else None,
                "outcome": outcome,
                "duration_ms": round((time.perf_counter() - started) * 1000, 2),
            })

        def fail(error: BaseException, args: tuple, kwargs: dict, started: float) -> NoReturn:
            """Called while `error` is being handled: roll back, log the outcome, and raise the
            error itself (a bare raise) or what it means to the caller."""
            rollback()
            raised: BaseException = error
            if isinstance(error, AppError):
                outcome = error.code.lower()
            elif isinstance(error, GeneratorExit):  # a streamed answer's reader went away
                outcome = "cancelled"
            elif is_statement_timeout(error):
                outcome, raised = "query_timeout", QueryTimeout()
                log.warning(f"{name}: statement timeout", extra={"operation": name})
            elif is_unavailable(error):
                outcome, raised = "database_unavailable", DatabaseUnavailable()
                log.warning(describe_unavailable(error, db.engine.url))
            else:
                outcome = "error"
            record(args, kwargs, outcome, started)
            if raised is error:
                raise
            raise raised from error

        if inspect.isgeneratorfunction(fn):  # a stream of events: the same, around all of it
            @functools.wraps(fn)
            def wrapper(*args, **kwargs):
                started = time.perf_counter()
                try:
                    result = yield from fn(*args, **kwargs)
                except BaseException as error:
                    fail(error, args, kwargs, started)
                record(args, kwargs, "ok", started)
                return result

            return wrapper

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            started = time.perf_counter()
            try:
                result = fn(*args, **kwargs)
            except Exception as error:
                fail(error, args, kwargs, started)
            record(args, kwargs, "ok", started)
            return result

        return wrapper

    return decorate


@contextmanager
def transaction() -> Iterator[None]:
    """BEGIN ... COMMIT around statements that must land together.

    Everything else runs in autocommit (myapp.database): one round trip per statement.
    Whatever the session read before is ended first (in autocommit that sends nothing),
    so that the transaction starts on a connection of its own choosing. A failure
    inside is rolled back by operation().
    """
    db.session.commit()
    db.session.connection(execution_options={"isolation_level": "READ COMMITTED"})
    yield
    db.session.commit()
