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
from datetime import timedelta
from functools import lru_cache
from typing import Any

from flask import current_app
from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    Integer,
    Text,
    Time,
    and_,
    any_,
    bindparam,
    case,
    cast,
    delete,
    false,
    func,
    insert,
    literal_column,
    or_,
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
from ..models import DUE_KEY, Project, TagCount, Task, TaskCompletion
from . import cursor as cursors
from . import scheduling
from .compiled import Compiled
from .operations import operation, transaction
from .timezones import now_in, today_in
from .validation import (
    PROJECT_NOT_FOUND,
    TASK_NOT_FOUND,
    TaskCreate,
    TaskQuery,
    TaskUpdate,
    existing_id,
    parse,
    versions,
)

T = Task.__table__.c
P = Project.__table__.c
_CHILD = Task.__table__.alias("child")
# Direct subtasks, counted through ix_tasks_parent (a few index entries per task).
# (Correlated explicitly: RETURNING does not correlate on its own.)
SUBTASK_COUNT = select(func.count()).where(_CHILD.c.parent_id == T.id).correlate(Task).scalar_subquery()
SUBTASK_COMPLETED_COUNT = select(func.count()).where(_CHILD.c.parent_id == T.id, _CHILD.c.completed) \
    .correlate(Task).scalar_subquery()
# What a task is to its readers (pages, API, export): every column but the internal ones.
# due_time comes as "HH:MM" text, as pages and API show it.
TASK_COLUMNS = (T.id, T.project_id, T.parent_id, T.title, T.description, T.completed, T.completed_at, T.due_date,
                func.to_char(T.due_time, "HH24:MI").label("due_time"), T.recurrence_rule, T.recurrence_mode,
                T.recurrence_anchor, T.priority, T.tags, T.version, T.created_at, T.updated_at,
                SUBTASK_COUNT.label("subtask_count"), SUBTASK_COMPLETED_COUNT.label("subtask_completed_count"))
# What an INSERT returns: a new task has no subtasks (and RETURNING of an INSERT cannot
# correlate the counting subqueries).
NEW_TASK_COLUMNS = (*TASK_COLUMNS[:-2], literal_column("0").label("subtask_count"),
                    literal_column("0").label("subtask_completed_count"))
# A task's entity tag: its version and the counts it shows ("12.3.5"), so that a copy
# with stale counts never matches (If-Match) nor is served as fresh (If-None-Match).
TASK_TAG = func.concat_ws(".", T.version, SUBTASK_COUNT, SUBTASK_COMPLETED_COUNT)

# Each sort: its direction and its keys (with their SQL types, to cast cursor text
# back), matching one index led by user_id (see models.Task.__table_args__). The last
# keys break ties, so the order is total.
_CREATED = ((T.created_at, T.created_at.type), (T.id, T.id.type))
SORTS: dict[str, tuple[bool, tuple]] = {
    "newest": (True, _CREATED),
    "oldest": (False, _CREATED),
    # The index's own expression (models.DUE_KEY), so that the planner uses it.
    "due": (False, ((literal_column(DUE_KEY, DateTime()), DateTime()), *_CREATED)),
    "priority": (True, ((T.priority_rank, T.priority_rank.type), *_CREATED)),
    "title": (False, ((func.lower(T.title), Text()), (T.id, T.id.type))),
}
_WORD = re.compile(r"[^\W_]+")
UPCOMING_DAYS = timedelta(days=6)  # Upcoming: today and the six days after it


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


def entity_tag(task) -> str:
    """A task row's entity tag: its version and the counts it shows (TASK_TAG, in Python)."""
    return f"{task.version}.{task.subtask_count}.{task.subtask_completed_count}"


def _task_uuid(task_id: Any) -> uuid.UUID:
    return existing_id(task_id, TASK_NOT_FOUND)


def placement(owner, project, parent):
    """The project of a task (SQL): the one named, else its parent's. (A new task with
    neither goes to the owner's Inbox: the insert trigger puts it there.)

    A parent or project that is not the owner's then fails the foreign keys, which
    placement_error() turns into the field's error."""
    parents_project = select(_CHILD.c.project_id).where(_CHILD.c.id == parent, _CHILD.c.user_id == owner)
    return func.coalesce(project, parents_project.scalar_subquery())


