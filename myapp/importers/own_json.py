"""This app's own JSON export: projects, tasks (with their parents, recurrence and
completions). Older exports, with the completions in one list beside the tasks, read too."""
from __future__ import annotations

import re
from datetime import date, datetime, time
from typing import Any

import orjson

from ..models import COLORS, PRIORITIES
from .records import ImportRefused, Parsed, Record, source_key

FORMAT = "json"
_TASK_ID = re.compile(r'"id"\s*:\s*"([^"\\]{1,200})"')  # (an id with escapes in it: its line is not found)
_TIME = re.compile(r"[0-2][0-9]:[0-5][0-9](:[0-5][0-9])?")
NOT_EXPORT = "This JSON is not an export of this app: it needs a list of tasks under \"tasks\" (and lists, if any, " \
             "under \"projects\" and \"completions\")."


def _lines(text: str) -> dict[str, int]:
    """Each object's id -> the line its object starts on: the "{" before its "id" (which an
    export writes first; in this app's own export, a task's whole line)."""
    lines, line, last = {}, 1, 0
    for match in _TASK_ID.finditer(text):
        start = max(text.rfind("{", last, match.start()), last)
        line += text.count("\n", last, start)
        last = start
        lines.setdefault(match[1].lower(), line)
    return lines


def _wall_time(text: str) -> time:
    """HH:MM (or HH:MM:SS) as the export writes a due time: a wall clock, with no zone."""
    if not _TIME.fullmatch(text):
        raise ValueError(text)
    return time.fromisoformat(text)


def _parse(value: Any, convert) -> Any:
    """A text value converted (a date, a time), or None; any other type is malformed."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError
    return convert(value)


def read(text: str) -> Parsed:
    try:
        document = orjson.loads(text)
    except orjson.JSONDecodeError as error:
        raise ImportRefused(f"This is not valid JSON ({str(error).split(':')[0]}).") from None
    if not isinstance(document, dict) or not isinstance(document.get("tasks"), list) or not all(
            isinstance(document.get(name) or [], list) for name in ("projects", "completions")):
        raise ImportRefused(NOT_EXPORT)
    parsed = Parsed(FORMAT)
    lines = _lines(text)
    names: dict[str, str] = {}
    for project in document.get("projects") or []:
        if isinstance(project, dict) and isinstance(project.get("id"), str) and isinstance(project.get("name"), str):
            color = project.get("color") if project.get("color") in COLORS else "grey"
            names[project["id"].lower()] = parsed.project(project["name"][:100], color, project.get("archived") is True)
    completions: dict[str, list] = {}
    for item in document.get("completions") or []:  # the older exports' one list
        if isinstance(item, dict) and isinstance(item.get("task_id"), str):
            completions.setdefault(item["task_id"].lower(), []).append(item)
    for task in document["tasks"]:
        if not isinstance(task, dict) or not isinstance(task.get("id"), str):
            parsed.skip(1, "A task without an id: its line is unknown.")
            continue
        task_id = task["id"].lower()
        line = lines.get(task_id, 1)
        try:
            record = _record(task, task_id, line, names, completions.get(task_id, []))
        except (ValueError, TypeError, KeyError):
            parsed.skip(line, "This task's fields are not those of an export (a date, a time or a list is malformed).")
            continue
        parsed.add(record)
    return parsed


def _record(task: dict, task_id: str, line: int, names: dict[str, str], older: list) -> Record:
    title = task["title"]
    if not isinstance(title, str):
        raise ValueError
    description = task.get("description")
    tags = task.get("tags") or []
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags) or not (
            description is None or isinstance(description, str)):
        raise ValueError
    recurrence = task.get("recurrence")
    if recurrence is not None and not (isinstance(recurrence, dict) and all(
            isinstance(recurrence.get(name), str | None) for name in ("rule", "mode"))):
        raise ValueError
    project_id = task.get("project_id")
    parent_id = task.get("parent_id")
    completions = []
    for item in [*(task.get("completions") or []), *older]:
        completions.append((date.fromisoformat(item["due_date"]), datetime.fromisoformat(item["completed_at"])))
    due_time = _parse(task.get("due_time"), _wall_time)
    return Record(
        line=line, key=source_key(FORMAT, task_id), title=title, description=description,
        project=names.get(project_id.lower()) if isinstance(project_id, str) else None,
        parent=source_key(FORMAT, parent_id.lower()) if isinstance(parent_id, str) else None,
        due_date=_parse(task.get("due_date"), date.fromisoformat),
        due_time=due_time.replace(second=0, microsecond=0) if due_time else None,
        rule=recurrence.get("rule") if recurrence else None,
        mode=(recurrence.get("mode") or "due") if recurrence else "due",
        priority=task.get("priority") if task.get("priority") in PRIORITIES else "none",
        tags=tags, completed=task.get("completed") is True,
        completed_at=_parse(task.get("completed_at"), datetime.fromisoformat),
        created_at=_parse(task.get("created_at"), datetime.fromisoformat),
        completions=completions)
