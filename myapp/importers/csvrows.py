"""CSV text to rows, each with the physical line it starts on, within limits."""
from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from .records import ImportRefused

MAX_COLUMNS = 200
# Python's csv refuses a field over 128 KiB; the route's body limit bounds a file anyway,
# and an over-long value is refused by the field's own rule, with its line.
csv.field_size_limit(64 * 1024 * 1024)


def rows(text: str) -> Iterator[tuple[int, list[str]]]:
    """(line, cells) of each record; a blank line yields no record."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    previous = 0
    try:
        for cells in reader:
            line, previous = previous + 1, reader.line_num
            if len(cells) > MAX_COLUMNS:
                raise ImportRefused(f"Line {line} has {len(cells):,} columns: at most {MAX_COLUMNS} are read.")
            if cells and any(cell.strip() for cell in cells):
                yield line, cells
    except csv.Error as error:
        raise ImportRefused(f"Line {previous + 1} is not valid CSV ({error}): nothing was imported.") from None


def header_index(header: list[str]) -> dict[str, int]:
    """Each column's name (as written, trimmed, lower case) -> its position."""
    index: dict[str, int] = {}
    for position, name in enumerate(header):
        index.setdefault(name.strip().lower(), position)
    return index


def cell(cells: list[str], index: dict[str, int], name: str) -> str:
    position = index.get(name)
    return cells[position].strip() if position is not None and position < len(cells) else ""
