"""Bytes of a file to text: UTF-8 (with or without a BOM), UTF-16 (with a BOM, or plainly
so), else Windows-1252/Latin-1 with a warning; a binary file is refused."""
from __future__ import annotations

import codecs

from .records import ImportRefused

NOT_TEXT = "This file is not text (it looks like a binary file): export your tasks as CSV, JSON or iCalendar."
_CONTROL = frozenset(range(32)) - {9, 10, 12, 13}


def _utf16_without_bom(sample: bytes) -> str | None:
    """UTF-16 of mostly ASCII text has a zero in every other byte."""
    if len(sample) < 4:
        return None
    even, odd = sample[0::2], sample[1::2]
    if odd.count(0) > len(odd) * 0.4 and even.count(0) < len(even) * 0.05:
        return "utf-16-le"
    if even.count(0) > len(even) * 0.4 and odd.count(0) < len(odd) * 0.05:
        return "utf-16-be"
    return None


def decode(data: bytes) -> tuple[str, str | None]:
    """The file's text, and a warning when it was read as another encoding than UTF-8."""
    if data.startswith(b"PK\x03\x04"):  # Todoist's backup is a ZIP of one CSV per project
        raise ImportRefused("This is a ZIP archive: unzip it and import its files one at a time.")
    if data.startswith(codecs.BOM_UTF8):
        encoding, data = "utf-8", data[len(codecs.BOM_UTF8):]
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16"
    else:
        encoding = _utf16_without_bom(data[:4096]) or "utf-8"
    warning = None
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError:
        if encoding != "utf-8":
            raise ImportRefused(f"This file says it is {encoding.upper()} but is not: save it as UTF-8.") from None
        # Not UTF-8: the spreadsheets that write anything else mostly write Windows-1252,
        # which is Latin-1 with printable characters where Latin-1 has controls.
        text = data.decode("cp1252", errors="strict") if _cp1252(data) else data.decode("latin-1")
        warning = "The file is not UTF-8: it was read as Windows-1252 (Latin-1). Check accented letters."
    if any(ord(c) in _CONTROL for c in text[:65536]) or "\x00" in text:
        raise ImportRefused(NOT_TEXT)
    if text.startswith("\ufeff"):  # a UTF-16 file's BOM, decoded
        text = text[1:]
    return text, warning


def _cp1252(data: bytes) -> bool:
    try:
        data.decode("cp1252")
    except UnicodeDecodeError:
        return False
    return True
