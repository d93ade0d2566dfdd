"""Big bodies: a route's own request body limit (imports), and answers streamed as they are
made (exports, an import's progress), shared by the pages and the API."""
from __future__ import annotations

import logging
from collections.abc import Iterator

import orjson
from flask import Flask, Response, request, stream_with_context

from . import exports
from .errors import AppError
from .services import export
from .services.timezones import today_in

NDJSON = "application/x-ndjson"
log = logging.getLogger("myapp.errors")


def body_limit(limit: int):
    """This route reads bodies up to `limit` bytes, not MAX_CONTENT_LENGTH (then 413)."""

    def decorate(view):
        view.body_limit = limit
        return view

    return decorate


def init_app(app: Flask) -> None:
    @app.url_value_preprocessor  # before every before_request (CSRF checks read the form)
    def _apply_body_limit(endpoint, _values):
        limit = getattr(app.view_functions.get(endpoint), "body_limit", None)
        if limit is not None:
            request.max_content_length = limit


def streamed(chunks: Iterator, mimetype: str, filename: str | None = None) -> Response:
    """An answer written as `chunks` come. The first is made before the status is sent, so
    that what fails at the start (not found, a refused file) still gets its own status."""
    first = next(chunks, b"")
    response = Response(stream_with_context(_then(first, chunks)), mimetype=mimetype)
    if filename:
        response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


EXPORTS = {"json": "application/json", "csv": "text/csv", "ics": "text/calendar"}


def export_response(user, extension: str) -> Response:
    """Everything of the user's as a file: JSON (this app's own format), CSV or iCalendar."""
    records = export.export_records(user.id)
    if extension == "json":
        chunks = exports.json_chunks(records)
    elif extension == "csv":
        chunks = exports.csv_chunks(records)
    else:
        chunks = exports.ics_chunks(records, user.timezone)
    return streamed(chunks, EXPORTS[extension], f"tasks-export-{today_in(user.timezone).isoformat()}.{extension}")


def ndjson(events: Iterator[dict]) -> Iterator[bytes]:
    """Events as lines of JSON; a failure once the answer has begun is its last line (the
    error as the API words it: its status line is long gone)."""
    try:
        for event in events:
            yield orjson.dumps(event) + b"\n"
    except AppError as error:
        yield orjson.dumps({"code": error.code, "message": error.message, "details": error.details}) + b"\n"
    except Exception:
        log.exception("unhandled error in a streamed answer")
        yield orjson.dumps({"code": "INTERNAL_ERROR", "message": AppError.message, "details": {}}) + b"\n"


def ndjson_response(events: Iterator[dict]) -> Response:
    """Events streamed as lines of JSON; the first is made before the status is sent."""
    first = next(events)
    return streamed(ndjson(_then(first, events)), NDJSON)


def _then(first, rest: Iterator) -> Iterator:
    """`first`, then the rest; closed (a reader gone), it closes the rest at once, which ends
    an import's or export's transaction there and then, not whenever it is collected."""
    yield first
    yield from rest


def wants_ndjson() -> bool:
    return request.accept_mimetypes.best_match(["application/json", NDJSON]) == NDJSON
