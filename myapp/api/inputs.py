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
from ..services.validation import VERSION_MAX

# If-Match as RFC 9110 spells it: `*`, or a list of entity tags (strong "..." or weak
# W/"..."). Empty counts as absent. Only the strong tags this API sends ("12.3.5": the
# version and the counts shown) can match; any other well-formed tag matches nothing
# (412), and only a header that is not an If-Match at all is a 400.
_ENTITY_TAG = r'(?:W/)?"[\x21\x23-\x7e\x80-\xff]*"'
IF_MATCH = re.compile(rf"(?:\*|{_ENTITY_TAG}(?:[ \t]*,[ \t]*{_ENTITY_TAG})*)?")
IF_MATCH_PATTERN = rf"^{IF_MATCH.pattern}$"
_ENTITY_TAGS = re.compile(_ENTITY_TAG)
_OURS = re.compile(r'"([1-9][0-9]{0,9}\.[0-9]{1,10}\.[0-9]{1,10})"')
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


def expected_version() -> tuple[str, ...] | None:
    """The entity tags If-Match accepts; None when absent, empty or `*` (any version), and
    an empty tuple when it names none this API gave (so nothing matches: 412)."""
    value = request.headers.get("If-Match")
    if value is None or value.strip() in ("", "*"):
        return None
    if IF_MATCH.fullmatch(value.strip()) is None:
        raise MalformedHeader(details={"If-Match": 'Send * or entity tags, like the task\'s ETag "3.0.0".'})
    found = (ours[1] for tag in _ENTITY_TAGS.findall(value) if (ours := _OURS.fullmatch(tag)))
    return tuple(tag for tag in found if int(tag.split(".", 1)[0]) <= VERSION_MAX)


def idempotency_key() -> str | None:
    key = request.headers.get("Idempotency-Key")
    if key is None:
        return None
    if IDEMPOTENCY_KEY.fullmatch(key) is None:
        raise MalformedHeader(details={"Idempotency-Key": "Use 1 to 255 visible ASCII characters, like a UUID."})
    return key
