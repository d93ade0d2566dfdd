"""Idempotency keys: a retried POST gets the first answer instead of a second task.

A key belongs to one user and one request body. The key row and the task are written
in one transaction, and the key is claimed first with INSERT ... ON CONFLICT DO
NOTHING: a concurrent request with the same key waits on the unique index until the
first commits, then finds the row and replays it. No session state, so it works
through PgBouncer in transaction mode.
"""
from __future__ import annotations

import hashlib
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert

from ..errors import IdempotencyKeyReused
from ..extensions import db
from ..models import IdempotencyKey
from ..serializers import task_to_json
from . import tasks
from .operations import operation, rollback
from .validation import TaskCreate, parse

# How long a key is remembered (clients retry within minutes; Stripe keeps keys a day).
KEY_LIFETIME = timedelta(hours=24)


@dataclass(frozen=True)
class StoredResponse:
    status: int
    body: dict
    replayed: bool  # True when this is the first answer given again


def _fingerprint(values: TaskCreate) -> str:
    """The request as validated, so that retries differing only in form (spacing, key order) match."""
    return hashlib.sha256(values.model_dump_json().encode()).hexdigest()


@operation("task.create_once")
def create_task_once(user_id: uuid.UUID, key: str, data: Mapping[str, Any]) -> StoredResponse:
    """Create a task, unless this user's `key` did already: then that first answer.

    The same key with a different body raises IdempotencyKeyReused. Invalid input is
    not remembered (it is rejected the same way every time).
    """
    values = parse(TaskCreate, data)
    fingerprint = _fingerprint(values)
    owned = (IdempotencyKey.user_id == user_id, IdempotencyKey.key == key)
    db.session.execute(delete(IdempotencyKey).where(
        IdempotencyKey.user_id == user_id, IdempotencyKey.created_at < func.now() - KEY_LIFETIME))
    claimed = db.session.execute(
        insert(IdempotencyKey).values(user_id=user_id, key=key, request_hash=fingerprint,
                                      status_code=0, response_body={})  # filled in below, same transaction
        .on_conflict_do_nothing().returning(IdempotencyKey.key)).first()
    if claimed is None:
        first = db.session.execute(select(IdempotencyKey.request_hash, IdempotencyKey.status_code,
                                          IdempotencyKey.response_body).where(*owned)).one()
        rollback()
        if first.request_hash != fingerprint:
            raise IdempotencyKeyReused()
        return StoredResponse(first.status_code, first.response_body, replayed=True)

    body = task_to_json(tasks.insert_task(user_id, values))
    db.session.execute(update(IdempotencyKey).where(*owned).values(status_code=201, response_body=body))
    db.session.commit()
    return StoredResponse(201, body, replayed=False)