_TREE_ERRORS = {
    "task_tree_cycle": "A task cannot go under itself or one of its own subtasks.",
    "task_tree_depth": "Subtasks go at most 3 levels below a task.",
}


def placement_error(error: sa_exc.IntegrityError, user_id, project_id=None, parent_id=None) -> ValidationError | None:
    """The field error of a write the foreign keys or the tree trigger refused, else None."""
    diag = getattr(error.orig, "diag", None)
    constraint = getattr(diag, "constraint_name", None)
    if constraint in _TREE_ERRORS:
        return ValidationError(details={"parent_id": _TREE_ERRORS[constraint]})
    if constraint == "fk_tasks_project_id_projects":
        return ValidationError(details={"project_id": PROJECT_NOT_FOUND})
    if constraint == "fk_tasks_parent_id_tasks":
        rollback()
        parent = _PARENT.first(task=parent_id, owner=user_id) if parent_id is not None else None
        if parent is not None and project_id is not None and parent.project_id != project_id:
            return ValidationError(details={"project_id": "A subtask goes in its parent's project."})
        return ValidationError(details={"parent_id": TASK_NOT_FOUND})
    if getattr(diag, "column_name", None) == "project_id" and parent_id is not None:  # no parent to take it from
        return ValidationError(details={"parent_id": TASK_NOT_FOUND})
    return None


# The statements every request runs, compiled once (services.compiled); values by name.
_OWNED = and_(T.id == bindparam("task"), T.user_id == bindparam("owner"))
_FIELDS = (*(name for name in TaskCreate.model_fields if name not in ("project_id", "parent_id", "recurrence")),
           *scheduling.COLUMNS)
_CREATE = Compiled(insert(Task).values(
    user_id=bindparam("owner"),
    project_id=placement(bindparam("owner"), bindparam("new_project_id", type_=T.project_id.type),
                         bindparam("new_parent_id", type_=T.parent_id.type)),
    parent_id=bindparam("new_parent_id", type_=T.parent_id.type),
    **{name: bindparam(f"new_{name}", type_=T[name].type) for name in _FIELDS}).returning(*NEW_TASK_COLUMNS))
_GET = Compiled(select(*TASK_COLUMNS).where(_OWNED))
_PARENT = Compiled(select(T.project_id).where(_OWNED))
# The per-user lock under which a task's parent or project changes: the tree trigger takes
# it too (the same key), but only once the UPDATE holds its row, and two moves that each
# wait for the other's row (their foreign key checks) would deadlock. As an uncorrelated
# scalar subquery it is a one-time filter, run before the scan: the lock comes before any
# row lock. (Not EXISTS: PostgreSQL drops an EXISTS subquery's select list unevaluated.)
_TREE_LOCKED = cast(select(func.pg_advisory_xact_lock(func.hashtextextended(
    literal_column("'task tree of '").concat(cast(bindparam("owner", type_=T.user_id.type), Text)), 0)))
    .scalar_subquery(), Text) == ""
# If-Match: the task's version is one of those accepted (an edit form's), or its whole
# entity tag is one of those sent (the API's).
_ACCEPTED = or_(T.version == any_(bindparam("accepted", type_=ARRAY(Integer))),
                any_(bindparam("accepted_tags", type_=ARRAY(Text))) == TASK_TAG)
# Completing a recurring task moves it to its next date instead (complete_occurrence):
# these statements leave an open recurring task alone.
_PLAIN_COMPLETION = or_(T.recurrence_rule.is_(None), T.completed)
_TOGGLE = {versioned: Compiled(update(Task).where(_OWNED, _PLAIN_COMPLETION, _ACCEPTED if versioned else true())
                               .values(completed=~T.completed).returning(*TASK_COLUMNS))
           for versioned in (False, True)}
