"""Any CSV with a header row: its columns matched to a task's fields by name (this app's
own CSV export among them, with ids, parents and rules)."""
from __future__ import annotations

import re
from datetime import date, datetime, time

from ..models import PRIORITIES
from .csvrows import header_index, rows
from .records import ImportRefused, Occurrences, Parsed, Record, source_key, tags_from

FORMAT = "csv"
# Each field, and the column names (lower case) that fill it, the most specific first.
FIELDS = {
    "title": ("title", "task", "name", "task name", "content", "summary", "subject", "to do", "todo"),
    "description": ("description", "notes", "note", "details", "body", "comment", "comments"),
    "due_date": ("due date", "due_date", "due", "date", "deadline", "due on"),
    "due_time": ("due time", "due_time", "time"),
    "priority": ("priority", "importance"),
    "tags": ("tags", "tag", "labels", "label", "categories", "category"),
    "project": ("project", "list", "list name", "project name", "folder"),
    "completed": ("completed", "done", "status", "is completed", "complete", "finished"),
    "id": ("id", "task id", "uid"),
    "parent_id": ("parent_id", "parent id", "parent"),
    "rule": ("recurrence_rule", "recurrence rule", "rrule", "repeat", "recurrence"),
    "mode": ("recurrence_mode", "recurrence mode"),
    "completed_at": ("completed_at", "completed at", "completed time", "completed date"),
    "created_at": ("created_at", "created at", "created", "created time", "date added"),
}
_YES = {"yes", "y", "true", "1", "x", "done", "completed", "complete", "✓", "✔"}
_NO = {"", "no", "n", "false", "0", "open", "active", "todo", "to do", "not started", "in progress"}
_PRIORITY_WORDS = {**{p: p for p in PRIORITIES}, "p1": "high", "p2": "medium", "p3": "low", "p4": "none",
                   "": "none", "normal": "medium", "urgent": "high", "important": "high"}
_DATE_TIME = re.compile(r"^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}):(\d{2})(?::\d{2}(?:\.\d+)?)?)?(?:Z|[+-]\d{2}:?\d{2})?$")
_TIME = re.compile(r"^(\d{1,2}):(\d{2})(?::\d{2})?$")
_TAG_SEPARATORS = re.compile(r"[,;]|\s+")
# This app's CSV export guards text a spreadsheet would run as a formula with a leading
# apostrophe; read back, the apostrophe goes.
_GUARDED = re.compile(r"^'(?=[=+\-@\t\r])")


def columns(header: list[str]) -> dict[str, int]:
    """Each field -> the position of the column that fills it (the first of the most
    specific name the header has)."""
    index = header_index(header)
    found: dict[str, int] = {}
    for field, names in FIELDS.items():
        for name in names:
            if name in index and index[name] not in found.values():
                found[field] = index[name]
                break
    return found


def mapping(header: list[str], found: dict[str, int]) -> dict[str, str | None]:
    """Each column (as written) -> the field it fills, or None (not read): what the page shows."""
    by_position = {position: field for field, position in found.items()}
    result: dict[str, str | None] = {}
    for position, column in enumerate(header):
        label = column.strip() or f"(column {position + 1})"
        while label in result:  # the same name twice: told apart by place
            label = f"{label} (column {position + 1})"
        result[label] = by_position.get(position)
    return result


def _date_time(text: str) -> tuple[date, time | None] | None:
    match = _DATE_TIME.match(text)
    if not match:
        return None
    try:
        day = date.fromisoformat(match[1])
        return day, time(int(match[2]), int(match[3])) if match[2] else None
    except ValueError:
        return None


def _instant(text: str, name: str, line: int, parsed: Parsed) -> datetime | None:
    """An ISO 8601 date and time (a column of this app's own export), or None with a warning."""
    try:
        return datetime.fromisoformat(text) if text else None
    except ValueError:
        parsed.warn(line, f"The {name} “{text[:40]}” is not a date and time like 2030-01-15T09:30: left out.")
        return None


def read(text: str) -> Parsed:
    parsed = Parsed(FORMAT)
    records = rows(text)
    header = next(records, None)
    if header is None:
        raise ImportRefused("This CSV file is empty: it needs a header row and a row per task.")
    found = columns(header[1])
    parsed.mapping = mapping(header[1], found)
    if "title" not in found:
        raise ImportRefused("No column of this CSV is a task's title: name one Title (or Task, Name, Content).")
    seen = Occurrences()
    for line, cells in records:
        values = {field: _GUARDED.sub("", cells[position].strip()) if position < len(cells) else ""
                  for field, position in found.items()}
        parsed.add(_record(line, values, parsed, seen))
    return parsed


def _record(line: int, values: dict[str, str], parsed: Parsed, seen: Occurrences) -> Record:
    project = values.get("project") or None
    source_id = values.get("id")
    record = Record(
        line=line,
        key=source_key(FORMAT, source_id) if source_id else seen.key(FORMAT, *values.values()),
        title=values["title"], description=values.get("description") or None,
        project=parsed.project(project[:100]) if project else None,
        parent=source_key(FORMAT, values["parent_id"]) if values.get("parent_id") else None,
        tags=tags_from(_TAG_SEPARATORS.split(values.get("tags", "")), parsed, line),
        rule=values.get("rule") or None, mode=values.get("mode") or "due",
        completed_at=_instant(values.get("completed_at", ""), "completion time", line, parsed),
        created_at=_instant(values.get("created_at", ""), "creation time", line, parsed))
    priority = values.get("priority", "").lower()
    if priority not in _PRIORITY_WORDS:
        parsed.warn(line, f"The priority “{priority[:20]}” is not high, medium, low or none: no priority.")
    record.priority = _PRIORITY_WORDS.get(priority, "none")
    completed = values.get("completed", "").lower()
    if completed not in _YES | _NO:
        parsed.warn(line, f"“{completed[:20]}” is not yes or no: the task is open.")
    record.completed = completed in _YES
    if values.get("due_date"):
        found = _date_time(values["due_date"])
        if found is None:
            record.problem = f"The due date “{values['due_date'][:40]}” is not a date like 2030-01-15."
            return record
        record.due_date, record.due_time = found
    if values.get("due_time"):
        match = _TIME.match(values["due_time"])
        if not match or int(match[1]) > 23 or int(match[2]) > 59:
            record.problem = f"The due time “{values['due_time'][:20]}” is not a time like 09:30."
            return record
        record.due_time = time(int(match[1]), int(match[2]))
    return record
