"""Imports: a file's records (myapp.importers) checked and stored, in one transaction, in bulk.

Every record is checked against the rules every task obeys (validation.TaskCreate); one
that breaks one is skipped with its line and reason, never the whole file. Projects are
matched by name regardless of case; each task remembers its source (tasks.import_key),
so that the same file imported again creates nothing new. Rows are written with COPY, a
level of the task tree at a time (parents before their subtasks), in batches, each
followed by a progress event.
"""
from __future__ import annotations

import time as clock
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Connection, text
from sqlalchemy.exc import IntegrityError

from .. import importers
from ..errors import QueryTimeout, ValidationError
from ..importers.records import MAX_RECORDS, Parsed, Record
from . import recurrence, scheduling
from .compiled import own_connection
from .operations import operation
from .projects import MAX_PROJECTS
from .timezones import now_in
from .validation import ProjectCreate, TaskCreate, parse

MAX_BYTES = 50 * 1024 * 1024  # the import route's own body limit
MAX_TASKS = MAX_RECORDS  # checked as the file is read (myapp.importers.records)
TIME_BOUND_SECONDS = 120  # imports and exports, not the 15 s of other requests
MAX_DEPTH = 4  # levels of tasks (the tree trigger's limit)
BATCH = 2000  # rows per COPY: a progress event after each
PREVIEW_ROWS = 10
TASK_COPY_COLUMNS = ("id", "user_id", "project_id", "parent_id", "title", "description", "completed", "completed_at",
                     "due_date", "due_time", "recurrence_rule", "recurrence_anchor", "recurrence_mode", "priority",
                     "tags", "import_key", "created_at")


def _refused(message: str) -> ValidationError:
    return ValidationError(message, details={"file": message})


def _in_time(deadline: float) -> None:
    """QueryTimeout (503) once an import has run past its bound: it stops, and nothing stays."""
    if clock.monotonic() > deadline:
        raise QueryTimeout(f"The import took longer than {TIME_BOUND_SECONDS} s and was stopped: nothing was "
                           "imported. Split the file and import the parts.")


@dataclass
class _Existing:
    """A task an earlier import made (or, for this app's own export, the very task)."""

    id: uuid.UUID
    project_id: uuid.UUID
    depth: int


@dataclass(eq=False)
class _Task:
    """A record that passed its checks, as the row it becomes."""

    record: Record
    values: dict
    completions: list  # (due date, completed at) of a recurring task's past occurrences
    id: uuid.UUID = field(default_factory=uuid.uuid4)
    parent: _Task | None = None
    parent_existing: _Existing | None = None
    depth: int = 1
    project_id: uuid.UUID | None = None  # None: the Inbox


class _Plan:
    """What an import will write, worked out before anything is."""

    def __init__(self, parsed: Parsed, connection: Connection):
        self.parsed = parsed
        self.connection = connection  # the import's own, in its one transaction
        self.projects: dict[str, uuid.UUID] = {}  # lower(name) -> id (a new one's made here)
        self.named: dict[str, str] = {}  # a project's name as the file spells it -> its lower(name)
        self.new_projects: list[dict] = []
        self.tasks: list[_Task] = []
        self.existing: dict[str, _Existing] = {}  # the file's records this user has already
        self.earlier_parents: dict[str, _Existing] = {}  # parents named, not held, by the file
        self.projects_created = 0  # as made (a dry run: as it would make them)


def _report(plan: _Plan, dry_run: bool) -> dict:
    parsed = plan.parsed
    report = {
        "format": parsed.format,
        "dry_run": dry_run,
        "projects_created": plan.projects_created if not dry_run else len(plan.new_projects),
        "tasks_created": len(plan.tasks),
        "tasks_existing": len(plan.existing),
        "tasks_skipped": [{"line": line, "reason": reason} for line, reason in sorted(parsed.skipped)],
        "warnings": [{"line": line, "message": message} for line, message in sorted(parsed.warnings)],
        "preview": [_preview(task) for task in sorted(plan.tasks, key=lambda t: t.record.line)[:PREVIEW_ROWS]],
    }
    if parsed.mapping is not None:
        report["mapping"] = parsed.mapping
    return report