_SET_COMPLETED = Compiled(update(Task).where(_OWNED, T.completed != bindparam("done", type_=T.completed.type),
                                             or_(T.recurrence_rule.is_(None), ~bindparam("done", type_=Boolean())))
                          .values(completed=bindparam("done")).returning(*TASK_COLUMNS))
_DELETE = {versioned: Compiled(delete(Task).where(_OWNED, _ACCEPTED if versioned else true())
                               .returning(T.id))
           for versioned in (False, True)}
_MY_TAGS = (TagCount.user_id == bindparam("owner"), TagCount.count > 0)
_TAGS = Compiled(select(TagCount.tag, TagCount.count).where(*_MY_TAGS).order_by(TagCount.tag))
# The totals: sums over the user's projects (at most 300 rows) that are not archived.
_SHOWN = (P.user_id == bindparam("owner"), P.archived.is_(False))
_TOTALS = select(func.coalesce(func.sum(P.active_count), 0).label("active"),
                 func.coalesce(func.sum(P.completed_count), 0).label("completed")).where(*_SHOWN)
_COUNTS = Compiled(_TOTALS)
_TOTALS = _TOTALS.subquery("totals")
# Everything the sidebar shows, in one round trip: the totals, the projects in the
# user's order (Inbox first) with their active counts, the tags.
_SIDEBAR = Compiled(select(
    _TOTALS.c.active,
    _TOTALS.c.completed,
    select(func.coalesce(func.json_agg(aggregate_order_by(
        func.json_build_array(P.id, P.name, P.color, P.active_count, P.is_inbox),
        P.is_inbox.desc(), P.position, P.created_at)), literal_column("'[]'::json")))
    .where(*_SHOWN).scalar_subquery().label("projects"),
    select(func.coalesce(func.json_agg(aggregate_order_by(func.json_build_array(TagCount.tag, TagCount.count),
                                                          TagCount.tag)), literal_column("'[]'::json")))
    .where(*_MY_TAGS).scalar_subquery().label("tags"),
))


def _placed_error(error: sa_exc.IntegrityError, user_id, values: Mapping[str, Any]) -> Exception:
    return placement_error(error, user_id, values.get("project_id"), values.get("parent_id")) or error


def _completed_subtasks_followed(user_id, task: Row) -> Row:
    """RETURNING counts subtasks as they were before the statement: when completing the
    task completed open subtasks too (the trigger), read it again."""
    if task.completed and task.subtask_completed_count < task.subtask_count:
        return _GET.first(task=task.id, owner=user_id)
    return task


def creation_values(task: TaskCreate, tz: str) -> dict[str, Any]:
    """The columns of a new task: its fields, with the recurrence as its schedule columns
    (which may set the due date: the schedule's first)."""
    values = {**task.model_dump(exclude={"recurrence"}),
              **scheduling.columns(task.recurrence, task.due_date, task.due_time, today_in(tz))}
    if values["due_time"] is not None and values["due_date"] is None:
        raise ValidationError(details=_SCHEDULE_ERRORS["ck_tasks_due_time_needs_date"])
    return values


@operation("task.create")
def create_task(user_id: uuid.UUID, data: Mapping[str, Any], tz: str = "UTC") -> Row:
    values = creation_values(parse(TaskCreate, data), tz)
    try:
        return _CREATE.first(owner=user_id, **{f"new_{name}": value for name, value in values.items()})
    except sa_exc.IntegrityError as error:
        raise _placed_error(error, user_id, values) from None


@operation("task.get")
def get_task(user_id: uuid.UUID, task_id: Any) -> Row:
    task = _GET.first(task=_task_uuid(task_id), owner=user_id)
    if task is None:
        raise NotFound(TASK_NOT_FOUND)
    return task


def _expected(user_id, task_id, expected) -> dict:
    """The values of the version check (_ACCEPTED), from an If-Match or an edit form's version."""
    return {"task": _task_uuid(task_id), "owner": user_id,
            "accepted": list(expected.versions), "accepted_tags": list(expected.tags)} if expected else \
        {"task": _task_uuid(task_id), "owner": user_id}


