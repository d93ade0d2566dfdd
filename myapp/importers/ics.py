"""iCalendar files: each VTODO a task (VEVENTs and the rest are not tasks).

SUMMARY, DESCRIPTION, DUE (a date, or a date-time read in the user's time zone), RRULE,
CATEGORIES (tags), PRIORITY (1-4 high, 5 medium, 6-9 low, 0 none), STATUS/COMPLETED,
RELATED-TO (the parent), CREATED, and this app's own X-TASKS-PROJECT and
X-TASKS-RECURRENCE-MODE.
"""
from __future__ import annotations

import re
from datetime import date, datetime, time

from icalendar import Calendar

from ..services.timezones import zone
from .records import ImportRefused, Occurrences, Parsed, Record, tags_from

FORMAT = "ics"
MAX_DEPTH = 8  # VCALENDAR > VTODO > VALARM is three; nothing real nests deeper
_BEGIN = re.compile(r"^BEGIN:(\S+)", re.I)
_END = re.compile(r"^END:", re.I)


def _todo_lines(text: str) -> list[int]:
    """The line of each VTODO's BEGIN, in order; refuses a file nested past MAX_DEPTH."""
    depth, found = 0, []
    for number, line in enumerate(text.splitlines(), start=1):
        if _BEGIN.match(line):
            depth += 1
            if depth > MAX_DEPTH:
                raise ImportRefused(f"Line {number}: components nested more than {MAX_DEPTH} deep are not read.")
            if line[6:].strip().upper() == "VTODO":
                found.append(number)
        elif _END.match(line):
            depth = max(depth - 1, 0)
    return found


def _priority(value) -> str:
    number = int(value)
    if 1 <= number <= 4:
        return "high"
    if number == 5:
        return "medium"
    return "low" if 6 <= number <= 9 else "none"


def _categories(todo) -> list[str]:
    value = todo.get("CATEGORIES")
    if value is None:
        return []
    return [str(name) for item in (value if isinstance(value, list) else [value]) for name in item.cats]


def _parent(todo) -> str | None:
    value = todo.get("RELATED-TO")
    for item in value if isinstance(value, list) else [value]:
        if item is not None and str(item.params.get("RELTYPE", "PARENT")).upper() == "PARENT":
            return f"{FORMAT}:{str(item)[:100]}"
    return None


def read(text: str, tz: str) -> Parsed:
    lines = _todo_lines(text)
    try:
        calendars = Calendar.from_ical(text, multiple=True)
    except (ValueError, KeyError, IndexError, TypeError) as error:
        raise ImportRefused(f"This is not a valid iCalendar file ({str(error)[:80]}).") from None
    parsed = Parsed(FORMAT)
    seen = Occurrences()
    todos = [todo for calendar in calendars for todo in calendar.walk("VTODO")]
    for number, todo in enumerate(todos):
        line = lines[number] if number < len(lines) else 1
        try:
            record = _record(todo, line, parsed, seen, tz)
        except (ValueError, TypeError, KeyError, OverflowError, AttributeError):
            parsed.skip(line, "This VTODO has a value that cannot be read (a date, a priority or a list).")
            continue
        if record is not None:
            parsed.records.append(record)
    return parsed


def _record(todo, line: int, parsed: Parsed, seen: Occurrences, tz: str) -> Record | None:
    uid = str(todo.get("UID", "")).strip()
    title = str(todo.get("SUMMARY", ""))
    project = str(todo.get("X-TASKS-PROJECT", "")).strip()
    record = Record(
        line=line, key=f"{FORMAT}:{uid[:100]}" if uid else seen.key(FORMAT, todo.to_ical()),
        title=title, description=str(todo["DESCRIPTION"]) if "DESCRIPTION" in todo else None,
        project=parsed.project(project[:100]) if project else None, parent=_parent(todo),
        priority=_priority(todo["PRIORITY"]) if "PRIORITY" in todo else "none",
        tags=tags_from(_categories(todo), parsed, line),
        completed=str(todo.get("STATUS", "")).upper() == "COMPLETED" or "COMPLETED" in todo,
        mode="completion" if str(todo.get("X-TASKS-RECURRENCE-MODE", "")).lower() == "completion" else "due")
    if record.completed and "COMPLETED" in todo:
        record.completed_at = _instant(todo.decoded("COMPLETED"), tz)
    if "CREATED" in todo:
        record.created_at = _instant(todo.decoded("CREATED"), tz)
    due = todo.decoded("DUE") if "DUE" in todo else None
    if isinstance(due, datetime):
        local = due.astimezone(zone(tz)) if due.tzinfo else due
        record.due_date, record.due_time = local.date(), time(local.hour, local.minute)
    elif isinstance(due, date):
        record.due_date = due
    if "RRULE" in todo:
        rules = todo["RRULE"] if isinstance(todo["RRULE"], list) else [todo["RRULE"]]
        record.rule = rules[0].to_ical().decode()
        if len(rules) > 1:
            parsed.warn(line, "Only the first of several RRULEs is kept.")
    return record


def _instant(value, tz: str) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=zone(tz))
    return None
