"""Quick add: one line, Todoist style, read into a task's fields.

`Pay rent every month on the 1st #Home @bills p1`: a recurrence phrase (services/phrases.py),
`#Project` or `#"Two words"` (one of the user's projects, by name regardless of case),
`@tag`, `p1`-`p4`, a date, a time. What is recognised leaves the title; the rest, with its
spaces collapsed, is the title. Text in double quotes is taken literally, and a token counts
only as a whole word (`p1zza` and `bob@example.com` stay title text). Dates are judged at the
user's wall-clock `now`. Every part found is answered with its place in the line, in code
points, so that the page can highlight it.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from itertools import islice

from . import idempotency, phrases, projects, scheduling, tasks
from .operations import operation
from .recurrence import MONTH_NAMES, Rule, RuleError
from .timezones import now_in, today_in
from .validation import QuickLine, Recurrence
from .validation import parse as parse_input

PRIORITIES = {"1": "high", "2": "medium", "3": "low", "4": "none"}
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_MONTHS = {name: n + 1 for n, full in enumerate(MONTH_NAMES) for name in (full.lower(), full.lower()[:3])}
_MONTHS["sept"] = 9
_MONTH = "|".join(sorted(_MONTHS, key=len, reverse=True))
# A token starts at the line's start or after a space, and ends before a space or the end.
_START, _END = r"(?<!\S)", r"(?!\S)"
_QUOTED = re.compile(r'"[^"]*"')
_PROJECT = re.compile(_START + r'#(?:"([^"]+)"|(\S+))' + _END)
_TAG = re.compile(_START + r"@([A-Za-z0-9_-]{1,32})" + _END)
_PRIORITY = re.compile(_START + r"[pP]([1-4])" + _END)
_DATES = (
    ("relative", re.compile(_START + r"(today|tomorrow|tonight)" + _END, re.I)),
    ("next_week", re.compile(_START + r"next\s+week" + _END, re.I)),
    ("weekday", re.compile(_START + r"(?:on\s+)?(" + "|".join(_WEEKDAYS) + r")" + _END, re.I)),
    ("in", re.compile(_START + r"in\s+(\d{1,3})\s+(day|week|month)s?" + _END, re.I)),
    ("iso", re.compile(_START + r"(?:on\s+)?(\d{4})-(\d{2})-(\d{2})" + _END)),
    # With a year or without (then the next such day).
    ("month_day", re.compile(_START + r"(?:on\s+)?(" + _MONTH + r")\.?\s+(\d{1,2})(?:st|nd|rd|th)?(?:,?\s+(\d{4}))?"
                             + _END, re.I)),
    ("day_month", re.compile(_START + r"(?:on\s+)?(\d{1,2})(?:st|nd|rd|th)?\s+(" + _MONTH + r")\.?(?:,?\s+(\d{4}))?"
                             + _END, re.I)),
    ("month_day_of", re.compile(_START + r"on\s+the\s+(\d{1,2})(?:st|nd|rd|th)" + _END, re.I)),
)
_TIMES = re.compile(_START + r"(?:at\s+)?(?:(noon|midnight)|(\d{1,2})(?::(\d{2}))?\s*(am|pm)|(\d{1,2}):(\d{2}))" + _END,
                    re.I)
_PHRASE_START = re.compile(_START + r"(every!?|after|daily|weekly|monthly|yearly|annually)" + _END, re.I)
_MAX_PHRASE_WORDS = 24
LINE_MAX = 1000  # longer text is no line to read (QuickLine refuses it; the page takes it as a title)


@dataclass(frozen=True)
class Part:
    start: int
    end: int
    kind: str  # project, tag, priority, date, time, recurrence


@dataclass
class QuickTask:
    title: str
    project_id: object = None
    tags: list[str] = field(default_factory=list)
    priority: str = "none"
    due_date: date | None = None
    due_time: time | None = None
    recurrence: tuple[Rule, str] | None = None  # (rule, mode)
    parts: list[Part] = field(default_factory=list)
    unknown_projects: list[str] = field(default_factory=list)


class _Line:
    """The line, with the spans already recognised, and the quoted ones (never read)."""

    def __init__(self, text: str):
        self.text = text
        # (A quoted name after "#" is a project's: #"Two words".)
        self.quoted = [(m.start(), m.end()) for m in _QUOTED.finditer(text) if not text[:m.start()].endswith("#")]
        self.recognised: list[tuple[int, int]] = []

    def free(self, start: int, end: int) -> bool:
        return all(end <= a or start >= b for a, b in (*self.quoted, *self.recognised))

    def take(self, start: int, end: int) -> None:
        self.recognised.append((start, end))

    def matches(self, pattern: re.Pattern):
        return (match for match in pattern.finditer(self.text) if self.free(match.start(), match.end()))

    def rest(self) -> str:
        """The line without what was recognised, spaces collapsed: the title."""
        kept = list(self.text)
        for start, end in self.recognised:
            kept[start:end] = " " * (end - start)
        return " ".join("".join(kept).split())


def _phrase(line: _Line) -> tuple[int, int, Rule, str] | None:
    """The longest recurrence phrase starting at a word of the line (the first such word)."""
    for start_match in line.matches(_PHRASE_START):
        words = list(islice(re.finditer(r"\S+", line.text[start_match.start():]), _MAX_PHRASE_WORDS))
        for count in range(len(words), 0, -1):
            end = start_match.start() + words[count - 1].end()
            if not line.free(start_match.start(), end):
                continue
            try:
                rule, mode = phrases.parse_phrase(line.text[start_match.start():end])
            except RuleError:
                continue
            return start_match.start(), end, rule, mode
    return None


def _month_day(month: int, day: int, today: date) -> date | None:
    """The next such date, today included (Feb 29: the next leap year's)."""
    for year in range(today.year, today.year + 9):
        try:
            found = date(year, month, day)
        except ValueError:
            continue
        if found >= today:
            return found
    return None


def _date(kind: str, match: re.Match, today: date) -> date | None:
    if kind == "relative":
        return today + timedelta(days=0 if match[1].lower() in ("today", "tonight") else 1)
    if kind == "next_week":
        return today + timedelta(days=7 - today.weekday())
    if kind == "weekday":
        return today + timedelta(days=(_WEEKDAYS.index(match[1].lower()) - today.weekday()) % 7)
    if kind == "in":
        n, unit = int(match[1]), match[2].lower()
        if unit == "day":
            return today + timedelta(days=n)
        if unit == "week":
            return today + timedelta(weeks=n)
        month = today.year * 12 + today.month - 1 + n
        year, month = divmod(month, 12)
        for day in range(today.day, 27, -1):  # the same day, or the month's last
            try:
                return date(year, month + 1, day)
            except ValueError:
                continue
        return date(year, month + 1, today.day)
    if kind == "iso":
        try:
            return date(int(match[1]), int(match[2]), int(match[3]))
        except ValueError:
            return None
    if kind in ("month_day", "day_month"):
        month, day = (match[1], match[2]) if kind == "month_day" else (match[2], match[1])
        if match[3] is None:
            return _month_day(_MONTHS[month.lower()], int(day), today)
        try:
            return date(int(match[3]), _MONTHS[month.lower()], int(day))
        except ValueError:
            return None
    day = int(match[1])  # on the 15th: this month's, or next month's once passed
    for months in range(0, 3):
        month = today.year * 12 + today.month - 1 + months
        try:
            found = date(month // 12, month % 12 + 1, day)
        except ValueError:
            continue
        if found >= today:
            return found
    return None


def _time(match: re.Match) -> time | None:
    if match[1]:
        return time(12, 0) if match[1].lower() == "noon" else time(0, 0)
    if match[4]:
        hour, minute = int(match[2]), int(match[3] or 0)
        if not 1 <= hour <= 12 or minute > 59:
            return None
        return time(hour % 12 + (12 if match[4].lower() == "pm" else 0), minute)
    hour, minute = int(match[5]), int(match[6])
    return time(hour, minute) if hour <= 23 and minute <= 59 else None


def parse_line(text: str, projects: list[tuple[object, str]], now: datetime) -> QuickTask:
    """What the line means. `projects`: the user's (id, name); `now`: their wall clock."""
    if len(text) > LINE_MAX:
        return QuickTask(title=" ".join(text.split()))
    found = _recognise(text, projects, now)
    if not found.title:  # nothing left to name the task: the line is its title, as typed
        return QuickTask(title=" ".join(text.split()), unknown_projects=found.unknown_projects)
    return found


def parse_when(text: str, now: datetime) -> QuickTask | None:
    """Date text alone, as other apps keep a due date ("every monday at 9am", "Jan 20 2030"):
    its date, time and recurrence; None when any of it is not understood."""
    if len(text) > LINE_MAX:
        return None
    found = _recognise(text, [], now)
    return None if found.title or found.tags or found.priority != "none" else found


def _recognise(text: str, projects: list[tuple[object, str]], now: datetime) -> QuickTask:
    """The parts of the line it recognises; the title is what is left (maybe nothing)."""
    line = _Line(text)
    found = QuickTask(title="")
    parts = found.parts
    phrase = _phrase(line)
    if phrase is not None:
        start, end, rule, mode = phrase
        line.take(start, end)
        found.recurrence = (rule, mode)
        parts.append(Part(start, end, "recurrence"))
    by_name = {name.lower(): project_id for project_id, name in projects}
    for match in line.matches(_PROJECT):
        name = match[1] or match[2]
        if found.project_id is None and name.lower() in by_name:
            found.project_id = by_name[name.lower()]
            line.take(match.start(), match.end())
            parts.append(Part(match.start(), match.end(), "project"))
        elif name.lower() not in by_name:
            found.unknown_projects.append(name)
    for match in line.matches(_TAG):
        line.take(match.start(), match.end())
        if match[1].lower() not in found.tags:
            found.tags.append(match[1].lower())
        parts.append(Part(match.start(), match.end(), "tag"))
    for match in line.matches(_PRIORITY):
        line.take(match.start(), match.end())
        found.priority = PRIORITIES[match[1]]
        parts.append(Part(match.start(), match.end(), "priority"))
        break
    today = now.date()
    dates = sorted(((match.start(), kind, match) for kind, pattern in _DATES for match in line.matches(pattern)),
                   key=lambda item: item[0])
    for _, kind, match in dates:
        day = _date(kind, match, today)
        if day is not None and line.free(match.start(), match.end()):
            found.due_date = day
            line.take(match.start(), match.end())
            parts.append(Part(match.start(), match.end(), "date"))
            break
    for match in line.matches(_TIMES):
        at = _time(match)
        if at is not None:
            found.due_time = at
            line.take(match.start(), match.end())
            parts.append(Part(match.start(), match.end(), "time"))
            break
    if found.due_time is not None and found.due_date is None and found.recurrence is None:
        # A time alone: today, or tomorrow once that time has passed.
        found.due_date = today if found.due_time > now.time() else today + timedelta(days=1)
    found.title = line.rest()
    parts.sort(key=lambda part: part.start)
    return found


# ---------------------------------------------------------------------------------------
# The service: a user's line, read against their projects, in their time zone

def _text(body: object) -> str:
    return parse_input(QuickLine, body).text


def _read(user_id, text: str, tz: str) -> tuple[QuickTask, dict]:
    """The line's parts, and the task it means as create_task takes it."""
    shown = [(p.id, p.name) for p in projects.list_projects(user_id) if not p.archived]
    quick = parse_line(text, shown, now_in(tz))
    data = {"title": quick.title, "project_id": str(quick.project_id) if quick.project_id else None,
            "tags": quick.tags, "priority": quick.priority,
            "due_date": quick.due_date.isoformat() if quick.due_date else None,
            "due_time": quick.due_time.strftime("%H:%M") if quick.due_time else None,
            "recurrence": {"rule": str(quick.recurrence[0]), "mode": quick.recurrence[1]} if quick.recurrence
            else None}
    return quick, data


@operation("task.parse")
def parse(user_id, body: object, tz: str = "UTC") -> dict:
    """What the line ({"text": ...}) means, as the API answers it; nothing is written (nor
    checked beyond the line itself: a title too long for a task is said as it is)."""
    quick, data = _read(user_id, _text(body), tz)
    due_date, recurrence = quick.due_date, None
    if quick.recurrence:
        rule, mode = quick.recurrence
        schedule = scheduling.columns(Recurrence(rule=str(rule), mode=mode), due_date, quick.due_time,
                                      today_in(tz))
        due_date = schedule["due_date"]
        recurrence = {"rule": schedule["recurrence_rule"], "mode": mode,
                      "text": scheduling.describe(schedule["recurrence_rule"], mode)}
    return {**data, "due_date": due_date, "recurrence": recurrence,
            "parts": [{"start": p.start, "end": p.end, "kind": p.kind} for p in quick.parts],
            "unknown_projects": quick.unknown_projects}


def create(user_id, body: object, tz: str = "UTC", key: str | None = None):
    """The task the line ({"text": ...}) means (tasks.create_task), once per Idempotency-Key and text."""
    text = _text(body)
    _, data = _read(user_id, text, tz)
    if key is None:
        return idempotency.Created(tasks.create_task(user_id, data, tz), replayed=False)
    return idempotency.create_task_once(user_id, key, data, tz, request=f"quick add: {text}")


def with_line(user_id, values: dict, tz: str = "UTC") -> tuple[dict, QuickTask | None]:
    """A form's fields with its title read as a quick-add line: what the line says fills the
    fields left empty (the detailed fields, where filled, win; tags add up)."""
    if not isinstance(values.get("title"), str) or not values["title"].strip() or len(values["title"]) > LINE_MAX:
        return values, None  # (too long to be a line: the title's own check refuses it)
    quick, data = _read(user_id, values["title"], tz)
    merged = {**values, "title": data["title"]}
    for name in ("project_id", "due_date", "due_time", "recurrence"):
        if not merged.get(name) and data[name]:
            merged[name] = data[name]
    if merged.get("priority", "none") == "none":
        merged["priority"] = data["priority"]
    merged["tags"] = list(dict.fromkeys([*(merged.get("tags") or []), *data["tags"]]))
    return merged, quick