def _preview(task: _Task) -> dict:
    values = task.values
    return {"line": task.record.line, "title": values["title"], "project": task.record.project,
            "parent_line": task.parent.record.line if task.parent else None,
            "due_date": values["due_date"], "due_time": values["due_time"].strftime("%H:%M") if values["due_time"]
            else None, "recurrence": values["recurrence_rule"], "priority": values["priority"],
            "tags": values["tags"], "completed": values["completed"]}


@operation("user.import")
def import_file(user_id: uuid.UUID, data: bytes, filename: str = "", format: str | None = None,
                dry_run: bool = False, tz: str = "UTC") -> Iterator[dict]:
    """Import a file: progress events ({"stored", "total"}) while rows are written, then the
    report. Nothing is written on a dry run, or when anything fails (one transaction)."""
    deadline = clock.monotonic() + TIME_BOUND_SECONDS
    if format is not None and format not in importers.FORMATS:
        raise ValidationError(details={"format": f"Use one of {', '.join(importers.FORMATS)} (or none, to detect it)."})
    if len(data) > MAX_BYTES:
        raise _refused(f"This file is larger than {MAX_BYTES // (1024 * 1024)} MB, the most one import reads.")
    now = now_in(tz)
    try:
        parsed = importers.read(data, filename, format, tz, now)
    except importers.ImportRefused as error:
        raise _refused(str(error)) from None
    # A connection of the import's own, not the request's session: a streamed answer goes on
    # after the view has returned and the request's session has been closed. (The engine's
    # connections are in autocommit: this one is put in a transaction.)
    with own_connection("READ COMMITTED") as connection, \
            connection.begin():
        # One import per user at a time: what the second finds existing, the first has written.
        connection.execute(text("SELECT pg_advisory_xact_lock(hashtextextended('import of ' || :owner, 0))"),
                           {"owner": str(user_id)})
        plan = _Plan(parsed, connection)
        _match_projects(user_id, plan)
        _match_existing(user_id, plan)
        _check_records(plan, now.date(), deadline)
        _build_tree(plan)
        if not dry_run:
            _create_projects(user_id, plan)
            yield from _store(user_id, plan, deadline)
    yield _report(plan, dry_run)


_LOWERED = text("SELECT name, lower(name) FROM unnest(CAST(:names AS text[])) AS name")


def _match_projects(user_id, plan: _Plan) -> None:
    """The file's projects matched to the user's by name, in any letter case as PostgreSQL
    compares them (the unique index's lower(name)); the ones to make, and the limit."""
    rows = plan.connection.execute(text("SELECT id, lower(name) FROM projects WHERE user_id = :owner"),
                                   {"owner": user_id})
    plan.projects = {lowered: project_id for project_id, lowered in rows}
    existing = len(plan.projects)
    checked = []
    for spec in plan.parsed.projects:
        try:
            checked.append((spec, parse(ProjectCreate, {"name": spec.name, "color": spec.color})))
        except ValidationError:
            plan.parsed.warn(1, f"“{spec.name[:40]}” cannot be a project's name: its tasks go to the Inbox.")
    lowered = dict(plan.connection.execute(_LOWERED, {"names": [project.name for _, project in checked]}).all())
    for spec, project in checked:
        key = plan.named[spec.name] = lowered[project.name]
        if key not in plan.projects:
            plan.projects[key] = project_id = uuid.uuid4()
            plan.new_projects.append({"id": project_id, "name": project.name, "color": project.color,
                                      "archived": spec.archived, "key": key})
    if existing + len(plan.new_projects) > MAX_PROJECTS:
        raise _limit(len(plan.new_projects), existing)


def _limit(new: int, existing: int) -> ValidationError:
    return _refused(f"This import would make {new} new projects, and you have {existing}: at most {MAX_PROJECTS} "
                    "projects in all. Nothing was imported.")


