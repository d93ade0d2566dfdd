"""Tasks: every read and write, always filtered by the acting user's id.

A task that does not exist and a task owned by someone else are the same to the
caller: NotFound. Writes are single statements with RETURNING, so what the caller
gets back is the row as the database holds it (version, timestamps and completed_at
are kept by triggers), in one round trip.

Tasks come back as plain rows of TASK_COLUMNS (attribute access, every field loaded):
a page of fifty builds no ORM objects.
"""
from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from flask import current_app
from sqlalchemy import (
    Date,
    Integer,
    Text,
    and_,
    any_,
    bindparam,
    cast,
    delete,
    false,
    func,
    insert,
    literal_column,
    select,
    true,
    tuple_,
    update,
)
from sqlalchemy import exc as sa_exc
from sqlalchemy.dialects.postgresql import ARRAY, aggregate_order_by
from sqlalchemy.engine import Row

from ..database import rollback
from ..errors import Conflict, NotFound, ValidationError
from ..extensions import db
from ..models import TagCount, Task, TaskCount
from . import cursor as cursors
from .compiled import Compiled
from .operations import operation
from .timezones import today_in
from .validation import TaskCreate, TaskQuery, TaskUpdate, parse, versions

T = Task.__table__.c
# What a task is to its readers (pages, API, export): every column but the internal ones.
TASK_COLUMNS = (T.id, T.title, T.description, T.completed, T.completed_at, T.due_date, T.priority, T.tags,
                T.version, T.created_at, T.updated_at)

# Each sort: its direction and its keys (with their SQL types, to cast cursor text
# back), matching one index led by user_id (see models.Task.__table_args__). The last
# keys break ties, so the order is total.
_CREATED = ((T.created_at, T.created_at.type), (T.id, T.id.type))
SORTS: dict[str, tuple[bool, tuple]] = {
    "newest": (True, _CREATED),
    "oldest": (False, _CREATED),
    # A literal, not a parameter, so that the planner matches the index expression.
    "due": (False, ((func.coalesce(T.due_date, literal_column("'infinity'::date")), Date()), *_CREATED)),
    "priority": (True, ((T.priority_rank, T.priority_rank.type), *_CREATED)),
    "title": (False, ((func.lower(T.title), Text()), (T.id, T.id.type))),
}
_WORD = re.compile(r"[^\W_]+")


@dataclass(frozen=True)
class TaskPage:
    items: list[Row]
    next_cursor: str | None
    prev_cursor: str | None


@dataclass(frozen=True)
class Counts:
    active: int
    completed: int

    @property
    def total(self) -> int:
        return self.active + self.completed


def _task_uuid(task_id: Any) -> uuid.UUID:
    """A malformed id is simply a task that does not exist."""
    if isinstance(task_id, uuid.UUID):
        return task_id
    try:
        return uuid.UUID(str(task_id))
    except ValueError:
        raise NotFound("Task not found.") from None


def _owned(user_id, task_id):
    return and_(T.id == _task_uuid(task_id), T.user_id == user_id)


# The statements every request runs, compiled once (services.compiled); values by name.
_OWNED = and_(T.id == bindparam("task"), T.user_id == bindparam("owner"))
_FIELDS = tuple(TaskCreate.model_fields)
_CREATE = Compiled(insert(Task).values(user_id=bindparam("owner"), **{
    name: bindparam(f"new_{name}", type_=T[name].type) for name in _FIELDS}).returning(*TASK_COLUMNS))
_GET = Compiled(select(*TASK_COLUMNS).where(_OWNED))
# The version check of If-Match: the task's version is one of those accepted.
_ACCEPTED = T.version == any_(bindparam("accepted", type_=ARRAY(Integer)))
_TOGGLE = {versioned: Compiled(update(Task).where(_OWNED, _ACCEPTED if versioned else true())
                               .values(completed=~T.completed).returning(*TASK_COLUMNS))
           for versioned in (False, True)}
_SET_COMPLETED = Compiled(update(Task).where(_OWNED, T.completed != bindparam("done", type_=T.completed.type))
                          .values(completed=bindparam("done")).returning(*TASK_COLUMNS))
_DELETE = {versioned: Compiled(delete(Task).where(_OWNED, _ACCEPTED if versioned else true())
                               .returning(T.id))
           for versioned in (False, True)}
_MY_COUNTS = TaskCount.user_id == bindparam("owner")
_MY_TAGS = (TagCount.user_id == bindparam("owner"), TagCount.count > 0)
_COUNTS = Compiled(select(TaskCount.active, TaskCount.completed).where(_MY_COUNTS))
_TAGS = Compiled(select(TagCount.tag, TagCount.count).where(*_MY_TAGS).order_by(TagCount.tag))
# Everything the list page's sidebar shows, in one round trip.
_SIDEBAR = Compiled(select(
    func.coalesce(select(TaskCount.active).where(_MY_COUNTS).scalar_subquery(), 0).label("active"),
    func.coalesce(select(TaskCount.completed).where(_MY_COUNTS).scalar_subquery(), 0).label("completed"),
    select(func.coalesce(func.json_agg(aggregate_order_by(func.json_build_array(TagCount.tag, TagCount.count),
                                                          TagCount.tag)), literal_column("'[]'::json")))
    .where(*_MY_TAGS).scalar_subquery().label("tags"),
))