def _moves(changes: dict) -> dict:
    """project_id and parent_id as SQL: a task sent under a parent goes to the parent's
    project; a subtask sent to another project on its own leaves its parent there and
    becomes a root task (its own subtasks go with it, by the foreign key's cascade)."""
    moves = {}
    project, parent = changes.pop("project_id", None), changes.pop("parent_id", ...)
    if parent is not ...:
        moves["parent_id"] = parent
        if parent is not None and project is None:
            moves["project_id"] = placement(T.user_id, None, parent)
    if project is not None:
        moves["project_id"] = project
        if parent is ...:
            moves["parent_id"] = case((T.project_id == project, T.parent_id), else_=None)
    return moves


_SCHEDULE_ERRORS = {
    "ck_tasks_due_time_needs_date": {"due_time": "A time needs a due date."},
    "ck_tasks_recurrence_needs_date": {"due_date": "A recurring task needs a due date (send recurrence: null to "
                                                   "stop it repeating)."},
}


def _schedule_error(error: sa_exc.IntegrityError) -> ValidationError | None:
    details = _SCHEDULE_ERRORS.get(getattr(getattr(error.orig, "diag", None), "constraint_name", None))
    return ValidationError(details=details) if details else None


def _schedule_changes(user_id, task_id, update_: TaskUpdate, changes: dict, tz: str) -> None:
    """The due date, time and recurrence columns a partial update sets.

    A new recurrence starts from the due date sent, else the task's own (read for it),
    else today. A new due date of a recurring task re-anchors its schedule there. A due
    date removed takes the time with it."""
    if "recurrence" in changes:
        due_date = changes.get("due_date") if "due_date" in changes else None
        if "due_date" not in changes and update_.recurrence is not None:
            current = _GET.first(task=_task_uuid(task_id), owner=user_id)
            if current is None:
                raise NotFound(TASK_NOT_FOUND)
            due_date = current.due_date
        del changes["recurrence"]
        changes.update(scheduling.columns(update_.recurrence, due_date, None, today_in(tz)))
    elif changes.get("due_date") is not None:
        changes["recurrence_anchor"] = case((T.recurrence_rule.is_(None), None), else_=changes["due_date"])
    if "due_date" in changes and changes["due_date"] is None and "due_time" not in changes:
        changes["due_time"] = None


def _update_fields(user_id, task_id, update_: TaskUpdate, changes: dict, expected, tz: str,
                   completing: bool) -> tuple[Row | None, Row | None]:
    """The UPDATE of a partial update: (the task, None). Asked to complete the task, it does
    so only for a task that does not repeat: for an open recurring one it writes nothing
    and answers (None, the task as it is)."""
    sent = dict(changes)
    _schedule_changes(user_id, task_id, update_, changes, tz)
    moves = _moves(changes)
    condition = and_(_OWNED, _ACCEPTED) if expected is not None else _OWNED
    if moves:
        condition = and_(_TREE_LOCKED, condition)
    if completing:
        condition = and_(condition, _PLAIN_COMPLETION)
    statement = update(Task).where(condition).values(**changes, **moves).returning(*TASK_COLUMNS)
    try:
        task = db.session.execute(statement, _expected(user_id, task_id, expected)).first()
    except sa_exc.IntegrityError as error:
        raise (_schedule_error(error) or _placed_error(error, user_id, sent)) from None
    if task is None:
        current = _current(user_id, task_id, expected)
        if completing and current.recurrence_rule is not None and not current.completed:
            return None, current
        raise Conflict(current)
    return _completed_subtasks_followed(user_id, task), None


@operation("task.update")
def update_task(user_id: uuid.UUID, task_id: Any, data: Mapping[str, Any], expected_version=None,
                tz: str = "UTC") -> Row:
    update_ = parse(TaskUpdate, data)
    changes = update_.changes()
    expected = versions(expected_version)
    # Done, and repeating no more (recurrence: null): a plain completion.
    completing = changes.get("completed") is True and not ("recurrence" in changes and changes["recurrence"] is None)
    task, current = _update_fields(user_id, task_id, update_, dict(changes), expected, tz, completing)
    if task is not None:
        return task
    # Completing an open recurring task moves it to its next date (after its other fields,
    # if any were sent, together).
    del changes["completed"]
    if not changes:
        return _complete_occurrence(user_id, task_id, expected, tz, read=current)
    with transaction():
        _update_fields(user_id, task_id, update_, changes, expected, tz, completing=False)
        return _complete_occurrence(user_id, task_id, None, tz)


