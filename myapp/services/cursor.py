"""Opaque keyset cursors: which sort, which side of which row.

A cursor holds the sort keys of one row as text (as PostgreSQL printed them) and the
direction to read from it, encrypted and authenticated (Fernet, with a key derived from
SECRET_KEY): it reveals nothing of the row (a title sort's keys are the title, and page
links end up in proxy logs), and one the app did not make is refused. Anything that
does not decrypt to exactly that shape is a validation error, never a crash.
"""
from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken

from ..errors import ValidationError

AFTER, BEFORE = "a", "b"
INVALID = "Invalid cursor: start again from the first page."


@lru_cache(maxsize=8)
def _fernet(secret_key: str) -> Fernet:
    # A key of its own, derived from SECRET_KEY: cursors and session cookies never share one.
    return Fernet(base64.urlsafe_b64encode(hashlib.sha256(b"task-list cursors\0" + secret_key.encode()).digest()))


@dataclass(frozen=True)
class Cursor:
    sort: str
    direction: str  # AFTER: the rows after `keys`; BEFORE: the rows before them
    keys: tuple[str, ...]

    def encode(self, secret_key: str) -> str:
        # Raw UTF-8 rather than \u escapes: a 255-character title in any script stays
        # well within the cursor length the list accepts (validation.CURSOR_MAX).
        raw = json.dumps([self.sort, self.direction, list(self.keys)], separators=(",", ":"), ensure_ascii=False)
        return _fernet(secret_key).encrypt(raw.encode()).decode()


def decode(token: str, sort: str, key_count: int, secret_key: str) -> Cursor:
    invalid = ValidationError(details={"cursor": INVALID})
    try:
        value = json.loads(_fernet(secret_key).decrypt(token.encode()).decode())
    except (InvalidToken, ValueError, UnicodeDecodeError):
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
    return Cursor(sort, direction, tuple(keys))
