"""Tasks: every read and write, always filtered by the acting user's id.

A task that does not exist and a task owned by someone else are the same to the
caller: NotFound. Writes are single statements with RETURNING, so what the caller
gets back is the row as the database holds it (version, timestamps and completed_at
are kept by triggers).
"""
from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (Date, Text, and_, cast, delete, false, func, insert, literal, literal_column, select,
                        tuple_, update)
from sqlalchemy import exc as sa_exc

from ..errors import Conflict, NotFound, ValidationError
from ..extensions import db
from ..models import TagCount, Task, TaskCount
from . import cursor as cursors
from .operations import operation, rollback
from .validation import TaskCreate, TaskQuery, TaskUpdate, parse

# Each sort: its direction and its keys (with their SQL types, to cast cursor text
# back), matching one index led by user_id (see models.Task.__table_args__). The last
# keys break ties, so the order is total.
_CREATED = ((Task.created_at, Task.created_at.type), (Task.id, Task.id.type))
SORTS: dict[str, tuple[bool, tuple]] = {
    "newest": (True, _CREATED),
    "oldest": (False, _CREATED),
    # A literal, not a parameter, so that the planner matches the index expression.
    "due": (False, ((func.coalesce(Task.due_date, literal_column("'infinity'::date")), Date()), *_CREATED)),
    "priority": (True, ((Task.priority_rank, Task.priority_rank.type), *_CREATED)),
    "title": (False, ((func.lower(Task.title), Text()), (Task.id, Task.id.type))),
}
_WORD = re.compile(r"[^\W_]+")


@dataclass(frozen=True)
class TaskPage:
    items: list[Task]
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
    return and_(Task.id == _task_uuid(task_id), Task.user_id == user_id)


def today_in(tz: str) -> date:
    try:
        return datetime.now(ZoneInfo(tz)).date()
    except (KeyError, ValueError):
        return datetime.now(ZoneInfo("UTC")).date()


def insert_task(user_id: uuid.UUID, values: TaskCreate) -> Task:
    """Insert a validated task in the caller's transaction, without committing it."""
    return db.session.scalar(insert(Task).values(user_id=user_id, **values.model_dump()).returning(Task))


@operation("task.create")
def create_task(user_id: uuid.UUID, data: Mapping[str, Any]) -> Task:
    task = insert_task(user_id, parse(TaskCreate, data))
    db.session.commit()
    return task


@operation("task.get")
def get_task(user_id: uuid.UUID, task_id: Any) -> Task:
    task = db.session.scalar(select(Task).where(_owned(user_id, task_id)))
    if task is None:
        raise NotFound("Task not found.")
    return task


def _write_returning(user_id, task_id, expected_version, values: dict) -> Task:
    """UPDATE ... WHERE id, user_id [, version] RETURNING the row; NotFound or Conflict if none."""
    condition = _owned(user_id, task_id)
    if expected_version is not None:
        condition = and_(condition, Task.version == expected_version)
    stmt = (update(Task).where(condition).values(**values).returning(Task)
            .execution_options(synchronize_session=False, populate_existing=True))
    task = db.session.scalar(stmt)
    if task is None:
        _raise_missing_or_stale(user_id, task_id)
    db.session.commit()
    return task


def _raise_missing_or_stale(user_id, task_id):
    current = db.session.scalar(select(Task).where(_owned(user_id, task_id))
                                .execution_options(populate_existing=True))
    rollback()
    if current is None:
        raise NotFound("Task not found.")
    raise Conflict(current)


def _version(expected_version: Any) -> int | None:
    if expected_version is None:
        return None
    if isinstance(expected_version, bool) or not isinstance(expected_version, int) or expected_version < 1:
        raise ValidationError(details={"version": "Must be a positive whole number."})
    return expected_version


@operation("task.update")
def update_task(user_id: uuid.UUID, task_id: Any, data: Mapping[str, Any],
                expected_version: int | None = None) -> Task:
    changes = parse(TaskUpdate, data).changes()
    return _write_returning(user_id, task_id, _version(expected_version), changes)


@operation("task.toggle")
def toggle_task(user_id: uuid.UUID, task_id: Any, expected_version: int | None = None) -> Task:
    return _write_returning(user_id, task_id, _version(expected_version), {"completed": ~Task.completed})


@operation("task.delete")
def delete_task(user_id: uuid.UUID, task_id: Any, expected_version: int | None = None) -> None:
    condition = _owned(user_id, task_id)
    version = _version(expected_version)
    if version is not None:
        condition = and_(condition, Task.version == version)
    deleted = db.session.execute(delete(Task).where(condition).returning(Task.id)).first()
    if deleted is None:
        _raise_missing_or_stale(user_id, task_id)
    db.session.commit()