_EXISTING = text("""
WITH RECURSIVE found AS (
    SELECT id, parent_id, project_id, import_key FROM tasks
    WHERE user_id = :owner AND (import_key = ANY(:keys) OR id = ANY(:ids))
), up(start, id, n) AS (
    SELECT id, parent_id, 1 FROM found
    UNION ALL
    SELECT up.start, t.parent_id, up.n + 1 FROM tasks AS t JOIN up ON t.id = up.id
    WHERE t.user_id = :owner AND up.id IS NOT NULL AND up.n < 8
)
SELECT found.id, found.project_id, found.import_key, max(up.n) AS depth
FROM found JOIN up ON up.start = found.id GROUP BY found.id, found.project_id, found.import_key
""")


def _match_existing(user_id, plan: _Plan) -> None:
    """The records this user has already: imported before (the same key), or, in a file this
    app exported, the very tasks it was made of (the source's id is the task's own)."""
    keys = [record.key for record in plan.parsed.records]
    wanted = set(keys)
    # Parents the file names but does not hold: tasks an earlier import made (a file split
    # in parts), or, in a file this app exported, tasks of this account.
    outside = {record.parent for record in plan.parsed.records if record.parent} - wanted
    asked = [*keys, *outside]
    if not asked:
        return
    by_id = {uuid.UUID(source_id): key for key in asked if _is_uuid(source_id := key.partition(":")[2])}
    for task_id, project_id, import_key, depth in plan.connection.execute(
            _EXISTING, {"owner": user_id, "keys": asked, "ids": list(by_id)}):
        for key in (import_key, by_id.get(task_id)):
            if key in wanted:
                plan.existing[key] = _Existing(task_id, project_id, depth)
            elif key in outside:
                plan.earlier_parents[key] = _Existing(task_id, project_id, depth)


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def _reason(error: ValidationError) -> str:
    return " ".join(f"{name.replace('_', ' ').capitalize()}: {message}" if name != "_" else message
                    for name, message in error.details.items())


def _check_records(plan: _Plan, today: date, deadline: float) -> None:
    """Each new record checked by the rules of a new task; the ones that break one skipped."""
    parsed = plan.parsed
    seen: set[str] = set()
    for record in parsed.records:
        _in_time(deadline)
        if record.key in plan.existing or record.key in seen:
            if record.key in seen:
                parsed.skip(record.line, "The same task (its id) is in this file twice: the first is kept.")
            continue
        seen.add(record.key)
        if record.problem:
            parsed.skip(record.line, record.problem)
            continue
        try:
            checked = parse(TaskCreate, {"title": record.title, "description": record.description,
                                         "due_date": record.due_date, "due_time": record.due_time,
                                         "priority": record.priority, "tags": record.tags,
                                         "completed": record.completed})
        except ValidationError as error:
            parsed.skip(record.line, _reason(error))
            continue
        values = checked.model_dump(exclude={"recurrence", "project_id", "parent_id"})
        values.update(_schedule(record, values, parsed, today))
        if values["due_time"] is not None and values["due_date"] is None:
            values["due_time"] = None
            parsed.warn(record.line, "A due time without a date: the time is left out.")
        values["completed_at"] = _moment(record.completed_at, record, parsed, "completion time") \
            if values["completed"] else None
        values["created_at"] = _moment(record.created_at, record, parsed, "creation time")
        completions = [(day, _moment(at, record, parsed, "completion time")) for day, at in record.completions]
        plan.tasks.append(_Task(record, values, [(day, at) for day, at in completions if at is not None]))


EARLIEST, LATEST = datetime(1900, 1, 1, tzinfo=UTC), datetime(9000, 1, 1, tzinfo=UTC)


def _moment(moment: datetime | None, record: Record, parsed: Parsed, what: str) -> datetime | None:
    """A timestamp of the file (one without a zone is read as UTC) within years PostgreSQL and
    every reader of it handle alike; outside them it is left out, with a warning."""
    if moment is None:
        return None
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    try:
        if EARLIEST <= moment <= LATEST:
            return moment.astimezone(UTC)  # (PostgreSQL takes offsets up to 15:59 only)
    except (OverflowError, ValueError):  # an offset that takes it past year 1 or 9999
        pass
    parsed.warn(record.line, f"The {what} {moment.isoformat()} is out of range: left out.")
    return None


