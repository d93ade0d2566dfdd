"""The project's exceptions, and the handlers that turn them into JSON or HTML.

Services raise these; nothing else leaks out of the service layer. Under /api every
failure becomes {"code", "message", "details"}; elsewhere the site's error page.
"""
from __future__ import annotations

import logging

from flask import Flask, g, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from .database import rollback

log = logging.getLogger("myapp.errors")

RETRY_AFTER_SECONDS = 5


class AppError(Exception):
    """Base of every error the service layer raises on purpose."""

    status = 500
    code = "INTERNAL_ERROR"
    message = "Something went wrong on our side."

    def __init__(self, message: str | None = None, details: dict | None = None):
        super().__init__(message or self.message)
        self.message = message or self.message
        self.details = details or {}


class NotFound(AppError):
    status, code, message = 404, "NOT_FOUND", "Not found."


class ValidationError(AppError):
    """Bad input. `details` maps each field to its message."""

    status, code, message = 422, "VALIDATION_ERROR", "Some fields are not valid."


class Conflict(AppError):
    """The row changed since the caller read it (stale version). `current` is the row now."""

    status, code, message = 412, "PRECONDITION_FAILED", "This task was changed meanwhile."

    def __init__(self, current=None, message: str | None = None):
        super().__init__(message)
        self.current = current


class InvalidCredentials(AppError):
    status, code, message = 401, "UNAUTHORIZED", "Email or password is incorrect."


class Forbidden(AppError):
    status, code, message = 403, "FORBIDDEN", "This token may only read."


class DatabaseUnavailable(AppError):
    status, code, message = 503, "DATABASE_UNAVAILABLE", "The database is unavailable. Try again shortly."


class Gone(AppError):
    """What the request refers to existed once and was deleted since."""

    status, code, message = 410, "GONE", "This was deleted."


class QueryTimeout(AppError):
    """A statement ran past DB_STATEMENT_TIMEOUT_MS: the database is up, the query was slow."""

    status, code = 503, "QUERY_TIMEOUT"
    message = "This took too long and was stopped. Try again shortly, or ask for less at once."


class IdempotencyKeyReused(AppError):
    """The Idempotency-Key came first with another request: the key, not the request, is wrong."""

    status, code = 409, "IDEMPOTENCY_KEY_REUSED"
    message = "This Idempotency-Key was already used with a different request body."


class MalformedHeader(AppError):
    """A request header the API reads (If-Match, Idempotency-Key) is not in its documented form."""

    status, code, message = 400, "MALFORMED_HEADER", "A request header is malformed."


# Status -> (code, message) for HTTP errors raised by Flask/Werkzeug itself.
HTTP_CODES = {
    400: ("MALFORMED_JSON", "The request body is not valid JSON."),
    401: ("UNAUTHORIZED", "Authentication required."),
    403: ("FORBIDDEN", "Not allowed."),
    404: ("NOT_FOUND", "Not found."),
    405: ("METHOD_NOT_ALLOWED", "Method not allowed."),
    412: ("PRECONDITION_FAILED", "Precondition failed."),
    413: ("PAYLOAD_TOO_LARGE", "The request body is too large."),
    415: ("UNSUPPORTED_MEDIA_TYPE", "The request body must be JSON (Content-Type: application/json)."),
    429: ("RATE_LIMITED", "Too many requests. Slow down."),
    500: ("INTERNAL_ERROR", "Something went wrong on our side."),
    503: ("DATABASE_UNAVAILABLE", "The service is unavailable. Try again shortly."),
}

PAGE_TITLES = {
    400: "Bad request",
    403: "Forbidden",
    404: "Page not found",
    405: "Method not allowed",
    410: "Gone",
    413: "Too large",
    415: "Unsupported content",
    429: "Too many attempts",
    500: "Something went wrong",
    503: "Temporarily unavailable",
}


def wants_json() -> bool:
    return request.path == "/api" or request.path.startswith("/api/")


def json_error(status: int, code: str, message: str, details: dict | None = None, headers: dict | None = None):
    response = jsonify({"code": code, "message": message, "details": details or {}})
    response.status_code = status
    if status == 503:
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    if status == 401:  # names the scheme to authenticate with (RFC 9110)
        response.headers["WWW-Authenticate"] = 'Bearer realm="api"'
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def error_page(status: int, message: str | None = None, headers: dict | None = None):
    title = PAGE_TITLES.get(status, "Error")
    body = render_template("error.html", status=status, title=title, message=message)
    headers = dict(headers or {})
    if status == 503:
        headers.setdefault("Retry-After", str(RETRY_AFTER_SECONDS))
    return body, status, headers


def handle_app_error(error: AppError):
    if wants_json():
        return json_error(error.status, error.code, error.message, error.details)
    if isinstance(error, DatabaseUnavailable):
        # The page layout asks who is signed in; with the database down that would
        # fail again while rendering this very page, so render it as signed out.
        from .extensions import login_manager

        g._login_user = login_manager.anonymous_user()
    return error_page(error.status, error.message)


def handle_http_error(error: HTTPException):
    status = error.code or 500
    headers = {}
    if status == 405 and error.valid_methods:
        headers["Allow"] = ", ".join(sorted(error.valid_methods))
    description = error.description if status in (400, 415) else None
    if status == 429:
        retry = retry_after_seconds(error)
        headers["Retry-After"] = str(retry)
        description = f"Too many attempts. Wait {retry} second{'' if retry == 1 else 's'}, then try again."
    if wants_json():
        code, message = HTTP_CODES.get(status, ("HTTP_ERROR", error.name))
        return json_error(status, code, message, headers=headers)
    return error_page(status, description, headers)


def retry_after_seconds(error: HTTPException) -> int:
    """When a rate-limited client may try again: when the breached limit's window resets."""
    retry = getattr(error, "retry_after", None)
    return retry if isinstance(retry, int) else 60


def handle_csrf_error(error: CSRFError):
    if wants_json():
        return json_error(403, "CSRF_FAILED", "The CSRF token is missing or invalid (send it in X-CSRFToken).")
    return error_page(400, "This form has expired or was not sent from this site. Reload the page and try again.")


def handle_unexpected(error: Exception):
    rollback()
    log.exception("unhandled error")
    if wants_json():
        return json_error(500, *HTTP_CODES[500])
    return error_page(500)


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(AppError, handle_app_error)
    app.register_error_handler(CSRFError, handle_csrf_error)
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(Exception, handle_unexpected)
