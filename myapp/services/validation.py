"""Input models: every rule on task input, stated once.

Pages and API both hand raw values to the services, which validate them here, so
both reject exactly the same things with the same messages. The same models give
the JSON Schemas of the OpenAPI document, so each rule is stated where it is enforced.
"""
from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, time
from typing import Annotated, Any, Literal

import pydantic
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema

from ..errors import NotFound, ValidationError

TITLE_MAX = 255
DESCRIPTION_MAX = 10_000
TAGS_MAX = 10
TAG_MAX = 32
QUERY_MAX = 200
LIMIT_MAX = 200
LIMIT_DEFAULT = 50
# A cursor carries the sort keys of a row: for the title sort, up to 255 characters of
# up to 4 UTF-8 bytes each, base64-encoded (see services/cursor.py).
CURSOR_MAX = 4096
VERSION_MAX = 2**31 - 1  # tasks.version is an integer column

# Whitespace: Unicode's White_Space characters (U+0085 NEL among them) and U+FEFF, which
# ECMAScript's \s adds. "Not blank" means the same here, in the OpenAPI document's
# patterns and in the database's CHECK on titles (models.Task, which spells it in SQL).
WHITESPACE = " \t\n\v\f\r\u0085\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009" \
             "\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
NO_NUL = r"^[^\u0000]*$"
# Not blank: one character that is neither NUL nor whitespace. The whitespace is spelled
# out because \s differs between regex engines (Rust's, pydantic's, has U+0085 and lacks
# U+FEFF; ECMAScript's, the JSON Schema one, is the reverse).
TITLE_PATTERN = "^[^\\u0000]*[^\\u0000" + "".join(f"\\u{ord(c):04x}" for c in WHITESPACE) + "][^\\u0000]*$"
TAG_PATTERN = r"^ *[A-Za-z0-9_-]{1,32} *$"
DATE_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
_DATE = re.compile(DATE_PATTERN)
TIME_PATTERN = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"
_TIME = re.compile(TIME_PATTERN)
TIME_RULE = "Use a time like 09:30 (HH:MM, 24-hour)."
TAG_RULE = f"Each tag must be 1 to {TAG_MAX} letters, digits, '-' or '_'."
LIMIT_RULE = f"Use a whole number from 1 to {LIMIT_MAX}."
# A project or task that is not the caller's reads exactly as one that does not exist.
PROJECT_NOT_FOUND = "Project not found."
TASK_NOT_FOUND = "Task not found."

PROJECT_NAME_MAX = 100
UUID_PATTERN = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
_UUID = re.compile(UUID_PATTERN)

Priority = Literal["none", "low", "medium", "high"]
Color = Literal["grey", "red", "orange", "yellow", "green", "teal", "blue", "purple", "pink"]
Status = Literal["all", "active", "completed", "overdue", "today", "upcoming"]
Sort = Literal["newest", "oldest", "due", "priority", "title"]


def _text(value: Any) -> Any:
    """Strings only, with no NUL (PostgreSQL cannot store it) and no lone surrogates."""
    if isinstance(value, str):
        if "\x00" in value:
            raise ValueError("Must not contain NUL characters.")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError("Must be valid Unicode text.") from None
    return value


def _title(value: str) -> str:
    return value.strip(WHITESPACE)


def _description(value: str | None) -> str | None:
    return value if value is not None and value.strip(WHITESPACE) else None


def _tag(value: str) -> str:
    return value.strip(" ").lower()


def _tags(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values))  # drop repeats, keep order


def _whole_number(value: Any) -> Any:
    """Query-string digits only: no sign, spaces, decimals or underscores (which int() takes)."""
    if isinstance(value, str):
        if not (value.isascii() and value.isdigit()) or len(value) > 9:  # int() of huge text is slow
            raise ValueError(LIMIT_RULE)
        return int(value)
    return value


def _date(value: Any) -> Any:
    """YYYY-MM-DD strings (or dates) only: no timestamps, no other ISO forms."""
    if isinstance(value, str):
        if not _DATE.match(value):
            raise ValueError("Use a date like 2026-12-31 (YYYY-MM-DD).")
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise ValueError("That date does not exist.") from None
    if value is None or type(value) is date:
        return value
    raise ValueError("Use a date like 2026-12-31 (YYYY-MM-DD).")


def _time(value: Any) -> Any:
    """HH:MM strings (or times) only."""
    if isinstance(value, str):
        if not _TIME.match(value):
            raise ValueError(TIME_RULE)
        return time.fromisoformat(value)
    if value is None or (type(value) is time and value.tzinfo is None):  # a wall-clock time, no zone
        return value
    raise ValueError(TIME_RULE)