@operation("task.clear_completed")
def clear_completed(user_id: uuid.UUID) -> int:
    result = db.session.execute(delete(Task).where(Task.user_id == user_id, Task.completed.is_(True)))
    db.session.commit()
    return result.rowcount


@operation("task.counts")
def count_tasks(user_id: uuid.UUID) -> Counts:
    """Read from task_counts (kept by a trigger): no scan of the user's tasks."""
    row = db.session.execute(select(TaskCount.active, TaskCount.completed)
                             .where(TaskCount.user_id == user_id)).first()
    return Counts(row.active, row.completed) if row else Counts(0, 0)


@operation("task.tags")
def list_tags(user_id: uuid.UUID) -> list[tuple[str, int]]:
    rows = db.session.execute(select(TagCount.tag, TagCount.count)
                              .where(TagCount.user_id == user_id, TagCount.count > 0)
                              .order_by(TagCount.tag))
    return [(row.tag, row.count) for row in rows]


def _search(q: str):
    """Full-text search on title and description: every word must start a word there."""
    words = _WORD.findall(q.lower())[:20]
    if not words:
        return false()
    query = " & ".join(f"'{word}':*" for word in words)
    return Task.search_vector.op("@@")(func.to_tsquery("simple", query))


def _filters(user_id, query: TaskQuery, tz: str) -> list:
    conditions = [Task.user_id == user_id]
    if query.status == "active":
        conditions.append(Task.completed.is_(False))
    elif query.status == "completed":
        conditions.append(Task.completed.is_(True))
    elif query.status == "overdue":
        conditions += [Task.completed.is_(False), Task.due_date < today_in(tz)]
    if query.q.strip():
        conditions.append(_search(query.q))
    if query.tag:
        conditions.append(Task.tags.contains([query.tag]))
    if query.priority:
        conditions.append(Task.priority == query.priority)
    if query.due_before:
        conditions.append(Task.due_date <= query.due_before)
    if query.due_after:
        conditions.append(Task.due_date >= query.due_after)
    return conditions


@operation("task.list")
def list_tasks(user_id: uuid.UUID, params: Mapping[str, Any], tz: str = "UTC") -> TaskPage:
    """One page of the user's tasks, filtered and sorted, with keyset cursors both ways.

    Stable while rows are added or removed: a page starts strictly after (or
    before) the keys of the row the cursor names, whatever happened meanwhile.
    """
    query = parse(TaskQuery, params)
    descending, sort_keys = SORTS[query.sort]
    keys = [key for key, _ in sort_keys]
    position = cursors.decode(query.cursor, query.sort, len(keys)) if query.cursor else None
    backwards = position is not None and position.direction == cursors.BEFORE

    conditions = _filters(user_id, query, tz)
    if position is not None:
        bound = tuple_(*(cast(literal(value, Text), key_type)
                         for (_, key_type), value in zip(sort_keys, position.keys)))
        # Reading forwards in a descending sort means smaller keys, and so on.
        smaller = descending != backwards
        conditions.append(tuple_(*keys) < bound if smaller else tuple_(*keys) > bound)
    read_descending = descending != backwards
    order = [key.desc() if read_descending else key.asc() for key in keys]
    stmt = (select(Task, *(cast(key, Text).label(f"key{i}") for i, key in enumerate(keys)))
            .where(*conditions).order_by(*order).limit(query.limit + 1))
    try:
        rows = db.session.execute(stmt).all()
    except sa_exc.DataError:  # a well-formed cursor whose keys are not values of the sort
        raise ValidationError(details={"cursor": "Invalid cursor: start again from the first page."}) from None

    more = len(rows) > query.limit
    rows = rows[:query.limit]
    if backwards:
        rows.reverse()
    items = [row[0] for row in rows]

    def at(row, direction):
        return cursors.Cursor(query.sort, direction, tuple(row[1:])).encode()

    if backwards:
        prev_cursor = at(rows[0], cursors.BEFORE) if rows and more else None
        next_cursor = at(rows[-1], cursors.AFTER) if rows else _turn(position, cursors.AFTER)
    else:
        next_cursor = at(rows[-1], cursors.AFTER) if rows and more else None
        prev_cursor = None
        if position is not None:
            prev_cursor = at(rows[0], cursors.BEFORE) if rows else _turn(position, cursors.BEFORE)
    return TaskPage(items, next_cursor, prev_cursor)


def _turn(position: cursors.Cursor, direction: str) -> str:
    """On an empty page, the way back starts where the cursor pointed."""
    return cursors.Cursor(position.sort, direction, position.keys).encode()
