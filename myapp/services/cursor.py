"""Opaque keyset cursors: which sort, which side of which row.

A cursor holds the sort keys of one row as text (as PostgreSQL printed them) and the
direction to read from it. Anything that does not decode to exactly that shape is a
validation error, never a crash; a well-formed forged cursor only moves the window
within the caller's own tasks.
"""
from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass

from ..errors import ValidationError

AFTER, BEFORE = "a", "b"


@dataclass(frozen=True)
class Cursor:
    sort: str
    direction: str  # AFTER: the rows after `keys`; BEFORE: the rows before them
    keys: tuple[str, ...]

    def encode(self) -> str:
        # Raw UTF-8 rather than \u escapes: a 255-character title in any script stays
        # well within the cursor length the list accepts (validation.CURSOR_MAX).
        raw = json.dumps([self.sort, self.direction, list(self.keys)], separators=(",", ":"), ensure_ascii=False)
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode(token: str, sort: str, key_count: int) -> Cursor:
    invalid = ValidationError(details={"cursor": "Invalid cursor: start again from the first page."})
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        value = json.loads(raw.decode())
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise invalid from None
    if not (isinstance(value, list) and len(value) == 3):
        raise invalid
    cursor_sort, direction, keys = value
    if cursor_sort != sort:
        raise ValidationError(details={"cursor": "This cursor belongs to another sort order."})
    if direction not in (AFTER, BEFORE) or not isinstance(keys, list) or len(keys) != key_count:
        raise invalid
    if not all(isinstance(key, str) and 0 < len(key) <= 300 and "\x00" not in key for key in keys):
        raise invalid
    try:  # JSON may spell a lone surrogate (\ud800), which no database text can hold
        "".join(keys).encode("utf-8")
    except UnicodeEncodeError:
        raise invalid from None
    return Cursor(sort, direction, tuple(keys))
