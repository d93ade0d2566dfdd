"""Everything stored for a user, for them to take away: read from one consistent snapshot,
the tasks in keyset batches, handed on one record at a time (myapp.exports writes them)."""
from __future__ import annotations

import time as clock
import uuid
from collections.abc import Iterator

from sqlalchemy import any_, bindparam, select, tuple_
from sqlalchemy.dialects.postgresql import ARRAY

from ..errors import NotFound, QueryTimeout
from ..models import TaskCompletion
from .compiled import own_connection
from .imports import TIME_BOUND_SECONDS
from .operations import operation
from .projects import ORDER, PROJECT_COLUMNS, P
from .tasks import TASK_COLUMNS, T
from .tokens import TOKEN_COLUMNS, K
from .users import ACCOUNT_COLUMNS, U, account

BATCH = 1000
C = TaskCompletion.__table__.c
_TASKS = select(*TASK_COLUMNS).where(T.user_id == bindparam("owner")).order_by(T.created_at, T.id).limit(BATCH)
_TASKS_AFTER = _TASKS.where(tuple_(T.created_at, T.id) > tuple_(bindparam("created_at"), bindparam("id")))
_COMPLETIONS = select(C.task_id, C.due_date, C.completed_at).where(
    C.user_id == bindparam("owner"), C.task_id == any_(bindparam("tasks", type_=ARRAY(C.task_id.type)))
).order_by(C.task_id, C.completed_at)


@operation("user.export")
def export_records(user_id: uuid.UUID) -> Iterator[tuple]:
    """("user", account), then ("project", row) each, ("task", row, completions) each, in the
    order they were made, and ("token", row) each (no token's hash), all as of one moment."""
    deadline = clock.monotonic() + TIME_BOUND_SECONDS
    # A connection of the export's own, not the request's session: the answer streams on
    # after the view has returned and the request's session has been closed.
    with own_connection("REPEATABLE READ") as connection, \
            connection.begin():
        user = connection.execute(select(*ACCOUNT_COLUMNS).where(U.id == user_id)).first()
        if user is None:
            raise NotFound("Account not found.")
        yield "user", account(user)
        for project in connection.execute(select(*PROJECT_COLUMNS).where(P.user_id == user_id).order_by(*ORDER)):
            yield "project", project
        batch = connection.execute(_TASKS, {"owner": user_id}).all()
        while batch:
            completions: dict[uuid.UUID, list] = {}
            for row in connection.execute(_COMPLETIONS, {"owner": user_id, "tasks": [task.id for task in batch]}):
                completions.setdefault(row.task_id, []).append(row)
            for task in batch:
                yield "task", task, completions.get(task.id, [])
            if len(batch) < BATCH:
                break
            if clock.monotonic() > deadline:  # the answer is cut short: a file that does not parse
                raise QueryTimeout(f"The export took longer than {TIME_BOUND_SECONDS} s and was stopped.")
            last = batch[-1]
            batch = connection.execute(_TASKS_AFTER, {"owner": user_id, "created_at": last.created_at,
                                                      "id": last.id}).all()
        for token in connection.execute(select(*TOKEN_COLUMNS).where(K.user_id == user_id).order_by(K.created_at)):
            yield "token", token