@operation("task.create")
def create_task(user_id: uuid.UUID, data: Mapping[str, Any]) -> Row:
    values = parse(TaskCreate, data).model_dump()
    return _CREATE.first(owner=user_id, **{f"new_{name}": values[name] for name in _FIELDS})


@operation("task.get")
def get_task(user_id: uuid.UUID, task_id: Any) -> Row:
    task = _GET.first(task=_task_uuid(task_id), owner=user_id)
    if task is None:
        raise NotFound("Task not found.")
    return task


def _write_returning(user_id, task_id, accepted: tuple[int, ...] | None, values: dict) -> Row:
    """UPDATE ... WHERE id, user_id [, version] RETURNING the row; NotFound or Conflict if none."""
    condition = _owned(user_id, task_id)
    if accepted is not None:
        condition = and_(condition, T.version.in_(accepted) if accepted else false())
    task = db.session.execute(update(Task).where(condition).values(**values).returning(*TASK_COLUMNS)).first()
    if task is None:
        _raise_missing_or_stale(user_id, task_id)
    return task


def _raise_missing_or_stale(user_id, task_id):
    current = _GET.first(task=_task_uuid(task_id), owner=user_id)
    rollback()
    if current is None:
        raise NotFound("Task not found.")
    raise Conflict(current)


@operation("task.update")
def update_task(user_id: uuid.UUID, task_id: Any, data: Mapping[str, Any],
                expected_version: int | None = None) -> Row:
    changes = parse(TaskUpdate, data).changes()
    return _write_returning(user_id, task_id, versions(expected_version), changes)


def _by_version(statements: dict, user_id, task_id, expected_version):
    """Run the plain or the version-checked form of a write; NotFound or Conflict when it hit nothing."""
    accepted = versions(expected_version)
    row = statements[accepted is not None].first(task=_task_uuid(task_id), owner=user_id,
                                                 accepted=list(accepted or ()))
    if row is None:
        _raise_missing_or_stale(user_id, task_id)
    return row


@operation("task.toggle")
def toggle_task(user_id: uuid.UUID, task_id: Any, expected_version: int | None = None) -> Row:
    return _by_version(_TOGGLE, user_id, task_id, expected_version)


@operation("task.set_completed")
def set_completed(user_id: uuid.UUID, task_id: Any, completed: bool) -> Row:
    """Mark the task done or not done: asking twice for the same state changes nothing more."""
    if not isinstance(completed, bool):
        raise ValidationError(details={"completed": "Must be true or false."})
    task = _SET_COMPLETED.first(task=_task_uuid(task_id), owner=user_id, done=completed)
    if task is None:  # already in that state (nothing written), or not the caller's
        task = get_task(user_id, task_id)
    return task


@operation("task.delete")
def delete_task(user_id: uuid.UUID, task_id: Any, expected_version: int | None = None) -> None:
    _by_version(_DELETE, user_id, task_id, expected_version)


@operation("task.clear_completed")
def clear_completed(user_id: uuid.UUID) -> int:
    return db.session.execute(delete(Task).where(T.user_id == user_id, T.completed.is_(True))).rowcount


@operation("task.counts")
def count_tasks(user_id: uuid.UUID) -> Counts:
    """Read from task_counts (kept by a trigger): no scan of the user's tasks."""
    row = _COUNTS.first(owner=user_id)
    return Counts(row.active, row.completed) if row else Counts(0, 0)


@dataclass(frozen=True)
class Sidebar:
    counts: Counts
    tags: list[tuple[str, int]]  # (tag, tasks carrying it), alphabetically


@operation("task.sidebar")
def sidebar(user_id: uuid.UUID) -> Sidebar:
    """The counts and tags the list page shows beside the list, read in one statement from
    the tables the triggers keep (no scan of the user's tasks)."""
    row = _SIDEBAR.first(owner=user_id)
    return Sidebar(Counts(row.active, row.completed), [(tag, count) for tag, count in row.tags])


@operation("task.tags")
def list_tags(user_id: uuid.UUID) -> list[tuple[str, int]]:
    return [(row.tag, row.count) for row in _TAGS.rows(owner=user_id)]