def _current(user_id, task_id, expected) -> Row:
    """The task as it is, after a write that matched nothing: NotFound when it is not the
    user's, Conflict when its version is not the one expected."""
    current = _GET.first(task=_task_uuid(task_id), owner=user_id)
    if current is None:
        rollback()
        raise NotFound(TASK_NOT_FOUND)
    if expected is not None and current.version not in expected.versions and entity_tag(current) not in expected.tags:
        rollback()
        raise Conflict(current)
    return current


def _by_version(statements: dict, user_id, task_id, expected_version):
    """Run the plain or the version-checked form of a write; NotFound or Conflict when it hit nothing."""
    expected = versions(expected_version)
    row = statements[expected is not None].first(**_expected(user_id, task_id, expected))
    if row is None:
        raise Conflict(_current(user_id, task_id, None))  # (NotFound when it is not the user's)
    return row


# The subtasks, at every level, of some tasks (the user's, by the first step's filter).
_BELOW = select(_CHILD.c.id).where(_CHILD.c.parent_id == any_(bindparam("roots", type_=ARRAY(T.id.type))),
                                   _CHILD.c.user_id == bindparam("owner")).cte("below", recursive=True)
_BELOW = _BELOW.union_all(select(_CHILD.c.id).join(_BELOW, _CHILD.c.parent_id == _BELOW.c.id))


# An occurrence of a recurring task done (or skipped): in one statement, the task moves to
# its next date (or, at the end of the series, completes for good), only if it is still
# as it was read (its version); the completion is recorded from what was read; its
# subtasks reopen for the next time. Nothing is written when the version moved on.
_SEEN = and_(_OWNED, T.version == bindparam("seen", type_=Integer()))
_MOVED = update(Task).where(_SEEN).values(
    due_date=func.coalesce(bindparam("next_due", type_=Date()), T.due_date),
    recurrence_anchor=func.coalesce(bindparam("next_anchor", type_=Date()), T.recurrence_anchor),
    completed=bindparam("next_due", type_=Date()).is_(None)).returning(*TASK_COLUMNS).cte("moved")
_REOPENED = update(Task).where(T.user_id == bindparam("owner"), T.completed, T.id.in_(select(_BELOW.c.id)),
                               bindparam("reopen", type_=Boolean()),
                               select(_MOVED.c.id).exists()).values(completed=False).returning(T.id).cte("reopened")
_RECORDED = insert(TaskCompletion).from_select(
    ["task_id", "user_id", "due_date", "anchor", "reopened"],
    select(_MOVED.c.id, bindparam("owner"), bindparam("done_due", type_=Date()), bindparam("done_anchor", type_=Date()),
           select(func.coalesce(func.array_agg(_REOPENED.c.id), cast(literal_column("'{}'"), ARRAY(T.id.type))))
           .scalar_subquery())
    .where(bindparam("record", type_=Boolean()))).cte("recorded")
# RETURNING sees the subtasks as they were before the statement: reopened, none is done.
_COMPLETE_OCCURRENCE = Compiled(select(*(
    case((bindparam("reopen", type_=Boolean()), 0), else_=_MOVED.c[column.name]).label(column.name)
    if column.name == "subtask_completed_count" else _MOVED.c[column.name] for column in TASK_COLUMNS))
    .add_cte(_RECORDED).add_cte(_REOPENED))


