"""What the API reads from a request besides the path: JSON body, query string, headers.

Only the HTTP form is checked here (JSON or not, one value per query name, header
syntax); the values themselves are validated by the service layer.
"""
from __future__ import annotations

import re
from typing import Any

from flask import request
from werkzeug.exceptions import BadRequest, UnsupportedMediaType

from ..errors import MalformedHeader, ValidationError

# `*` or one strong ETag as this API sends it (versions start at 1); empty counts as
# absent. Weak tags and lists are refused rather than half-supported: a client sends
# back the ETag it was given.
IF_MATCH = re.compile(r'(?:\*|"([1-9][0-9]{0,8})")?')
IF_MATCH_PATTERN = rf"^{IF_MATCH.pattern}$"
IDEMPOTENCY_KEY = re.compile(r"[!-~]{1,255}")  # visible ASCII, e.g. a UUID
IDEMPOTENCY_KEY_PATTERN = rf"^{IDEMPOTENCY_KEY.pattern}$"


def json_body() -> Any:
    """The request's JSON: 415 if it is not JSON, 400 if unreadable. That it is an object
    (422 otherwise) is checked with the rest of the input, by the service layer."""
    if not request.is_json:
        raise UnsupportedMediaType()
    try:
        return request.get_json()  # 400 on bad JSON, 413 over MAX_CONTENT_LENGTH
    except RecursionError:  # nested deeper than the parser's stack
        raise BadRequest() from None


def query_params() -> dict[str, str]:
    """The query string, one value per name: a repeated name is an error, not a silent pick."""
    repeated = {name: "Give this parameter once." for name, values in request.args.lists() if len(values) > 1}
    if repeated:
        raise ValidationError(details=repeated)
    return request.args.to_dict()


def expected_version() -> int | None:
    """The task version If-Match asks for; None when absent, empty or `*` (any version)."""
    value = request.headers.get("If-Match")
    if value is None:
        return None
    match = IF_MATCH.fullmatch(value.strip())
    if match is None:
        raise MalformedHeader(details={"If-Match": 'Send * or the ETag of the task as received, like "3".'})
    return int(match[1]) if match[1] else None


def idempotency_key() -> str | None:
    key = request.headers.get("Idempotency-Key")
    if key is None:
        return None
    if IDEMPOTENCY_KEY.fullmatch(key) is None:
        raise MalformedHeader(details={"Idempotency-Key": "Use 1 to 255 visible ASCII characters, like a UUID."})
    return key