# Each filter of a list, with its value as a parameter (list_tasks binds them).
FILTERS = {
    "active": T.completed.is_(False),
    "completed": T.completed.is_(True),
    "overdue": and_(T.completed.is_(False), T.due_date < bindparam("today", type_=Date())),
    "q": T.search_vector.op("@@")(func.to_tsquery("simple", bindparam("q", type_=Text()))),
    "q_matches_nothing": false(),
    "tag": T.tags.contains(bindparam("tag", type_=T.tags.type)),
    "priority": T.priority == bindparam("priority", type_=Text()),
    "due_before": T.due_date <= bindparam("due_before", type_=Date()),
    "due_after": T.due_date >= bindparam("due_after", type_=Date()),
}


def _search_terms(q: str) -> str | None:
    """Full-text search on title and description: every word must start a word there.
    None when the text holds no word (it matches nothing)."""
    words = _WORD.findall(q.lower())[:20]
    return " & ".join(f"'{word}':*" for word in words) if words else None


def _filter_values(query: TaskQuery, tz: str) -> dict[str, Any]:
    """The filters this query asks for, by name, with their values."""
    values: dict[str, Any] = {}
    if query.status in ("active", "completed"):
        values[query.status] = None
    elif query.status == "overdue":
        values.update(overdue=None, today=today_in(tz))
    if query.q.strip():
        terms = _search_terms(query.q)
        values.update({"q": terms} if terms else {"q_matches_nothing": None})
    if query.tag:
        values["tag"] = [query.tag]
    for name in ("priority", "due_before", "due_after"):
        if getattr(query, name):
            values[name] = getattr(query, name)
    return values


@lru_cache(maxsize=512)
def _list_statement(sort: str, filters: frozenset[str], cursor: str | None):
    """The SELECT of one shape of list (sort, filters used, cursor direction), values as
    parameters. Built once per shape: building a statement costs more than running it."""
    descending, sort_keys = SORTS[sort]
    keys = [key for key, _ in sort_keys]
    conditions = [T.user_id == bindparam("user_id"), *(FILTERS[name] for name in sorted(filters))]
    backwards = cursor == cursors.BEFORE
    if cursor is not None:
        bound = tuple_(*(cast(bindparam(f"key{i}", type_=Text()), key_type)
                         for i, (_, key_type) in enumerate(sort_keys)))
        # Reading forwards in a descending sort means smaller keys, and so on.
        smaller = descending != backwards
        conditions.append(tuple_(*keys) < bound if smaller else tuple_(*keys) > bound)
    read_descending = descending != backwards
    order = [key.desc() if read_descending else key.asc() for key in keys]
    # The sort keys ride along as text after the task's columns, for the cursors.
    return Compiled(select(*TASK_COLUMNS, *(cast(key, Text).label(f"key{i}") for i, key in enumerate(keys)))
                    .where(*conditions).order_by(*order).limit(bindparam("limit")))


@operation("task.list")
def list_tasks(user_id: uuid.UUID, params: Mapping[str, Any], tz: str = "UTC") -> TaskPage:
    """One page of the user's tasks, filtered and sorted, with keyset cursors both ways.

    Stable while rows are added or removed: a page starts strictly after (or
    before) the keys of the row the cursor names, whatever happened meanwhile.
    """
    query = parse(TaskQuery, params)
    secret = current_app.config["SECRET_KEY"]
    key_count = len(SORTS[query.sort][1])
    position = cursors.decode(query.cursor, query.sort, key_count, secret) if query.cursor else None
    backwards = position is not None and position.direction == cursors.BEFORE
    values = _filter_values(query, tz)
    statement = _list_statement(query.sort, frozenset(name for name in values if name in FILTERS),
                                position.direction if position else None)
    values.update(user_id=user_id, limit=query.limit + 1)
    if position is not None:
        values.update({f"key{i}": key for i, key in enumerate(position.keys)})
    try:
        rows = statement.rows(**values)
    except sa_exc.DataError:  # a cursor of ours whose keys no longer fit the sort (made before an upgrade)
        raise ValidationError(details={"cursor": cursors.INVALID}) from None

    more = len(rows) > query.limit
    rows = rows[:query.limit]
    if backwards:
        rows.reverse()

    def at(row, direction):
        return cursors.Cursor(query.sort, direction, tuple(row[len(TASK_COLUMNS):])).encode(secret)

    def turn(direction):  # on an empty page, the way back starts where the cursor pointed
        return cursors.Cursor(position.sort, direction, position.keys).encode(secret)

    if backwards:
        prev_cursor = at(rows[0], cursors.BEFORE) if rows and more else None
        next_cursor = at(rows[-1], cursors.AFTER) if rows else turn(cursors.AFTER)
    else:
        next_cursor = at(rows[-1], cursors.AFTER) if rows and more else None
        prev_cursor = None
        if position is not None:
            prev_cursor = at(rows[0], cursors.BEFORE) if rows else turn(cursors.BEFORE)
    return TaskPage(rows, next_cursor, prev_cursor)