def _complete_occurrence(user_id, task_id, expected, tz: str, occurrence=None, record: bool = True,
                         read: Row | None = None) -> Row:
    """Done (or, record=False, skipped) the occurrence of a recurring task that is due now
    (or the one named: a second submit of the same page form then changes nothing).
    `read`: the task as the caller just read it, version checked.

    Two requests completing the same task at once: the second's statement finds the
    version moved on and writes nothing; it reads the task again and completes the
    occurrence due now (unless it asked for a version, or named an occurrence that is
    done by then)."""
    for _ in range(RACE_ATTEMPTS):
        task = read or _current(user_id, task_id, expected)
        read = None
        schedule = scheduling.schedule(task)
        if schedule is None or task.completed or (occurrence is not None and occurrence != task.due_date):
            return task  # not (or no longer) an open recurring task, or that occurrence is done
        following = schedule.next_after_completion(task.due_date, today_in(tz))
        next_due, next_anchor = following or (None, None)
        row = _COMPLETE_OCCURRENCE.first(
            task=task.id, roots=[task.id], owner=user_id, seen=task.version, next_due=next_due,
            next_anchor=next_anchor, done_due=task.due_date, done_anchor=task.recurrence_anchor, record=record,
            reopen=record and next_due is not None)
        if row is not None:
            return _completed_subtasks_followed(user_id, row)
    raise Conflict(_current(user_id, task_id, None))


RACE_ATTEMPTS = 3


@operation("task.toggle")
def toggle_task(user_id: uuid.UUID, task_id: Any, expected_version=None, tz: str = "UTC", occurrence=None) -> Row:
    """Done or not done; an open recurring task moves to its next date (`occurrence`: the
    due date the caller saw, so that doing it twice moves it once)."""
    expected = versions(expected_version)
    row = _TOGGLE[expected is not None].first(**_expected(user_id, task_id, expected))
    if row is None:
        return _complete_occurrence(user_id, task_id, expected, tz, occurrence)
    return _completed_subtasks_followed(user_id, row)


@operation("task.set_completed")
def set_completed(user_id: uuid.UUID, task_id: Any, completed: bool, tz: str = "UTC", occurrence=None) -> Row:
    """Mark the task done or not done: asking twice for the same state changes nothing more."""
    if not isinstance(completed, bool):
        raise ValidationError(details={"completed": "Must be true or false."})
    task = _SET_COMPLETED.first(task=_task_uuid(task_id), owner=user_id, done=completed)
    if task is None:  # already in that state (nothing written), an open recurring task, or not the caller's
        return _complete_occurrence(user_id, task_id, None, tz, occurrence) if completed \
            else get_task(user_id, task_id)
    return _completed_subtasks_followed(user_id, task)


@operation("task.skip")
def skip_occurrence(user_id: uuid.UUID, task_id: Any, expected_version=None, tz: str = "UTC",
                    occurrence=None) -> Row:
    """Move a recurring task to its next date without recording a completion."""
    task = _complete_occurrence(user_id, task_id, versions(expected_version), tz, occurrence, record=False)
    if task.recurrence_rule is None:
        raise ValidationError(details={"recurrence": "Only a recurring task can be skipped."})
    return task


# Undo: back to the latest completion's due date and anchor, the subtasks it reopened done
# again, and that record goes; only while the task is as the completion left it (the
# version the page saw then).
_LAST = select(TaskCompletion.id, TaskCompletion.due_date, TaskCompletion.anchor, TaskCompletion.reopened).where(
    TaskCompletion.task_id == bindparam("task"), TaskCompletion.user_id == bindparam("owner")) \
    .order_by(TaskCompletion.completed_at.desc()).limit(1).cte("last_done")
_RESTORED = update(Task).where(_SEEN).values(
    due_date=_LAST.c.due_date, recurrence_anchor=_LAST.c.anchor, completed=False) \
    .returning(*TASK_COLUMNS, _LAST.c.id.label("completion_id")).cte("restored")
_RECOMPLETED = update(Task).where(
    T.user_id == bindparam("owner"), T.id.in_(select(func.unnest(_LAST.c.reopened))), T.completed.is_(False),
    select(_RESTORED.c.id).exists()).values(completed=True).returning(T.id).cte("recompleted")
