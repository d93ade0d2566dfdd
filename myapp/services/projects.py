"""Projects: every read and write, always filtered by the acting user's id.

Each user has one Inbox (made with the account by a trigger); it cannot be renamed,
archived or deleted. The counts are kept on the project rows by the tasks' trigger;
version and updated_at move only when what the user set changes. A project that does
not exist and one owned by someone else are the same to the caller: NotFound.
"""
from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import and_, any_, bindparam, delete, func, or_, select, text, update
from sqlalchemy import exc as sa_exc
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Row
from sqlalchemy.types import Integer, Text

from ..database import rollback
from ..errors import Conflict, NotFound, ValidationError
from ..extensions import db
from ..models import Project, Task
from .compiled import Compiled
from .operations import operation, transaction
from .validation import PROJECT_NOT_FOUND, ProjectCreate, ProjectUpdate, existing_id, parse, versions

P = Project.__table__.c
T = Task.__table__.c
PROJECT_COLUMNS = (P.id, P.name, P.color, P.position, P.archived, P.is_inbox, P.active_count, P.completed_count,
                   P.version, P.created_at, P.updated_at)
# A project's entity tag: its version and the counts it shows ("4.12.30").
PROJECT_TAG = func.concat_ws(".", P.version, P.active_count, P.completed_count)
ORDER = (P.is_inbox.desc(), P.position, P.created_at, P.id)
MAX_PROJECTS = 300
NAME_TAKEN = "You already have a project with this name."
INBOX_FIXED = {"name": "The Inbox cannot be renamed.", "archived": "The Inbox cannot be archived.",
               "position": "The Inbox stays first."}

_OWNED = and_(P.id == bindparam("project"), P.user_id == bindparam("owner"))
_ACCEPTED = or_(P.version == any_(bindparam("accepted", type_=ARRAY(Integer))),
                any_(bindparam("accepted_tags", type_=ARRAY(Text))) == PROJECT_TAG)
_GET = Compiled(select(*PROJECT_COLUMNS).where(_OWNED))
_LIST = Compiled(select(*PROJECT_COLUMNS).where(P.user_id == bindparam("owner")).order_by(*ORDER))


def _project_uuid(project_id: Any) -> uuid.UUID:
    return existing_id(project_id, PROJECT_NOT_FOUND)


def _refused(error: sa_exc.IntegrityError) -> ValidationError | None:
    constraint = getattr(getattr(error.orig, "diag", None), "constraint_name", None)
    if constraint == "uq_projects_user_name":
        return ValidationError(details={"name": NAME_TAKEN})
    if constraint == "projects_per_user":
        return ValidationError(details={"name": f"You have {MAX_PROJECTS} projects, the most there can be."})
    return None


@operation("project.list")
def list_projects(user_id: uuid.UUID) -> list[Row]:
    """All of the user's projects, archived ones included, in the user's order (Inbox first)."""
    return _LIST.rows(owner=user_id)


@operation("project.get")
def get_project(user_id: uuid.UUID, project_id: Any) -> Row:
    project = _GET.first(project=_project_uuid(project_id), owner=user_id)
    if project is None:
        raise NotFound(PROJECT_NOT_FOUND)
    return project


@operation("project.create")
def create_project(user_id: uuid.UUID, data: Mapping[str, Any]) -> Row:
    """A new project, last in the user's order (the trigger places it and counts to 300)."""
    values = parse(ProjectCreate, data).model_dump()
    statement = Project.__table__.insert().values(user_id=user_id, **values).returning(*PROJECT_COLUMNS)
    try:
        return db.session.execute(statement).first()
    except sa_exc.IntegrityError as error:
        raise _refused(error) or error from None


def _raise_missing_or_stale(user_id, project_id):
    current = _GET.first(project=_project_uuid(project_id), owner=user_id)
    rollback()
    if current is None:
        raise NotFound(PROJECT_NOT_FOUND)
    raise Conflict(current, "This project was changed meanwhile.")


def _check_expected(condition, expected) -> tuple:
    if expected is None:
        return condition, {}
    return and_(condition, _ACCEPTED), {"accepted": list(expected.versions), "accepted_tags": list(expected.tags)}