def _schedule(record: Record, values: dict, parsed: Parsed, today: date) -> dict:
    """The schedule columns of a record's rule (kept as the source states it, from its due
    date, or from today without one); a rule outside the subset: no recurrence, a warning."""
    if not record.rule:
        return dict(scheduling.NONE)
    try:
        rule = recurrence.parse_rule(record.rule)
        start = values["due_date"] or today
        first = start if values["due_date"] else recurrence.first_on_or_after(rule, start, start)
        if first is None or not recurrence.has_dates(rule, first) or (rule.until and rule.until < first):
            raise recurrence.RuleError("it has no date from the task's due date on")
        rule = recurrence.with_count_as_until(scheduling.with_its_day(rule, first), first)
        text = recurrence.written(rule)
    except (recurrence.RuleError, ValueError, IndexError, OverflowError) as error:
        parsed.warn(record.line, f"The repeat rule “{str(record.rule)[:80]}” is not supported here ({error}): "
                                 "the task does not repeat.")
        return dict(scheduling.NONE)
    return {"due_date": first, "recurrence_rule": text, "recurrence_anchor": first,
            "recurrence_mode": record.mode if record.mode in recurrence.MODES else "due"}


def _build_tree(plan: _Plan) -> None:
    """Each task's parent (a task of the file, or one an earlier import made), depth and
    project: a subtask is in its parent's project; one whose parent was skipped goes under
    the nearest ancestor that was not; one that would be deeper than MAX_DEPTH goes under
    its ancestor at that depth's parent."""
    parsed = plan.parsed
    by_key = {task.record.key: task for task in plan.tasks}
    parents = {record.key: record.parent for record in parsed.records}
    stored = {**plan.earlier_parents, **plan.existing}  # tasks the user has: a parent as it is
    through: dict[str, str | None] = {}  # a skipped record -> its nearest ancestor kept (or None)

    def kept(key: str) -> str | None:
        """The nearest of this skipped record's ancestors that is kept (each skipped record
        on the way remembered, so a long chain is walked once)."""
        path: dict[str, None] = {}
        while key is not None and key not in by_key and key not in stored and key not in through:
            if key not in parents or key in path:  # outside the file, or a cycle of skipped records
                key = None
                break
            path[key] = None
            key = parents[key]
        if key is not None and key in through:
            key = through[key]
        through.update(dict.fromkeys(path, key))
        return key

    for task in plan.tasks:
        parent_key = task.record.parent
        if parent_key and parent_key not in by_key and parent_key not in stored:
            if parent_key not in parents:
                parsed.warn(task.record.line, "Its parent task is not in this file: it is a top-level task.")
                parent_key = None
            else:
                parent_key = kept(parent_key)
                parsed.warn(task.record.line, "Its parent task was skipped: it goes under the next task up."
                            if parent_key else "Its parent task was skipped: it is a top-level task.")
        task.parent = by_key.get(parent_key) if parent_key else None
        task.parent_existing = stored.get(parent_key) if parent_key else None
    _place(plan)


def _place(plan: _Plan) -> None:
    """Depths and projects, parents first; a cycle in the file is cut where it closes."""
    done: set[int] = set()
    for task in plan.tasks:
        chain, on_chain, node = [], set(), task
        while node is not None and id(node) not in done:
            if id(node) in on_chain:  # a cycle: this one becomes a top-level task, placed first
                plan.parsed.warn(node.record.line, "Its parents lead back to itself: it is a top-level task.")
                node.parent = None
                chain.remove(node)
                chain.append(node)
                break
            chain.append(node)
            on_chain.add(id(node))
            node = node.parent
        for node in reversed(chain):
            _place_one(plan, node)
            done.add(id(node))


def _place_one(plan: _Plan, task: _Task) -> None:
    existing = task.parent_existing
    if task.parent is not None:
        while task.parent is not None and task.parent.depth >= MAX_DEPTH:
            task.parent = task.parent.parent
            plan.parsed.warn(task.record.line, f"Tasks nest at most {MAX_DEPTH} levels: it goes one level up.")
        if task.parent is not None:
            task.depth, task.project_id = task.parent.depth + 1, task.parent.project_id
            return
    if existing is not None and existing.depth < MAX_DEPTH:
        task.depth, task.project_id = existing.depth + 1, existing.project_id
        return
    if existing is not None:
        task.parent_existing = None
        plan.parsed.warn(task.record.line, f"Tasks nest at most {MAX_DEPTH} levels: it is a top-level task.")
    task.depth = 1
    name = task.record.project
    task.project_id = plan.projects.get(plan.named.get(name)) if name else None


