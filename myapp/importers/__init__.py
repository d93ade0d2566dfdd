"""Files of other apps (and this app's own export) read into plain records.

Pure: no Flask, no database. Each format's module turns text into a records.Parsed;
services/imports.py checks the records and stores them.
"""
from __future__ import annotations

from datetime import datetime

from . import generic_csv, ics, own_json, ticktick, todoist
from .csvrows import rows
from .records import ImportRefused, Parsed
from .text import decode

FORMATS = ("json", "todoist-csv", "ticktick-csv", "csv", "ics")


def detect(text: str, filename: str) -> str:
    """The format of a file's text (its name only breaks a tie)."""
    start = text.lstrip()[:200]
    if start.startswith(("{", "[")):
        return "json"
    if start.upper().startswith("BEGIN:VCALENDAR") or filename.lower().endswith(".ics"):
        return "ics"
    for number, (_, cells) in enumerate(rows(text)):
        names = {cell.strip().lower() for cell in cells}
        if number == 0 and all(name in names for name in todoist.COLUMNS):
            return "todoist-csv"
        if ticktick.is_header(cells):
            return "ticktick-csv"
        if number >= 10:  # TickTick's preamble is a few lines; past those it is a plain CSV
            break
    return "csv"


def read(data: bytes, filename: str, format: str | None, tz: str, now: datetime) -> Parsed:
    """The records of a file, in `format` or the one detected; ImportRefused when the file
    as a whole cannot be read (`now`: the user's wall clock, for relative dates)."""
    text, warning = decode(data)
    if not text.strip():
        raise ImportRefused("This file is empty.")
    format = format or detect(text, filename)
    if format == "json":
        parsed = own_json.read(text)
    elif format == "todoist-csv":
        parsed = todoist.read(text, filename, now)
    elif format == "ticktick-csv":
        parsed = ticktick.read(text, tz)
    elif format == "csv":
        parsed = generic_csv.read(text)
    else:
        parsed = ics.read(text, tz)
    if warning:
        parsed.warn(1, warning)
    return parsed


__all__ = ["FORMATS", "ImportRefused", "Parsed", "detect", "read"]