_UNDO = Compiled(select(*(_RESTORED.c[column.name] for column in TASK_COLUMNS),
                        select(func.count()).select_from(_RECOMPLETED).scalar_subquery().label("recompleted"))
                 .add_cte(delete(TaskCompletion).where(TaskCompletion.id.in_(select(_RESTORED.c.completion_id)))
                          .cte("forgotten")))


@operation("task.undo_completion")
def undo_completion(user_id: uuid.UUID, task_id: Any, version: Any) -> Row:
    """Undo the latest completion of a recurring task, if nothing changed the task since
    (`version`: the task's version right after it). Conflict otherwise."""
    seen = versions(version)
    if seen is None or len(seen.versions) != 1:
        raise ValidationError(details={"version": "Send the task's version after the completion."})
    row = _UNDO.first(task=_task_uuid(task_id), owner=user_id, seen=seen.versions[0])
    if row is None:
        raise Conflict(_current(user_id, task_id, None))
    # RETURNING counts its subtasks as they were before: done again, read them again.
    return _GET.first(task=row.id, owner=user_id) if row.recompleted else row


_COMPLETIONS = Compiled(
    select(TaskCompletion.completed_at, TaskCompletion.due_date)
    .select_from(Task.__table__.outerjoin(TaskCompletion, and_(TaskCompletion.task_id == T.id,
                                                               TaskCompletion.user_id == T.user_id)))
    .where(_OWNED).order_by(TaskCompletion.completed_at.desc().nulls_last()).limit(bindparam("limit")))
COMPLETIONS_MAX = 100


@operation("task.completions")
def list_completions(user_id: uuid.UUID, task_id: Any, limit: int = COMPLETIONS_MAX) -> list[Row]:
    """The task's recorded completions, newest first (at most COMPLETIONS_MAX)."""
    rows = _COMPLETIONS.rows(task=_task_uuid(task_id), owner=user_id, limit=limit)
    if not rows:
        raise NotFound(TASK_NOT_FOUND)
    return [row for row in rows if row.completed_at is not None]


@operation("task.occurrences")
def list_occurrences(user_id: uuid.UUID, task_id: Any, limit: int = 5) -> list:
    """The task's due date and the schedule's dates after it."""
    return scheduling.occurrences(get_task(user_id, task_id), limit)


@operation("task.delete")
def delete_task(user_id: uuid.UUID, task_id: Any, expected_version=None) -> None:
    """Delete the task and its subtasks (the foreign key's cascade)."""
    _by_version(_DELETE, user_id, task_id, expected_version)


_SUBTREE_SIZE = Compiled(select(select(func.count()).select_from(_BELOW).scalar_subquery().label("size"))
                         .where(T.id == any_(bindparam("roots")), T.user_id == bindparam("owner")))
_DESCENDANTS = Compiled(select(*TASK_COLUMNS).where(T.id.in_(select(_BELOW.c.id)), T.user_id == bindparam("owner"))
                        .order_by(T.created_at, T.id))


@operation("task.subtree_size")
def count_descendants(user_id: uuid.UUID, task_id: Any) -> int:
    """How many subtasks (at every level) deleting this task would delete with it."""
    row = _SUBTREE_SIZE.first(roots=[_task_uuid(task_id)], owner=user_id)
    if row is None:
        raise NotFound(TASK_NOT_FOUND)
    return row.size


@operation("task.descendants")
def descendants(user_id: uuid.UUID, root_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[Row]]:
    """The subtasks, at every level, of these tasks of the user, in one statement: each
    task's id -> its direct subtasks, oldest first."""
    children: dict[uuid.UUID, list[Row]] = {}
    if root_ids:
        for task in _DESCENDANTS.rows(roots=list(root_ids), owner=user_id):
            children.setdefault(task.parent_id, []).append(task)
    return children


@operation("task.clear_completed")
def clear_completed(user_id: uuid.UUID) -> int:
    """Delete the completed tasks (a completed task's subtasks are all completed too)."""
    return db.session.execute(delete(Task).where(T.user_id == user_id, T.completed.is_(True))).rowcount


