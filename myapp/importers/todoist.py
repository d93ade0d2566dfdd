"""Todoist's project CSV (a template or a backup's file): TYPE, CONTENT, DESCRIPTION,
PRIORITY, INDENT, AUTHOR, RESPONSIBLE, DATE, DATE_LANG, TIMEZONE, ...

`@labels` in CONTENT become tags; INDENT builds subtasks; DATE is Todoist's own text
("every monday at 9am", "Jan 20 2030"), read by the quick-add parser; PRIORITY is
numbered as Todoist's CSV documentation numbers it (1 = p1 = high ... 4 = p4 = none);
a `note` row adds to the description of the task above it; a `section` row becomes a tag
on the tasks below it; the file's name is the project.
"""
from __future__ import annotations

import re
from datetime import datetime

from ..services import quickadd
from ..services.quickadd import parse_when
from .csvrows import cell, header_index, rows
from .records import ImportRefused, Occurrences, Parsed, Record, tags_from

FORMAT = "todoist-csv"
COLUMNS = ("type", "content", "indent")
PRIORITIES = {"": "none", **quickadd.PRIORITIES}  # p1 (high) to p4, as quick add reads them
_LABEL = re.compile(r"(?<!\S)@(\S+)")
_PROJECT_FILE = re.compile(r"\s*\[[^\]]*\]\s*$")  # "Home [2026-11-27].csv": the backup's date


def project_name(filename: str) -> str:
    stem = re.sub(r"\.csv$", "", filename.rsplit("/", 1)[-1].rsplit("\\", 1)[-1], flags=re.I)
    return " ".join(_PROJECT_FILE.sub("", stem).split())[:100] or "Todoist"


def read(text: str, filename: str, now: datetime) -> Parsed:
    parsed = Parsed(FORMAT)
    records = rows(text)
    header = next(records, None)
    index = header_index(header[1]) if header else {}
    if not all(name in index for name in COLUMNS):
        raise ImportRefused("This is not a Todoist CSV: its header has no TYPE, CONTENT and INDENT columns.")
    project = parsed.project(project_name(filename))
    seen = Occurrences()
    levels: list[str] = []  # the keys of the open task at each indent, 1 first
    section, last = None, None
    for line, cells in records:
        kind = cell(cells, index, "type").lower()
        content = cell(cells, index, "content")
        if kind == "section":
            section = tags_from([content], parsed, line) if content else []
            levels, last = [], None
            continue
        if kind == "note":
            if last is None:
                parsed.skip(line, "A note with no task above it.")
            elif content:
                last.description = f"{last.description}\n\n{content}" if last.description else content
            continue
        if kind != "task":
            continue  # meta rows (the view's style) and anything newer: nothing to import
        indent_text = cell(cells, index, "indent") or "1"
        if not (indent_text.isascii() and indent_text.isdigit()) or not 1 <= int(indent_text) <= 99:
            parsed.skip(line, f"INDENT must be a whole number from 1, not “{indent_text[:20]}”.")
            continue
        indent = min(int(indent_text), len(levels) + 1)  # an indent past the one above: one level down
        parent = levels[indent - 2] if indent > 1 else None
        priority = cell(cells, index, "priority")
        if priority not in PRIORITIES:
            parsed.warn(line, f"PRIORITY “{priority[:20]}” is not 1 to 4: no priority.")
        labels = _LABEL.findall(content)
        record = Record(
            line=line,
            key=seen.key(FORMAT, project, parent, content, cell(cells, index, "description"), priority,
                         cell(cells, index, "date")),
            title=" ".join(_LABEL.sub(" ", content).split()) or content,
            description=cell(cells, index, "description") or None,
            project=project, parent=parent, priority=PRIORITIES.get(priority, "none"),
            tags=[*(section or []), *tags_from(labels, parsed, line)])
        _read_date(record, cells, index, parsed, now)
        parsed.add(record)
        levels = [*levels[:indent - 1], record.key]
        last = record
    return parsed


def _read_date(record: Record, cells: list[str], index: dict[str, int], parsed: Parsed, now: datetime) -> None:
    text = cell(cells, index, "date")
    if not text:
        return
    language = cell(cells, index, "date_lang").lower()
    when = parse_when(text, now) if language in ("", "en") else None
    if when is None:
        parsed.warn(record.line, f"The date “{text[:60]}” is not understood here: the task has no date.")
        return
    record.due_date, record.due_time = when.due_date, when.due_time
    if when.recurrence is not None:
        rule, record.mode = when.recurrence
        record.rule = str(rule)
