"""What every importer hands on: plain records, the lines it skipped and what it noticed.

Values are this app's own (a priority word, dates and times, tags as their source spelled
them); the service checks each record against the rules every task obeys.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time

from ..services.validation import TAG_MAX

MAX_RECORDS = 50_000  # one import's tasks (a file past it is refused as soon as it is seen)
_NOT_TAG = re.compile(r"[^a-z0-9_-]+")
_PLAIN_ID = re.compile(r"[\x21-\x7e]{1,100}")  # visible ASCII: kept as it is in the key


class ImportRefused(Exception):
    """The file as a whole cannot be read (not text, not the format, over a limit): str() says
    why, in words for the person who sent it."""


@dataclass
class Record:
    line: int  # the physical line of the file on which the record starts (1 = the first)
    key: str  # the source's id of it, or its content and place (importing again finds it)
    title: str
    description: str | None = None
    project: str | None = None  # a project's name; none: the Inbox (or the parent's)
    parent: str | None = None  # the parent record's key
    due_date: date | None = None
    due_time: time | None = None
    rule: str | None = None  # an RRULE as the source wrote it
    mode: str = "due"
    priority: str = "none"
    tags: list[str] = field(default_factory=list)
    completed: bool = False
    completed_at: datetime | None = None
    created_at: datetime | None = None
    completions: list[tuple[date, datetime]] = field(default_factory=list)  # (due date, completed at)
    # Why the record cannot be imported (a malformed date, say): skipped with this reason,
    # but known, so that its subtasks go under its parent.
    problem: str | None = None


@dataclass
class ProjectSpec:
    name: str
    color: str = "grey"
    archived: bool = False


@dataclass
class Parsed:
    format: str
    records: list[Record] = field(default_factory=list)
    projects: list[ProjectSpec] = field(default_factory=list)  # those the file names, in its order
    skipped: list[tuple[int, str]] = field(default_factory=list)  # (line, reason)
    warnings: list[tuple[int, str]] = field(default_factory=list)  # (line, message)
    mapping: dict[str, str | None] | None = None  # a CSV's columns -> the fields they fill
    _named: set[str] = field(default_factory=set)

    def add(self, record: Record) -> None:
        if len(self.records) >= MAX_RECORDS:
            raise ImportRefused(f"This file holds more than {MAX_RECORDS:,} tasks: one import takes at most "
                                f"{MAX_RECORDS:,}. Nothing was imported.")
        self.records.append(record)

    def skip(self, line: int, reason: str) -> None:
        self.skipped.append((line, reason))

    def warn(self, line: int, message: str) -> None:
        self.warnings.append((line, message))

    def project(self, name: str, color: str = "grey", archived: bool = False) -> str:
        """Name a project the records use (once per spelling, in the order the file first names
        it; spellings that differ only in case are one project, which the service finds out
        as PostgreSQL compares them)."""
        if name not in self._named:
            self._named.add(name)
            self.projects.append(ProjectSpec(name, color, archived))
        return name


def source_key(source: str, source_id: str) -> str:
    """A record's key from its source's id: the id itself when short and plain, else its
    digest (a key is at most 200 characters, and any id must stay one key)."""
    return f"{source}:{source_id}" if _PLAIN_ID.fullmatch(source_id) else content_key(source, "id", source_id)


def content_key(source: str, *parts: object) -> str:
    """A key for a record whose source has no ids: a digest of its content and place."""
    digest = hashlib.sha256("\x1f".join(map(str, parts)).encode("utf-8", "surrogatepass")).hexdigest()
    return f"{source}:{digest[:40]}"


class Occurrences:
    """Counts records of the same content and place, so that two identical lines of a file
    stay two tasks (each its own key) and the file imported again finds both."""

    def __init__(self):
        self._seen: dict[tuple, int] = {}

    def key(self, source: str, *parts: object) -> str:
        nth = self._seen[parts] = self._seen.get(parts, 0) + 1
        return content_key(source, *parts, nth)


def tags_from(names, parsed: Parsed, line: int) -> list[str]:
    """Tags as this app spells them (lower case, '-' for spaces, letters, digits, '-', '_');
    a name that leaves nothing, or over 32 characters, is left out with a warning."""
    tags = []
    for name in names:
        name = name.strip()
        if not name:
            continue
        tag = _NOT_TAG.sub("", "-".join(name.lower().split()))
        if not tag or len(tag) > TAG_MAX:
            parsed.warn(line, f"The tag “{name[:40]}” cannot be a tag here (1 to 32 letters, digits, '-' or '_'): "
                              "left out.")
        elif tag not in tags:
            tags.append(tag)
    return tags
