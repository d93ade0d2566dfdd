"""Exports written out of the records services/export.py reads: JSON, CSV and iCalendar,
each a stream of text, never the whole export in memory at once.

JSON is this app's own format (what `json` imports read back), one project or task per
line; CSV is one row per task, for spreadsheets (text a spreadsheet would run as a
formula starts with an apostrophe); iCalendar has a VTODO per task.
"""
from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime

import orjson
from icalendar import Timezone, Todo

from .serializers import project_to_json, task_to_json, token_to_json, user_to_json
from .services.calendar_feed import due_start, rrule_of
from .services.timezones import zone

CSV_COLUMNS = ("id", "title", "description", "project", "parent_id", "due_date", "due_time", "recurrence_rule",
               "recurrence_mode", "priority", "tags", "completed", "completed_at", "created_at")
ICS_PRIORITIES = {"high": 1, "medium": 5, "low": 9, "none": 0}
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


_SECTIONS = ("project", "task", "token")


def export_task_json(task, completions) -> dict:
    """A task as the export holds it: as the API shows it, with its completed occurrences."""
    return {**task_to_json(task), "completions": [
        {"due_date": c.due_date, "completed_at": c.completed_at} for c in completions]}


_SERIALIZERS = {"project": project_to_json, "task": export_task_json, "token": token_to_json}


def json_chunks(records: Iterable[tuple]) -> Iterator[bytes]:
    """{"exported_at", "user", "projects", "tasks", "tokens"}, a line per project and task."""
    opened, first = -1, True  # the last section opened; whether it has no item yet

    def opening(section: int) -> Iterator[bytes]:
        """The sections up to this one opened (the one before closed): each is written, empty or not."""
        nonlocal opened, first
        while opened < section:
            opened, first = opened + 1, True
            yield (b"\n]" if opened else b"") + b',\n"' + _SECTIONS[opened].encode() + b's": ['

    for kind, *values in records:
        if kind == "user":
            yield b'{"exported_at": ' + orjson.dumps(datetime.now(UTC)) + b',\n"user": ' + \
                orjson.dumps(user_to_json(*values))
            continue
        yield from opening(_SECTIONS.index(kind))
        yield (b"\n" if first else b",\n") + orjson.dumps(_SERIALIZERS[kind](*values))
        first = False
    yield from opening(len(_SECTIONS) - 1)
    yield b"\n]}\n"


def guard_formula(value: str) -> str:
    """Text a spreadsheet would run (=, +, -, @ first) starts with an apostrophe instead."""
    return f"'{value}" if value.startswith(_FORMULA_START) else value


def csv_chunks(records: Iterable[tuple]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    projects: dict = {}
    for record in records:
        if record[0] == "project":
            projects[record[1].id] = record[1].name
        elif record[0] == "task":
            task = record[1]
            writer.writerow([
                task.id, guard_formula(task.title), guard_formula(task.description or ""),
                guard_formula(projects.get(task.project_id, "")), task.parent_id or "", task.due_date or "",
                task.due_time or "", task.recurrence_rule or "", task.recurrence_mode or "", task.priority,
                guard_formula(" ".join(task.tags)), "yes" if task.completed else "no",
                task.completed_at.isoformat() if task.completed_at else "", task.created_at.isoformat()])
            if buffer.tell() > 64 * 1024:
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
    yield buffer.getvalue()


def ics_chunks(records: Iterable[tuple], tz: str) -> Iterator[bytes]:
    """A VCALENDAR of VTODOs: the project in X-TASKS-PROJECT, a schedule counted from
    completion in X-TASKS-RECURRENCE-MODE (iCalendar has no word for it)."""
    place = zone(tz)
    # Times in UTC are written as such (…Z); any other zone is described once, up to 2100.
    described = b"" if place.key == "UTC" else Timezone.from_tzid(place.key, last_date=date(2100, 1, 1)).to_ical()
    yield b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Tasks//Export//EN\r\nX-WR-CALNAME:Tasks\r\n" + described
    projects: dict = {}
    for record in records:
        if record[0] == "project":
            projects[record[1].id] = record[1].name
        elif record[0] == "task":
            yield _todo(record[1], projects, place).to_ical()
    yield b"END:VCALENDAR\r\n"


def _todo(task, projects: dict, place) -> Todo:
    todo = Todo()
    todo.add("uid", str(task.id))
    todo.add("dtstamp", task.updated_at)
    todo.add("created", task.created_at)
    todo.add("last-modified", task.updated_at)
    todo.add("summary", task.title)
    if task.description:
        todo.add("description", task.description)
    todo.add("priority", ICS_PRIORITIES[task.priority])
    todo.add("status", "COMPLETED" if task.completed else "NEEDS-ACTION")
    if task.completed_at:
        todo.add("completed", task.completed_at)
    if task.tags:
        todo.add("categories", task.tags)
    if task.parent_id:
        todo.add("related-to", str(task.parent_id), parameters={"RELTYPE": "PARENT"})
    todo.add("x-tasks-project", projects.get(task.project_id, ""))
    if task.due_date:
        todo.add("due", due_start(task, place))
    if task.recurrence_rule:
        todo.add("rrule", rrule_of(task, place))
        todo.add("x-tasks-recurrence-mode", task.recurrence_mode)
    return todo
