"""iCalendar files: each VTODO a task (VEVENTs and the rest are not tasks).

SUMMARY, DESCRIPTION, DUE (a date, or a date-time read in the user's time zone), RRULE,
CATEGORIES (tags), PRIORITY (1-4 high, 5 medium, 6-9 low, 0 none), STATUS/COMPLETED,
RELATED-TO (the parent), CREATED, and this app's own X-TASKS-PROJECT and
X-TASKS-RECURRENCE-MODE.
"""
from __future__ import annotations

import re
from datetime import date, datetime, time

from icalendar import Calendar, ComponentFactory, Todo

from ..services.timezones import zone
from .records import MAX_RECORDS, ImportRefused, Occurrences, Parsed, Record, source_key, tags_from

FORMAT = "ics"
MAX_DEPTH = 8  # VCALENDAR > VTODO > VALARM is three; nothing real nests deeper
_BEGIN = re.compile(r"^BEGIN:(\S+)", re.I)
_END = re.compile(r"^END:", re.I)
_LINE_BREAK = re.compile(r"\r\n|\r|\n")  # RFC 5545's (str.splitlines also breaks at U+2028 and others)
# CATEGORIES is text (RFC 5545): a VALUE parameter saying otherwise only makes the library fail.
_CATEGORIES_VALUE = re.compile(r"^(CATEGORIES[^:\r\n]*?);VALUE=[^;:\r\n]*", re.I | re.M)


class _Todo(Todo):
    """A VTODO whose unreadable values are noted on it (its `errors`) instead of raised: one
    bad value skips its own task, not the whole file."""

    ignore_exceptions = True


class _Calendar(Calendar):
    """A VCALENDAR whose VTODOs are _Todo: a component factory of its own (icalendar's hook
    for custom components; the library's own stays as it is)."""

    _components_factory = ComponentFactory()


_Calendar._components_factory.add_component_class(_Todo)


def _content_lines(text: str):
    """(line, content) of each content line, unfolded, with the physical line it starts on."""
    current, start = None, 0
    for number, line in enumerate(_LINE_BREAK.split(text), start=1):
        if line[:1] in (" ", "\t") and current is not None:
            current += line[1:]
            continue
        if current is not None:
            yield start, current
        current, start = line, number
    if current is not None:
        yield start, current


def _todo_lines(text: str) -> list[int]:
    """The line of each VTODO's BEGIN, in order; refuses a file nested past MAX_DEPTH, or
    with more VTODOs than one import takes, before the library reads it."""
    depth, found = 0, []
    for number, line in _content_lines(text):
        if _BEGIN.match(line):
            depth += 1
            if depth > MAX_DEPTH:
                raise ImportRefused(f"Line {number}: components nested more than {MAX_DEPTH} deep are not read.")
            if line[6:].strip().upper() == "VTODO":
                found.append(number)
                if len(found) > MAX_RECORDS:
                    raise ImportRefused(f"This file holds more than {MAX_RECORDS:,} tasks: one import takes at "
                                        f"most {MAX_RECORDS:,}. Nothing was imported.")
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
    items = value if isinstance(value, list) else [value]
    # (A CATEGORIES given another VALUE type than text is read as the text of its value.)
    return [str(name) for item in items for name in getattr(item, "cats", None) or [item]]


def _parent(todo) -> str | None:
    value = todo.get("RELATED-TO")
    for item in value if isinstance(value, list) else [value]:
        if item is not None and str(item.params.get("RELTYPE", "PARENT")).upper() == "PARENT":
            return source_key(FORMAT, str(item))
    return None


def read(text: str, tz: str) -> Parsed:
    lines = _todo_lines(text)
    try:
        calendars = _Calendar.from_ical(_CATEGORIES_VALUE.sub(r"\1", text), multiple=True)
    except (ValueError, KeyError, IndexError, TypeError) as error:
        raise ImportRefused(f"This is not a valid iCalendar file ({str(error)[:80]}).") from None
    parsed = Parsed(FORMAT)
    seen = Occurrences()
    todos = [todo for calendar in calendars for todo in calendar.walk("VTODO")]
    if not lines:
        raise ImportRefused("This iCalendar file holds no tasks (VTODO): events and the rest are not imported.")
    if len(todos) != len(lines):  # the library read another structure than the lines show
        raise ImportRefused(f"This file has {len(lines):,} VTODOs by its lines but {len(todos):,} could be read: "
                            "check its line breaks and that each BEGIN has its END.")
    for todo, line in zip(todos, lines, strict=True):
        try:
            record = _record(todo, line, parsed, seen, tz)
        except (ValueError, TypeError, KeyError, OverflowError, AttributeError):
            parsed.skip(line, "This VTODO has a value that cannot be read (a date, a priority or a list).")
            continue
        parsed.add(record)
    return parsed


def _first(todo, name: str):
    """A property's value; of one given several times, the first."""
    value = todo.get(name)
    return value[0] if isinstance(value, list) else value


def _record(todo, line: int, parsed: Parsed, seen: Occurrences, tz: str) -> Record:
    broken = [name for name, _ in todo.errors]
    if "RRULE" in broken:
        parsed.warn(line, "Its RRULE cannot be read: the task does not repeat.")
        todo.pop("RRULE")
        broken.remove("RRULE")
    uid = str(_first(todo, "UID") or "").strip()
    project = str(_first(todo, "X-TASKS-PROJECT") or "").strip()
    description = _first(todo, "DESCRIPTION")
    record = Record(
        line=line, key=source_key(FORMAT, uid) if uid else seen.key(FORMAT, todo.to_ical()),
        title=str(_first(todo, "SUMMARY") or ""), description=str(description) if description is not None else None,
        project=parsed.project(project[:100]) if project else None, parent=_parent(todo),
        priority=_priority(_first(todo, "PRIORITY")) if "PRIORITY" in todo and "PRIORITY" not in broken else "none",
        tags=tags_from(_categories(todo), parsed, line),
        completed=str(_first(todo, "STATUS") or "").upper() == "COMPLETED" or "COMPLETED" in todo,
        mode="completion" if str(_first(todo, "X-TASKS-RECURRENCE-MODE") or "").lower() == "completion" else "due")
    if broken:
        record.problem = f"This VTODO has values that cannot be read: {', '.join(dict.fromkeys(broken))}."
        return record
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
        if not record.rule:
            parsed.warn(line, "Its RRULE is empty: the task does not repeat.")
        if len(rules) > 1:
            parsed.warn(line, "Only the first of several RRULEs is kept.")
    return record


def _instant(value, tz: str) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=zone(tz))
    return None
