"""Counting round trips to PostgreSQL on the wire.

A round trip is every time the client sends something and waits for the server: a
simple-protocol Query (BEGIN, COMMIT, ROLLBACK, SET, a statement without parameters)
or the Sync that ends an extended-protocol exchange (a statement with parameters, a
ping). They are read from libpq's own protocol trace (PQtrace) of each connection the
engine hands out, so whatever psycopg or SQLAlchemy sends on their own is counted too.
The bench (bench/run.py) counts with this as well.
"""
from __future__ import annotations

import tempfile
from contextlib import contextmanager

from psycopg import pq
from sqlalchemy import event
from sqlalchemy.engine import Engine

# Messages after which the client waits for the server's answer.
WAITS_FOR_SERVER = ("Query", "Sync")

_trace_file = None


def _traces():
    """One trace file for the process: libpq writes every traced connection's messages into it."""
    global _trace_file
    if _trace_file is None:
        _trace_file = tempfile.TemporaryFile("w+")  # noqa: SIM115 - open for the process's life
    return _trace_file


def _start_tracing(dbapi_connection, record, _proxy=None) -> None:
    if not record.info.get("traced"):
        dbapi_connection.pgconn.trace(_traces().fileno())
        dbapi_connection.pgconn.set_trace_flags(pq.Trace.SUPPRESS_TIMESTAMPS)
        record.info["traced"] = True  # traced for the rest of its life: a trace cannot be moved


def _messages_since(offset: int) -> list[tuple[str, str]]:
    trace = _traces()
    trace.flush()
    trace.seek(offset)
    lines = trace.read().splitlines()
    trace.seek(0, 2)
    # "F<TAB>length<TAB>type<TAB> details"; a long statement goes on over more lines.
    messages = []
    for line in lines:
        if line.startswith("F\t"):
            _, _, kind, *details = line.split("\t")
            messages.append((kind.strip(), "\t".join(details).strip()))
    return messages


class RoundTrips:
    """What was sent meanwhile: `count` round trips, `messages` every frontend message
    as (type, details), e.g. ("Query", '"BEGIN"') or ("Parse", '"" "SELECT ..."').
    """

    def __init__(self) -> None:
        self.messages: list[tuple[str, str]] = []

    @property
    def count(self) -> int:
        return sum(kind in WAITS_FOR_SERVER for kind, _ in self.messages)

    def sent(self, word: str) -> bool:
        """Whether a simple-protocol message began with this word (BEGIN, SET, ROLLBACK, ...)."""
        return any(kind == "Query" and details.lstrip('"').upper().startswith(word) for kind, details in self.messages)


@contextmanager
def round_trips(engine: Engine):
    """Count the round trips `engine`'s connections make inside the block.

    The tracing hook runs first at checkout (insert=True), so that a ping the pool
    sends before handing the connection out is counted too.
    """
    seen = RoundTrips()
    trace = _traces()
    trace.seek(0, 2)
    start = trace.tell()
    event.listen(engine, "checkout", _start_tracing, insert=True)
    try:
        yield seen
    finally:
        event.remove(engine, "checkout", _start_tracing)
        seen.messages = _messages_since(start)