_PROJECTS = text("""
INSERT INTO projects (id, user_id, name, color, archived)
SELECT id, :owner, name, color, archived
FROM unnest(CAST(:ids AS uuid[]), CAST(:names AS text[]), CAST(:colors AS text[]), CAST(:archived AS boolean[]))
     WITH ORDINALITY AS p(id, name, color, archived, n)
ORDER BY n
ON CONFLICT (user_id, lower(name)) DO NOTHING
""")
_PROJECT_IDS = text("SELECT id, lower(name) FROM projects WHERE user_id = :owner AND lower(name) = ANY(:names)")


def _create_projects(user_id, plan: _Plan) -> None:
    """The new projects, in the file's order. One made meanwhile under the same name (by
    another request) is used instead; past the limit meanwhile, the import is refused."""
    if not plan.new_projects:
        return
    columns = {name: [project[name] for project in plan.new_projects] for name in ("id", "name", "color", "archived")}
    try:
        made = plan.connection.execute(_PROJECTS, {
            "owner": user_id, "ids": columns["id"], "names": columns["name"], "colors": columns["color"],
            "archived": columns["archived"]})
    except IntegrityError as error:  # the trigger's limit, reached by projects made meanwhile
        if getattr(getattr(error.orig, "diag", None), "constraint_name", None) != "projects_per_user":
            raise
        raise _refused(f"This import would make {len(plan.new_projects)} new projects, more than fit beside the "
                       f"projects made meanwhile: at most {MAX_PROJECTS} projects in all. Nothing was imported.") \
            from error
    plan.projects_created = made.rowcount
    if made.rowcount < len(plan.new_projects):
        plan.projects.update({key: project_id for project_id, key in plan.connection.execute(
            _PROJECT_IDS, {"owner": user_id, "names": [project["key"] for project in plan.new_projects]})})
        for task in sorted(plan.tasks, key=lambda task: task.depth):  # parents first: subtasks follow them
            if task.parent is not None:
                task.project_id = task.parent.project_id
            elif task.parent_existing is None and task.record.project:
                task.project_id = plan.projects.get(plan.named.get(task.record.project))


def _store(user_id, plan: _Plan, deadline: float) -> Iterator[dict]:
    """COPY the tasks, parents before subtasks, BATCH rows at a time, then the completions."""
    tasks = sorted(plan.tasks, key=lambda task: task.depth)  # stable: the file's order within a level
    total, stored = len(tasks), 0
    # Without a creation time of their own, tasks are made in the file's order (a microsecond apart).
    first = datetime.now(UTC) - timedelta(microseconds=max((task.record.line for task in tasks), default=0))
    driver = plan.connection.connection.driver_connection
    yield {"stored": 0, "total": total}
    columns = ", ".join(TASK_COPY_COLUMNS)
    while stored < total:
        batch = tasks[stored:stored + BATCH]
        with driver.cursor() as cursor, cursor.copy(f"COPY tasks ({columns}) FROM STDIN") as copy:
            for task in batch:
                values = task.values
                copy.write_row((
                    task.id, user_id, task.project_id,
                    task.parent.id if task.parent else task.parent_existing.id if task.parent_existing else None,
                    values["title"], values["description"], values["completed"], values["completed_at"],
                    values["due_date"], values["due_time"], values["recurrence_rule"], values["recurrence_anchor"],
                    values["recurrence_mode"], values["priority"], values["tags"], task.record.key,
                    values["created_at"] or first + timedelta(microseconds=task.record.line)))
        stored += len(batch)
        _in_time(deadline)
        yield {"stored": stored, "total": total}
    with driver.cursor() as cursor, cursor.copy(
            "COPY task_completions (task_id, user_id, due_date, anchor, completed_at) FROM STDIN") as copy:
        for task in plan.tasks:
            if task.values["recurrence_rule"] is not None:
                for due_date, completed_at in task.completions:
                    copy.write_row((task.id, user_id, due_date, due_date, completed_at))
