"""TickTick's backup CSV: a few preamble lines, then a header row ("Folder Name", "List
Name", "Title", ... "taskId", "parentId") and one row per task.

List Name is the project; Repeat is an RRULE; parentId builds subtasks; dates are
instants ("2030-01-15T08:00:00+0000") read in the task's own time zone for all-day tasks
and in the importing user's for timed ones; Priority 0/1/3/5 is none/low/medium/high;
Status 0 is open, 1 and 2 (completed, archived) are done.
"""
from __future__ import annotations

from datetime import datetime

from ..services.timezones import canonical, zone
from .csvrows import cell, header_index, rows
from .records import ImportRefused, Occurrences, Parsed, Record, source_key, tags_from

FORMAT = "ticktick-csv"
COLUMNS = ("list name", "title")
PRIORITIES = {"": "none", "0": "none", "1": "low", "3": "medium", "5": "high"}
_INSTANT = ("%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M:%S.%f%z", "%Y-%m-%d %H:%M:%S%z")


def is_header(cells: list[str]) -> bool:
    names = {c.strip().lower() for c in cells}
    return all(name in names for name in COLUMNS) and ("taskid" in names or "kind" in names)


def _instant(text: str) -> datetime | None:
    for pattern in _INSTANT:
        try:
            return datetime.strptime(text, pattern)
        except ValueError:
            continue
    return None


def read(text: str, tz: str) -> Parsed:
    parsed = Parsed(FORMAT)
    records = rows(text)
    index = None
    for _, cells in records:
        if is_header(cells):
            index = header_index(cells)
            break
    if index is None:
        raise ImportRefused("This is not a TickTick backup: no header row with List Name, Title and taskId.")
    seen = Occurrences()
    for line, cells in records:
        title = cell(cells, index, "title")
        task_id = cell(cells, index, "taskid")
        project = cell(cells, index, "list name") or None
        priority = cell(cells, index, "priority")
        if priority not in PRIORITIES:
            parsed.warn(line, f"Priority “{priority[:20]}” is not 0, 1, 3 or 5: no priority.")
        status = cell(cells, index, "status")
        record = Record(
            line=line,
            key=source_key(FORMAT, task_id) if task_id else seen.key(FORMAT, project, title, *cells),
            title=title, description=cell(cells, index, "content") or None,
            project=parsed.project(project[:100]) if project else None,
            parent=source_key(FORMAT, cell(cells, index, "parentid")) if cell(cells, index, "parentid") else None,
            priority=PRIORITIES.get(priority, "none"),
            tags=tags_from(cell(cells, index, "tags").split(","), parsed, line),
            completed=status in ("1", "2"),
            completed_at=_instant(cell(cells, index, "completed time")) if status in ("1", "2") else None,
            created_at=_instant(cell(cells, index, "created time")))
        due_text = cell(cells, index, "due date") or cell(cells, index, "start date")
        if due_text:
            due = _instant(due_text)
            if due is None:
                record.problem = f"The due date “{due_text[:40]}” is not a date and time like 2030-01-15T08:00:00+0000."
            else:
                _read_due(record, due, cell(cells, index, "is all day").lower() == "true",
                          cell(cells, index, "timezone"), tz)
        repeat = cell(cells, index, "repeat")
        if repeat:
            record.rule = repeat
        parsed.add(record)
    return parsed


def _read_due(record: Record, due: datetime, all_day: bool, own_zone: str, tz: str) -> None:
    """An all-day task's day in its own time zone; a timed one's day and time in the user's."""
    try:
        local = due.astimezone(zone((canonical(own_zone) or tz) if all_day else tz))
    except (OverflowError, ValueError):
        record.problem = f"The due date {due.isoformat()} is out of range."
        return
    record.due_date = local.date()
    if not all_day:
        record.due_time = local.time().replace(second=0, microsecond=0)
