"""Housekeeping an operator schedules (`flask maintenance purge`): what has expired goes."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, func, select

from ..extensions import db
from ..models import SignIn
from .idempotency import purge_expired
from .operations import operation
from .signins import LIFETIME

BATCH = 1000  # rows per statement: each one short, whatever the backlog


@dataclass(frozen=True)
class Purged:
    idempotency_keys: int
    sign_ins: int


def _ended_sign_ins(limit: int):
    ended = select(SignIn.id).where(SignIn.last_seen_at < func.now() - LIFETIME).limit(limit)
    return delete(SignIn).where(SignIn.id.in_(ended))


def _in_batches(statement_for) -> int:
    total = 0
    while (deleted := db.session.execute(statement_for(BATCH)).rowcount) > 0:
        total += deleted
    return total


@operation("maintenance.purge")
def purge() -> Purged:
    """Delete expired idempotency keys and ended sign-ins of every user, a batch at a time."""
    return Purged(_in_batches(purge_expired), _in_batches(_ended_sign_ins))
