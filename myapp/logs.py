"""JSON logs on stdout: one object per line, request id and user id on every line.

A request writes one line, which also carries the service operations it ran; errors
add their own lines (with the traceback).

Never logged: passwords, tokens, cookies, full database URLs, task text.
"""
from __future__ import annotations

import itertools
import logging
import os
import re
import secrets
import sys
import time

import orjson
from flask import Flask, g, has_request_context, request
from pythonjsonlogger.orjson import OrjsonFormatter

REQUEST_ID_HEADER = "X-Request-ID"
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
# Requests whose log line would be noise (load balancers poll these constantly).
QUIET_PATHS = frozenset({"/healthz"})


class RequestContextFilter(logging.Filter):
    """Adds request_id and user_id to every record made during a request."""

    def filter(self, record: logging.LogRecord) -> bool:
        if has_request_context():
            record.request_id = getattr(g, "request_id", None)
            if not hasattr(record, "user_id"):
                record.user_id = current_user_id()
        return True


class RedactingJsonFormatter(OrjsonFormatter):
    """PostgreSQL's DETAIL lines quote row values ("Failing row contains (...)"): user
    data that must not reach the log, even inside a traceback."""

    def formatException(self, exc_info) -> str:
        text = super().formatException(exc_info)
        return _DETAIL.sub("DETAIL:  [redacted]", text)


_DETAIL = re.compile(r"DETAIL:.*")


class StdoutHandler(logging.StreamHandler):
    """Writes to whatever sys.stdout is now (test runners swap it)."""

    @property
    def stream(self):
        return sys.stdout

    @stream.setter
    def stream(self, _value):
        pass


def current_user_id() -> str | None:
    """The acting user's id if already loaded (session, or API token: g.api_user): never loads it."""
    user = g.get("api_user") or g.get("_login_user")
    if user is None or not user.is_authenticated:
        return None
    return str(user.id)


def configure_logging(app: Flask) -> None:
    global _handler
    handler = _handler = StdoutHandler()
    handler.setFormatter(RedactingJsonFormatter(
        "%(asctime)s %(levelname)s %(name)s %(message)s",
        rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
        timestamp=False,
    ))
    handler.addFilter(RequestContextFilter())
    handler.set_name("myapp-json")
    root = logging.getLogger()
    # create_app() may run more than once in a process (tests): one handler only.
    for old in [h for h in root.handlers if h.get_name() == "myapp-json"]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(app.config["LOG_LEVEL"])
    # Our request log replaces werkzeug's plain-text access log.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    logging.getLogger("pgserver").setLevel(logging.WARNING)

    app.before_request(_start_request)
    app.after_request(_log_request)


# Request ids made here: unique without a random draw per request (a syscall): a random
# prefix per process, then a counter. 32 hex digits, like a UUID's.
_ids = itertools.count()
_ID_PREFIX = {"pid": None, "prefix": ""}


def new_request_id() -> str:
    if _ID_PREFIX["pid"] != os.getpid():  # a new process (gunicorn forks workers)
        _ID_PREFIX.update(pid=os.getpid(), prefix=secrets.token_hex(8))
    return f"{_ID_PREFIX['prefix']}{next(_ids):016x}"


def _start_request() -> None:
    g.request_started = time.perf_counter()
    g.operations = []  # the service operations of this request, logged with its one line
    incoming = request.headers.get(REQUEST_ID_HEADER, "")
    g.request_id = incoming if _VALID_REQUEST_ID.match(incoming) else new_request_id()


_handler: StdoutHandler | None = None  # the JSON handler configure_logging() put on the root logger
_request_log = logging.getLogger("myapp.request")


def _log_request(response):
    """The request's one line: what was asked, what was answered, and each service
    operation it ran (operation, user_id, task_id, outcome, duration_ms)."""
    request_id = g.get("request_id") or new_request_id()
    response.headers[REQUEST_ID_HEADER] = request_id
    # Popped: operations still to come (a streamed answer's, after this line) log lines of their own.
    started = g.pop("request_started", None)
    duration_ms = round((time.perf_counter() - started) * 1000, 2) if started else None
    level = logging.DEBUG if request.path in QUIET_PATHS else logging.INFO
    if _request_log.isEnabledFor(level):
        _write_line(level, {
            "method": request.method,
            "path": _logged_path(request.path),
            "status": response.status_code,
            "duration_ms": duration_ms,
            "remote_addr": request.remote_addr,
            "operations": g.get("operations", []),
            "request_id": request_id,
            "user_id": current_user_id(),
        })
    return response


def _logged_path(path: str) -> str:
    """The path, without the calendar feed's secret (it opens the user's tasks)."""
    return "/calendar/…" if path.startswith("/calendar/") else path


def _write_line(level: int, fields: dict) -> None:
    """The request line, written as the JSON handler would write its record, field for field.

    Every request writes one, and going through the logging machinery (a LogRecord,
    the filter, the formatter's sweep over the record's attributes) cost more Python
    than the rest of a short API read (bench/profile_request.py): the line is built
    here directly and written under the handler's lock, like any other record.
    """
    now = time.time()
    line = {"time": time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(now)) + f",{int(now % 1 * 1000):03d}",
            "level": logging.getLevelName(level), "logger": _request_log.name, "message": "request", **fields}
    text = orjson.dumps(line).decode() + "\n"
    with _handler.lock:
        try:
            stream = _handler.stream
            stream.write(text)
            stream.flush()
        except (OSError, ValueError):  # stdout gone (a closed pipe): the answer still goes out
            pass