@operation("task.counts")
def count_tasks(user_id: uuid.UUID) -> Counts:
    """Read from the projects' counts (kept by a trigger): no scan of the user's tasks."""
    row = _COUNTS.first(owner=user_id)
    return Counts(row.active, row.completed)


@dataclass(frozen=True)
class SidebarProject:
    id: uuid.UUID
    name: str
    color: str
    active_count: int
    is_inbox: bool


@dataclass(frozen=True)
class Sidebar:
    counts: Counts
    projects: list[SidebarProject]  # the Inbox, then the rest in the user's order; archived ones left out
    tags: list[tuple[str, int]]  # (tag, tasks carrying it), alphabetically


@operation("task.sidebar")
def sidebar(user_id: uuid.UUID) -> Sidebar:
    """What every page shows beside its content, in one statement over the rows the
    triggers keep (no scan of the user's tasks)."""
    row = _SIDEBAR.first(owner=user_id)
    return Sidebar(Counts(row.active, row.completed),
                   [SidebarProject(uuid.UUID(p[0]), *p[1:]) for p in row.projects],
                   [(tag, count) for tag, count in row.tags])


@operation("task.tags")
def list_tags(user_id: uuid.UUID) -> list[tuple[str, int]]:
    return [(row.tag, row.count) for row in _TAGS.rows(owner=user_id)]


# Each filter of a list, with its value as a parameter (list_tasks binds them).
FILTERS = {
    "active": T.completed.is_(False),
    "completed": T.completed.is_(True),
    # Overdue: a day that has passed, or today's time that has (the user's wall clock).
    "overdue": and_(T.completed.is_(False), or_(T.due_date < bindparam("today", type_=Date()),
                                                and_(T.due_date == bindparam("today", type_=Date()),
                                                     T.due_time < bindparam("now", type_=Time())))),
    # Today: what needs doing by the end of today (overdue included); Upcoming: due from
    # today through the six days after it.
    "due_by_today": and_(T.completed.is_(False), T.due_date <= bindparam("today", type_=Date())),
    "this_week": and_(T.completed.is_(False), T.due_date >= bindparam("today", type_=Date()),
                      T.due_date <= bindparam("week_end", type_=Date())),
    "q": T.search_vector.op("@@")(func.to_tsquery("simple", bindparam("q", type_=Text()))),
    "q_matches_nothing": false(),
    "tag": T.tags.contains(bindparam("tag", type_=T.tags.type)),
    "priority": T.priority == bindparam("priority", type_=Text()),
    "due_before": T.due_date <= bindparam("due_before", type_=Date()),
    "due_after": T.due_date >= bindparam("due_after", type_=Date()),
    "project_id": T.project_id == bindparam("project_id", type_=T.project_id.type),
    "parent_id": T.parent_id == bindparam("parent_id", type_=T.parent_id.type),
    "root": T.parent_id.is_(None),
    # The ids of the user's archived projects are read once per statement (a hashed subplan).
    "unarchived": T.project_id.not_in(select(P.id).where(P.user_id == bindparam("user_id"), P.archived)),
    "archived": T.project_id.in_(select(P.id).where(P.user_id == bindparam("user_id"), P.archived)),
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
        now = now_in(tz)
        values.update(overdue=None, today=now.date(), now=now.time())
    elif query.status == "today":
        values.update(due_by_today=None, today=today_in(tz))
    elif query.status == "upcoming":
        today = today_in(tz)
        values.update(this_week=None, today=today, week_end=today + UPCOMING_DAYS)
    if query.q.strip():
        terms = _search_terms(query.q)
        values.update({"q": terms} if terms else {"q_matches_nothing": None})
    if query.tag:
        values["tag"] = [query.tag]
    for name in ("priority", "due_before", "due_after", "project_id"):
        if getattr(query, name):
            values[name] = getattr(query, name)
    if query.parent_id == "none":
        values["root"] = None
    elif query.parent_id is not None:
        values["parent_id"] = query.parent_id
    archived = query.archived or ("any" if query.project_id else "false")
    if archived != "any":
        values["archived" if archived == "true" else "unarchived"] = None
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