def existing_id(value: Any, not_found: str) -> uuid.UUID:
    """The id of a row the caller names in a path: a malformed one is simply a row that
    does not exist (NotFound with this message)."""
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise NotFound(not_found) from None


def _id(value: Any) -> Any:
    """A UUID in its usual text form (or a UUID): anything else names nothing that exists."""
    if isinstance(value, uuid.UUID):
        return value
    if isinstance(value, str) and _UUID.match(value):
        return uuid.UUID(value)
    raise ValueError("Not found.")  # worded per field in MESSAGES


# Constraints (Field) come first, so that pydantic checks them on the value as sent and
# they appear in the JSON Schema; _text runs before them, the normalising validators after.
Title = Annotated[str, Field(max_length=TITLE_MAX, pattern=TITLE_PATTERN),
                  BeforeValidator(_text), AfterValidator(_title)]
Description = Annotated[Annotated[str, Field(max_length=DESCRIPTION_MAX, pattern=NO_NUL),
                                  BeforeValidator(_text)] | None, AfterValidator(_description)]
Tag = Annotated[str, Field(pattern=TAG_PATTERN), BeforeValidator(_text), AfterValidator(_tag)]
Tags = Annotated[list[Tag], Field(max_length=TAGS_MAX), AfterValidator(_tags)]
DueDate = Annotated[date | None, BeforeValidator(_date),
                    Field(json_schema_extra={"format": "date", "pattern": DATE_PATTERN})]
DueTime = Annotated[time | None, BeforeValidator(_time),
                    WithJsonSchema({"type": ["string", "null"], "pattern": TIME_PATTERN, "examples": ["09:30"]})]
Id = Annotated[uuid.UUID, BeforeValidator(_id)]
ProjectName = Annotated[str, Field(max_length=PROJECT_NAME_MAX, pattern=TITLE_PATTERN),
                        BeforeValidator(_text), AfterValidator(_title)]


class _Input(BaseModel):
    # strict: no "1" for true or 1 for a string; unknown fields are an error.
    model_config = ConfigDict(strict=True, extra="forbid", str_strip_whitespace=False)


class Recurrence(_Input):
    """How a task repeats: an RRULE of the subset, or an English phrase; the mode is the
    phrase's ("every!" and "after" count from completion), else `mode`, else "due"."""

    rule: Annotated[str, Field(max_length=300)] | None = None
    text: Annotated[str, Field(max_length=200)] | None = None
    mode: Literal["due", "completion"] | None = None


class TaskCreate(_Input):
    title: Title
    description: Description = None
    due_date: DueDate = None
    due_time: DueTime = None
    recurrence: Recurrence | None = None
    priority: Priority = "none"
    tags: Tags = []
    completed: bool = False
    # No project: the parent's, else the Inbox.
    project_id: Id | None = None
    parent_id: Id | None = None


def _without_defaults(schema: dict[str, Any], **extra: Any) -> None:
    for prop in schema["properties"].values():
        prop.pop("default", None)
    schema.update(extra)


class _Partial(_Input):
    """A partial update: only the fields sent are changed."""

    # Absent fields stay as they are: no defaults in the schema (None here only marks "not sent").
    model_config = ConfigDict(json_schema_extra=lambda schema: _without_defaults(schema, minProperties=1))

    def changes(self) -> dict[str, Any]:
        """The fields that were sent (null clears the ones that may be empty)."""
        if not self.model_fields_set:
            raise ValidationError(details={"_": "Send at least one field to change."})
        return self.model_dump(include=self.model_fields_set)


class TaskUpdate(_Partial):
    title: Title = None  # type: ignore[assignment]
    description: Description = None
    due_date: DueDate = None
    due_time: DueTime = None
    recurrence: Recurrence | None = None  # null: it no longer repeats
    priority: Priority = None  # type: ignore[assignment]
    tags: Tags = None  # type: ignore[assignment]
    completed: bool = None  # type: ignore[assignment]
    project_id: Id = None  # type: ignore[assignment]
    parent_id: Id | None = None  # null: a root task


class TaskQuery(BaseModel):
    """Filters, sort and paging of a task list. Values arrive as query-string text."""

    model_config = ConfigDict(extra="forbid")

    status: Status = "all"
    q: Annotated[str, Field(max_length=QUERY_MAX, pattern=NO_NUL), BeforeValidator(_text)] = ""
    tag: Tag | None = None
    priority: Priority | None = None
    due_before: DueDate = None
    due_after: DueDate = None
    project_id: Id | None = None
    # A task's id (its direct subtasks), or "none" (root tasks only).
    parent_id: Annotated[Literal["none"] | Id, Field(union_mode="left_to_right")] | None = None
    # Tasks of archived projects: left out (false), only them (true), or both (any). With
    # project_id the default is any: a project's own view shows its tasks even when archived.
    archived: Literal["false", "true", "any"] | None = None
    sort: Sort = "newest"
    limit: Annotated[int, Field(ge=1, le=LIMIT_MAX), BeforeValidator(_whole_number)] = LIMIT_DEFAULT
    cursor: Annotated[str, Field(max_length=CURSOR_MAX, pattern=r"^[A-Za-z0-9_=-]*$")] | None = None


