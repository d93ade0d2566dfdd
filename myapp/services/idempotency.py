"""Idempotency keys: a retried POST gets the task its first attempt created, not a second one.

A key belongs to one user and one request body, and remembers the id of the task it
created (never the task's text: a deleted task leaves nothing behind here). Claiming
the key and inserting the task are one statement, so they land together, in one round
trip: a concurrent request with the same key waits on the key's unique index until
the first is done, then finds the key taken and answers with that task. Expired keys
are purged a batch at a time by every keyed request (and by `flask maintenance purge`).
"""
from __future__ import annotations

import hashlib
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, func, insert, literal, select, tuple_
from sqlalchemy import exc as sa_exc
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.engine import Row

from ..errors import Gone, IdempotencyKeyReused
from ..extensions import db
from ..models import IdempotencyKey, Task
from .operations import operation
from .tasks import NEW_TASK_COLUMNS, TASK_COLUMNS, T, creation_values, placement, placement_error
from .validation import TaskCreate, parse

# How long a key is remembered (clients retry within minutes; Stripe keeps keys a day).
KEY_LIFETIME = timedelta(hours=24)
# Expired keys deleted per request: bounded work, whatever the backlog.
PURGE_BATCH = 100

K = IdempotencyKey.__table__.c


@dataclass(frozen=True)
class Created:
    task: Row
    replayed: bool  # True when the key had already created it


def _fingerprint(values: TaskCreate, request: str | None) -> str:
    """The request as validated, so that retries differing only in form (spacing, key order)
    match; or, for a quick add, the line as sent (what it means depends on the day)."""
    return hashlib.sha256((request or values.model_dump_json()).encode()).hexdigest()


def purge_expired(limit: int = PURGE_BATCH):
    """DELETE of up to `limit` expired keys (of any user), oldest first."""
    expired = select(K.user_id, K.key).where(K.created_at < func.now() - KEY_LIFETIME) \
        .order_by(K.created_at).limit(limit)
    return delete(IdempotencyKey).where(tuple_(K.user_id, K.key).in_(expired))


def _claim_and_create(user_id: uuid.UUID, key: str, fingerprint: str, values: TaskCreate, tz: str) -> Row | None:
    """The new task, or None if the key is taken (and not expired)."""
    task_id = uuid.uuid4()  # chosen here, so that the key can name the task in the same statement
    claim = pg_insert(IdempotencyKey).values(user_id=user_id, key=key, request_hash=fingerprint, task_id=task_id)
    claim = claim.on_conflict_do_update(
        index_elements=[K.user_id, K.key],
        set_={"request_hash": claim.excluded.request_hash, "task_id": claim.excluded.task_id,
              "created_at": func.now()},
        where=K.created_at < func.now() - KEY_LIFETIME,  # an expired key is free again
    ).returning(K.task_id).cte("claim")
    fields = creation_values(values, tz)
    owner = literal(user_id, T.user_id.type)
    project = placement(owner, literal(fields.pop("project_id"), T.project_id.type),
                        literal(fields["parent_id"], T.parent_id.type))
    # INSERT INTO tasks ... SELECT ... FROM claim: no row claimed, no task.
    chosen = select(claim.c.task_id, owner, project, *(literal(value, T[name].type) for name, value in fields.items()))
    statement = insert(Task).from_select(["id", "user_id", "project_id", *fields], chosen) \
        .returning(*NEW_TASK_COLUMNS)
    try:
        return db.session.execute(statement.add_cte(purge_expired().cte("purged"))).first()
    except sa_exc.IntegrityError as error:
        raise placement_error(error, user_id, values.project_id, values.parent_id) or error from None


def _first_answer(user_id: uuid.UUID, key: str) -> Row | None:
    return db.session.execute(
        select(*TASK_COLUMNS, K.request_hash, K.task_id)
        .join_from(IdempotencyKey, Task, (T.id == K.task_id) & (T.user_id == K.user_id), isouter=True)
        .where(K.user_id == user_id, K.key == key)).first()


@operation("task.create_once")
def create_task_once(user_id: uuid.UUID, key: str, data: Mapping[str, Any], tz: str = "UTC",
                     request: str | None = None) -> Created:
    """Create a task, unless this user's `key` did already: then that task, as it is now.

    The same key with a different body raises IdempotencyKeyReused; a key whose task
    was deleted since raises Gone. Invalid input is not remembered (it is rejected the
    same way every time).
    """
    values = parse(TaskCreate, data)
    fingerprint = _fingerprint(values, request)
    task = _claim_and_create(user_id, key, fingerprint, values, tz)
    if task is not None:
        return Created(task, replayed=False)
    first = _first_answer(user_id, key)
    if first is None:  # expired and purged between the two statements: claim it afresh
        task = _claim_and_create(user_id, key, fingerprint, values, tz)
        if task is not None:
            return Created(task, replayed=False)
        first = _first_answer(user_id, key)
    if first.request_hash != fingerprint:
        raise IdempotencyKeyReused()
    if first.task_id is None:
        raise Gone("The task this Idempotency-Key created has been deleted since.")
    return Created(first, replayed=True)