@operation("project.update")
def update_project(user_id: uuid.UUID, project_id: Any, data: Mapping[str, Any], expected_version=None) -> Row:
    """Rename, recolour, archive or unarchive, place. The Inbox keeps its name and place."""
    changes = parse(ProjectUpdate, data).changes()
    project = get_project(user_id, project_id)
    if project.is_inbox:
        refused = {field: message for field, message in INBOX_FIXED.items()
                   if field in changes and changes[field] != getattr(project, field)}
        if refused:
            raise ValidationError(details=refused)
    condition, params = _check_expected(_OWNED, versions(expected_version))
    statement = update(Project).where(condition).values(**changes).returning(*PROJECT_COLUMNS)
    try:
        row = db.session.execute(statement, {"project": project.id, "owner": user_id, **params}).first()
    except sa_exc.IntegrityError as error:
        raise _refused(error) or error from None
    if row is None:
        _raise_missing_or_stale(user_id, project.id)
    return row


# Moving one step up or down: number the user's projects (Inbox aside) in their order and
# swap the project's number with its neighbour's, in one statement. Numbers that do not
# change are not written.
_MOVE = Compiled(text("""
WITH ordered AS (
    SELECT id, row_number() OVER (ORDER BY position, created_at, id) AS n
    FROM projects WHERE user_id = :owner AND NOT is_inbox
), target AS (
    SELECT n FROM ordered WHERE id = :project
), numbered AS (
    SELECT o.id, CASE WHEN o.n = t.n THEN t.n + :step WHEN o.n = t.n + :step THEN t.n ELSE o.n END AS position
    FROM ordered AS o, target AS t
    WHERE EXISTS (SELECT 1 FROM ordered WHERE n = t.n + :step)
)
UPDATE projects AS p SET position = numbered.position
FROM numbered WHERE p.id = numbered.id AND p.user_id = :owner AND p.position <> numbered.position
RETURNING p.id
""").bindparams(bindparam("owner", type_=P.user_id.type), bindparam("project", type_=P.id.type),
                bindparam("step", type_=Integer())))


@operation("project.move")
def move_project(user_id: uuid.UUID, project_id: Any, direction: str) -> Row:
    """One place up or down in the user's order; at either end, nothing changes."""
    if direction not in ("up", "down"):
        raise ValidationError(details={"direction": "Must be up or down."})
    project = get_project(user_id, project_id)
    if project.is_inbox:
        raise ValidationError(details={"position": INBOX_FIXED["position"]})
    _MOVE.rows(owner=user_id, project=project.id, step=-1 if direction == "up" else 1)
    return get_project(user_id, project.id)


@operation("project.delete")
def delete_project(user_id: uuid.UUID, project_id: Any, move_to: Any = None, expected_version=None) -> None:
    """Delete the project and its tasks, or first move its tasks (with their subtasks) to
    the project `move_to`, in one transaction."""
    project_uuid = _project_uuid(project_id)
    target = None
    if move_to is not None and move_to != "":
        try:
            target = _project_uuid(move_to)
        except NotFound:
            raise ValidationError(details={"move_to": PROJECT_NOT_FOUND}) from None
    condition, params = _check_expected(and_(_OWNED, P.is_inbox.is_(False)), versions(expected_version))
    with transaction():
        project = _GET.first(project=project_uuid, owner=user_id)
        if project is None:
            raise NotFound(PROJECT_NOT_FOUND)
        if project.is_inbox:
            raise ValidationError(details={"_": "The Inbox cannot be deleted."})
        if target is not None:
            if target == project.id:
                raise ValidationError(details={"move_to": "Choose another project to move the tasks to."})
            owned_target = select(P.id).where(P.id == target, P.user_id == user_id).with_for_update(key_share=True)
            if db.session.execute(owned_target).first() is None:
                raise ValidationError(details={"move_to": PROJECT_NOT_FOUND})
            # Root tasks only: their subtasks follow by the foreign key's cascade.
            db.session.execute(update(Task).where(T.user_id == user_id, T.project_id == project.id,
                                                  T.parent_id.is_(None)).values(project_id=target))
        deleted = db.session.execute(delete(Project).where(condition).returning(P.id),
                                     {"project": project.id, "owner": user_id, **params}).first()
        if deleted is None:
            _raise_missing_or_stale(user_id, project.id)