class QuickLine(_Input):
    """A line of quick add (services/quickadd.py)."""

    text: Annotated[str, Field(max_length=1000, pattern=TITLE_PATTERN), BeforeValidator(_text)]


class ProjectCreate(_Input):
    name: ProjectName
    color: Color = "grey"


class ProjectUpdate(_Partial):
    name: ProjectName = None  # type: ignore[assignment]
    color: Color = None  # type: ignore[assignment]
    archived: bool = None  # type: ignore[assignment]
    position: Annotated[int, Field(ge=0, le=VERSION_MAX)] = None  # type: ignore[assignment]


# The constraints above are checked by pydantic (as the JSON Schema states them); these
# are their errors in the words pages and API show, by (field, error type).
MESSAGES = {
    ("title", "string_pattern_mismatch"): "Title is required.",
    ("title", "string_too_long"): f"Title must be at most {TITLE_MAX} characters.",
    ("name", "string_pattern_mismatch"): "Name is required.",
    ("text", "string_pattern_mismatch"): "Type a task.",
    ("text", "string_too_long"): "A line is at most 1000 characters.",
    ("name", "string_too_long"): f"Name must be at most {PROJECT_NAME_MAX} characters.",
    ("description", "string_too_long"): f"Description must be at most {DESCRIPTION_MAX:,} characters.",
    ("tags", "too_long"): f"At most {TAGS_MAX} tags.",
    ("tags", "string_pattern_mismatch"): TAG_RULE,
    ("tag", "string_pattern_mismatch"): TAG_RULE,
    ("q", "string_too_long"): f"Search for at most {QUERY_MAX} characters.",
    ("project_id", "value_error"): PROJECT_NOT_FOUND,
    ("parent_id", "value_error"): TASK_NOT_FOUND,
    ("move_to", "value_error"): PROJECT_NOT_FOUND,
    ("limit", "greater_than_equal"): LIMIT_RULE,
    ("limit", "less_than_equal"): LIMIT_RULE,
    ("limit", "int_type"): LIMIT_RULE,
}


@dataclass(frozen=True)
class Expected:
    """What a write accepts: one of these versions (an edit form's), or one of these entity
    tags (If-Match: the version and the counts shown, "12.3.5"). Both empty: nothing."""

    versions: tuple[int, ...] = ()
    tags: tuple[str, ...] = ()


_TAG = re.compile(r"[1-9][0-9]{0,9}\.[0-9]{1,10}\.[0-9]{1,10}")  # version.count.count


def versions(value: Any) -> Expected | None:
    """None accepts any version; else a whole number from 1 to the largest the column holds,
    an entity tag's text, or several of them (an empty tuple matches none)."""
    if value is None:
        return None
    candidates = (value,) if isinstance(value, int | str) else value
    if not isinstance(candidates, tuple | list | frozenset | set):
        candidates = (None,)
    numbers = tuple(v for v in candidates if isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= VERSION_MAX)
    tags = tuple(v for v in candidates if isinstance(v, str) and _TAG.fullmatch(v))
    if len(numbers) + len(tags) != len(candidates):
        raise ValidationError(details={"version": "Must be a whole number from 1 to 2147483647."})
    return Expected(numbers, tags)


def _details(error: pydantic.ValidationError) -> dict[str, str]:
    details: dict[str, str] = {}
    for item in error.errors():
        loc = [str(part) for part in item["loc"]]
        field = loc[0] if loc else "_"
        message = item["msg"].removeprefix("Value error, ")
        if item["type"] == "extra_forbidden":
            message = "Unknown field."
        elif item["type"] == "missing":
            message = "Required."
        details.setdefault(field, MESSAGES.get((field, item["type"]), message))
    return details


def parse(model: type[BaseModel], data: Any) -> Any:
    """Validate `data` against `model`, raising ValidationError with per-field details."""
    if not isinstance(data, Mapping):
        raise ValidationError(details={"_": "Expected a JSON object."})
    try:
        return model.model_validate(dict(data))
    except pydantic.ValidationError as error:
        raise ValidationError(details=_details(error)) from None
